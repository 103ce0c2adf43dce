"""The order-check cases: for every avoid entry, a draft it fires on and a patient where it stays silent.

Each case names, in a sentence, a patient (``Spec``), the draft orders of the session and the
draft being checked, and what the guideline says should happen: ``fires`` (the catalog entry's card
names that draft) or not. ``alternatives`` are the ActivityDefinitions the catalog's "offers" names
as the replacement, where it names one. The same cases run through the engine (PatientFacts) and
through both order hooks over HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cds_service.facts.model import ImagingKind
from tests.orders.scenario import Line, Spec, draft_med, draft_service
from tests.support import fhir as F


@dataclass(frozen=True)
class Case:
    name: str
    rec_id: str
    fires: bool
    spec: Spec
    drafts: tuple[dict[str, Any], ...]
    target: str  # the id of the draft the entry speaks to
    alternatives: tuple[tuple[str, ...], ...] = field(default=())  # expected create offers (activity ids)

    @property
    def target_draft(self) -> dict[str, Any]:
        return next(d for d in self.drafts if d["id"] == self.target)


# ---------------------------------------------------------------- drafts (coded with verified codes, or text)

BIOPSY = draft_service("biopsy", F.cc(F.SNOMED, "86273004", "Biopsy (procedure)"), "CT-guided liver biopsy")
SSTR_PET = draft_service("sstr-pet", F.cc(F.SNOMED, "764695006", "PET using gallium (68-Ga) dotatate"))
SSTR_PET_TEXT = draft_service(
    "sstr-pet-local",
    F.cc("urn:oid:1.2.3.4.5.local-orders", "IMG4471", "Ga-68 DOTATATE PET/CT"),
    "Ga-68 DOTATATE PET/CT",
)
BRAIN_MRI = draft_service("brain-mri", F.cc(F.LOINC, "24587-8", "MR Brain WO and W contrast IV"))
BRAIN_MRI_CPT = draft_service("brain-mri-cpt", F.cc(F.CPT, "70553", "MRI brain with and without contrast"))
CGA = draft_service("cga", F.cc(F.LOINC, "9811-1", "Chromogranin A [Mass/volume] in Serum or Plasma"))
FIVE_HIAA = draft_service("five-hiaa", F.cc(F.LOINC, "1695-6", "5-HIAA 24 hour urine"))
CTDNA = draft_service("ctdna", text="Circulating tumor DNA (ctDNA) liquid biopsy panel")
ECHO = draft_service("echo", F.cc(F.SNOMED, "40701008", "Echocardiography"))
GERMLINE = draft_service("germline", text="Germline genetic testing (hereditary cancer panel)")
RADIATION = draft_service("radiation", F.cc(F.SNOMED, "33195004", "Teleradiotherapy procedure"))
CHEMORADIATION = draft_service("chemoradiation", text="Concurrent chemoradiation, pancreas")
ROBOTIC_HYSTERECTOMY = draft_service("robotic-rh", text="Robotic radical hysterectomy with sentinel lymph node biopsy")
OPEN_HYSTERECTOMY = draft_service("open-rh", text="Radical hysterectomy (open) with pelvic lymphadenectomy")
TRACHELECTOMY = draft_service("trachelectomy", text="Radical trachelectomy")
CONIZATION = draft_service("conization", text="Cold knife cone biopsy of the cervix")
TACE = draft_service("tace", text="TACE (hepatic arterial chemoembolization) of liver metastases")
TARE = draft_service("tare", text="Y-90 radioembolization (TARE), right lobe")
OCTREOTIDE = draft_med("octreotide", text="Octreotide LAR 30 mg IM every 4 weeks")
LANREOTIDE = draft_med("lanreotide", text="Lanreotide 120 mg deep subcutaneous every 4 weeks")
CISPLATIN = draft_med("cisplatin", "cisplatin")
CARBOPLATIN = draft_med("carboplatin", "carboplatin")
ETOPOSIDE = draft_med("etoposide", "etoposide")
IRINOTECAN = draft_med("irinotecan", "irinotecan")
PEMBROLIZUMAB = draft_med("pembrolizumab", "pembrolizumab")
ATEZOLIZUMAB = draft_med("atezolizumab", text="Atezolizumab 1200 mg IV")
NIVOLUMAB = draft_med("nivolumab", text="Nivolumab 240 mg IV")
IPILIMUMAB = draft_med("ipilimumab", text="Ipilimumab 1 mg/kg IV")
TOPOTECAN = draft_med("topotecan", text="Topotecan 1.5 mg/m2 IV days 1-5")
DOXORUBICIN = draft_med("doxorubicin", text="Doxorubicin 60 mg/m2 IV")
LUTATHERA = draft_med("lutathera", text="Lutathera (lutetium Lu 177 dotatate) 7.4 GBq")
EVEROLIMUS = draft_med("everolimus", text="Everolimus 10 mg PO daily")
SUNITINIB = draft_med("sunitinib", "sunitinib")
DEBULKING = draft_service("debulking", text="Hepatic metastasectomy / cytoreductive surgery")
PCI = draft_service("pci", text="Prophylactic cranial irradiation (PCI)")
CT_ABDOMEN = draft_service("ct", F.cc(F.SNOMED, "1148701004", "CT of abdomen and pelvis with IV contrast"))

# ---------------------------------------------------------------- patients

NEC_MET = Spec()  # pancreatic NEC, Ki-67 80%, liver metastases, diagnosed 30 days ago, untreated
NEC_ON_EP = Spec(lines=(Line(("cisplatin", "etoposide"), start=20),))
NEC_AFTER_EP = Spec(diagnosed=300, lines=(Line(("carboplatin", "etoposide"), start=280, end=120),), progression=10)
NET_MET = Spec(kind="NET", ki67=35, met_sites=("liver",))
NET_MET_HIGH_KI67 = Spec(kind="NET", ki67=70, met_sites=("liver",))
NET_LOCAL = Spec(kind="NET", ki67=30, stage="localized", met_sites=())
CERVIX_NEC = Spec(kind="SCNEC", site="C53.9", stage="localized", met_sites=(), figo="IB1")

# ---------------------------------------------------------------- the cases

CASES: tuple[Case, ...] = (
    # -- pathology
    Case(
        "a second biopsy for a metastatic NEC already diagnosed on tissue, no progression since",
        "path.single-biopsy",
        True,
        NEC_MET,
        (BIOPSY,),
        "biopsy",
    ),
    Case(
        "a biopsy for a suspected (provisional) NEN diagnosis is how the diagnosis is made",
        "path.single-biopsy",
        False,
        Spec(suspected=True),
        (BIOPSY,),
        "biopsy",
    ),
    Case(
        "a biopsy at progression of a metastatic NEC on first-line therapy",
        "path.rebiopsy-nec-progression",
        True,
        Spec(diagnosed=200, lines=(Line(("cisplatin", "etoposide"), start=180),), progression=5),
        (BIOPSY,),
        "biopsy",
    ),
    Case(
        "re-biopsy of a progressing G3 NET is reasonable (may change treatment)",
        "path.rebiopsy-nec-progression",
        False,
        Spec(
            kind="NET",
            ki67=40,
            diagnosed=200,
            lines=(Line(("capecitabine", "temozolomide"), start=180),),
            progression=5,
        ),
        (BIOPSY,),
        "biopsy",
    ),
    # -- imaging
    Case(
        "SSTR-PET for a newly diagnosed NEC (coded order)",
        "workup.nec.no-baseline-sstr-pet",
        True,
        NEC_MET,
        (SSTR_PET,),
        "sstr-pet",
        (("sr-fdg-pet",),),
    ),
    Case(
        "SSTR-PET for a newly diagnosed NEC, ordered with a local code and the text 'Ga-68 DOTATATE PET/CT'",
        "workup.nec.no-baseline-sstr-pet",
        True,
        NEC_MET,
        (SSTR_PET_TEXT,),
        "sstr-pet-local",
        (("sr-fdg-pet",),),
    ),
    Case(
        "SSTR-PET at baseline for a G3 NET is recommended",
        "workup.nec.no-baseline-sstr-pet",
        False,
        Spec(kind="NET", ki67=35),
        (SSTR_PET,),
        "sstr-pet",
    ),
    Case(
        "brain MRI for an asymptomatic NEC with liver metastases only",
        "workup.nec.no-routine-brain-imaging",
        True,
        NEC_MET,
        (BRAIN_MRI,),
        "brain-mri",
    ),
    Case(
        "brain MRI for a NEC with neurological symptoms is indicated",
        "workup.nec.no-routine-brain-imaging",
        False,
        Spec(neuro_symptoms=True),
        (BRAIN_MRI,),
        "brain-mri",
    ),
    Case(
        "brain MRI for a NEC with a high systemic disease burden may be considered",
        "workup.nec.no-routine-brain-imaging",
        False,
        Spec(met_sites=("liver", "bone", "lung"), high_burden=True),
        (BRAIN_MRI,),
        "brain-mri",
    ),
    Case(
        "baseline brain MRI for an asymptomatic G3 NET",
        "workup.net.no-baseline-brain-imaging",
        True,
        NET_MET,
        (BRAIN_MRI_CPT,),
        "brain-mri-cpt",
    ),
    Case(
        "brain MRI for a G3 NET with neurological symptoms is indicated",
        "workup.net.no-baseline-brain-imaging",
        False,
        Spec(kind="NET", ki67=35, neuro_symptoms=True),
        (BRAIN_MRI_CPT,),
        "brain-mri-cpt",
    ),
    # -- biomarkers, hereditary
    Case(
        "chromogranin A for a NEC without a hormonal syndrome",
        "workup.nec.no-biomarkers",
        True,
        NEC_MET,
        (CGA,),
        "cga",
    ),
    Case(
        "hormone-related markers for a NEC with a recorded hormonal syndrome",
        "workup.nec.no-biomarkers",
        False,
        Spec(hormonal_syndrome=True),
        (CGA,),
        "cga",
    ),
    Case(
        "chromogranin A to monitor a non-functional G3 NET on CAPTEM",
        "workup.net.no-biomarker-monitoring",
        True,
        Spec(kind="NET", ki67=35, diagnosed=200, lines=(Line(("capecitabine", "temozolomide"), start=150),)),
        (CGA,),
        "cga",
    ),
    Case(
        "5-HIAA for a G3 NET with suspected carcinoid syndrome (hormone levels matched to the syndrome)",
        "workup.net.no-biomarker-monitoring",
        False,
        Spec(
            kind="NET",
            site="C17.2",
            ki67=30,
            diagnosed=200,
            carcinoid_syndrome="suspected",
            lines=(Line(("capecitabine", "temozolomide"), start=150),),
        ),
        (FIVE_HIAA,),
        "five-hiaa",
    ),
    Case(
        "chromogranin A at the initial assessment of a non-functional G3 NET (no consensus: info)",
        "workup.net.biomarkers-at-diagnosis",
        True,
        NET_MET,
        (CGA,),
        "cga",
    ),
    Case(
        "chromogranin A at diagnosis of a G3 NET with carcinoid syndrome",
        "workup.net.biomarkers-at-diagnosis",
        False,
        Spec(kind="NET", site="C17.2", ki67=30, carcinoid_syndrome="confirmed"),
        (CGA,),
        "cga",
    ),
    Case(
        "ctDNA testing outside a clinical trial (investigational: info)",
        "workup.no-ctdna",
        True,
        NEC_MET,
        (CTDNA,),
        "ctdna",
    ),
    Case(
        "ctDNA for a G2 NET: the guideline does not apply",
        "workup.no-ctdna",
        False,
        Spec(kind="NET", ki67=12),
        (CTDNA,),
        "ctdna",
    ),
    Case(
        "germline testing with the G3 NEN diagnosis as the only indication",
        "hereditary.no-routine-germline",
        True,
        NEC_MET,
        (GERMLINE,),
        "germline",
    ),
    Case(
        "germline testing for an MSI-high NEC (Lynch evaluation is another indication)",
        "hereditary.no-routine-germline",
        False,
        Spec(msi_high=True),
        (GERMLINE,),
        "germline",
    ),
    # -- cardiac
    Case(
        "echocardiogram for a G3 NET without carcinoid syndrome, raised 5-HIAA or cardiac symptoms",
        "cardiac.no-routine-echo",
        True,
        NET_MET,
        (ECHO,),
        "echo",
    ),
    Case(
        "echocardiogram after an elevated 5-HIAA is recommended",
        "cardiac.no-routine-echo",
        False,
        Spec(kind="NET", site="C17.2", ki67=30, carcinoid_syndrome="suspected", five_hiaa_elevated=True),
        (ECHO,),
        "echo",
    ),
    Case(
        "echocardiogram for cardiac symptoms",
        "cardiac.no-routine-echo",
        False,
        Spec(kind="NET", ki67=30, cardiac_symptoms=True),
        (ECHO,),
        "echo",
    ),
    # -- localized GI
    Case(
        "radiation before resection of a localized pancreatic G3 NET",
        "local.net.no-neoadjuvant-rt",
        True,
        NET_LOCAL,
        (RADIATION,),
        "radiation",
    ),
    Case(
        "radiation after resection of a G3 NET (adjuvant: lack of consensus, not this warning)",
        "local.net.no-neoadjuvant-rt",
        False,
        Spec(kind="NET", ki67=30, stage="localized", met_sites=(), resected=40),
        (RADIATION,),
        "radiation",
    ),
    Case(
        "chemoradiation for a localized NEC is recommended",
        "local.net.no-neoadjuvant-rt",
        False,
        Spec(stage="localized", met_sites=()),
        (CHEMORADIATION,),
        "chemoradiation",
    ),
    # -- gynecologic
    Case(
        "robotic radical hysterectomy for a cervical small-cell NEC",
        "gyn.early.no-minimally-invasive",
        True,
        CERVIX_NEC,
        (ROBOTIC_HYSTERECTOMY,),
        "robotic-rh",
    ),
    Case(
        "open radical hysterectomy for a cervical NEC FIGO IB1 is recommended",
        "gyn.early.no-minimally-invasive",
        False,
        CERVIX_NEC,
        (OPEN_HYSTERECTOMY,),
        "open-rh",
    ),
    Case(
        "radical trachelectomy for a cervical NEC",
        "gyn.early.no-fertility-sparing",
        True,
        Spec(kind="SCNEC", site="C53.9", stage="localized", met_sites=(), figo="IA2"),
        (TRACHELECTOMY,),
        "trachelectomy",
    ),
    Case(
        "cone biopsy for a well-differentiated NET of the cervix (not a NEC)",
        "gyn.early.no-fertility-sparing",
        False,
        Spec(kind="NET", ki67=30, site="C53.9", stage="localized", met_sites=()),
        (CONIZATION,),
        "conization",
    ),
    Case(
        "radical hysterectomy for a cervical NEC FIGO IB3",
        "gyn.ib3-iia2.no-surgery",
        True,
        Spec(kind="SCNEC", site="C53.9", stage="localized", met_sites=(), figo="IB3"),
        (OPEN_HYSTERECTOMY,),
        "open-rh",
        (("sr-chemoradiation", "med-cisplatin", "med-etoposide"),),
    ),
    Case(
        "radical hysterectomy for a cervical NEC FIGO IB1 (early stage: surgery recommended)",
        "gyn.ib3-iia2.no-surgery",
        False,
        CERVIX_NEC,
        (OPEN_HYSTERECTOMY,),
        "open-rh",
    ),
    # -- metastatic G3 NET
    Case(
        "TACE for a G3 NET with Ki-67 70%",
        "met.net.systemic-over-liver-directed",
        True,
        NET_MET_HIGH_KI67,
        (TACE,),
        "tace",
    ),
    Case(
        "TACE for a G3 NET with Ki-67 35% and bone metastases",
        "met.net.systemic-over-liver-directed",
        True,
        Spec(kind="NET", ki67=35, met_sites=("liver", "bone")),
        (TACE,),
        "tace",
    ),
    Case(
        "TACE for a liver-dominant G3 NET with Ki-67 35% is a valid therapy",
        "met.net.systemic-over-liver-directed",
        False,
        NET_MET,
        (TACE,),
        "tace",
    ),
    Case(
        "octreotide for a metastatic G3 NET without SSTR imaging",
        "met.net.ssa-needs-sstr-imaging",
        True,
        NET_MET,
        (OCTREOTIDE,),
        "octreotide",
        (("sr-sstr-pet",),),
    ),
    Case(
        "lanreotide for a metastatic G3 NET with negative SSTR imaging (no second SSTR-PET offered)",
        "met.net.ssa-needs-sstr-imaging",
        True,
        Spec(kind="NET", ki67=35, sstr="negative"),
        (LANREOTIDE,),
        "lanreotide",
    ),
    Case(
        "octreotide for an SSTR-positive metastatic G3 NET is recommended",
        "met.net.ssa-needs-sstr-imaging",
        False,
        Spec(kind="NET", ki67=35, sstr="positive"),
        (OCTREOTIDE,),
        "octreotide",
    ),
    Case(
        "cisplatin + etoposide as front line for a metastatic G3 NET with Ki-67 35%",
        "met.net.no-platinum-etoposide",
        True,
        NET_MET,
        (CISPLATIN, ETOPOSIDE),
        "cisplatin",
        (
            ("med-capecitabine", "med-temozolomide"),
            ("med-fluorouracil", "med-leucovorin", "med-oxaliplatin"),
            ("med-capecitabine", "med-oxaliplatin"),
        ),
    ),
    Case(
        "carboplatin + etoposide for a G3 NET with Ki-67 70%",
        "met.net.no-platinum-etoposide",
        False,
        NET_MET_HIGH_KI67,
        (CARBOPLATIN, ETOPOSIDE),
        "carboplatin",
    ),
    Case(
        "cisplatin + irinotecan (no etoposide) for a G3 NET",
        "met.net.no-platinum-etoposide",
        False,
        NET_MET,
        (CISPLATIN, IRINOTECAN),
        "cisplatin",
    ),
    Case(
        "pembrolizumab for a G3 NET without dMMR / MSI-H / TMB-high",
        "met.net.no-immunotherapy",
        True,
        NET_MET,
        (PEMBROLIZUMAB,),
        "pembrolizumab",
    ),
    Case(
        "pembrolizumab for an MSI-high G3 NET (tumor-agnostic approval)",
        "met.net.no-immunotherapy",
        False,
        Spec(kind="NET", ki67=35, msi_high=True),
        (PEMBROLIZUMAB,),
        "pembrolizumab",
    ),
    # -- metastatic NEC
    Case(
        "atezolizumab drafted with first-line carboplatin + etoposide for NEC",
        "met.nec.no-ici-with-first-line",
        True,
        NEC_MET,
        (CARBOPLATIN, ETOPOSIDE, ATEZOLIZUMAB),
        "atezolizumab",
    ),
    Case(
        "pembrolizumab added while first-line cisplatin + etoposide is under way",
        "met.nec.no-ici-with-first-line",
        True,
        NEC_ON_EP,
        (PEMBROLIZUMAB,),
        "pembrolizumab",
    ),
    Case(
        "nivolumab + ipilimumab after progression on platinum/etoposide (dual ICI is recommended)",
        "met.nec.no-ici-with-first-line",
        False,
        NEC_AFTER_EP,
        (NIVOLUMAB, IPILIMUMAB),
        "nivolumab",
    ),
    Case(
        "nivolumab + ipilimumab for a NEC progressing on first-line platinum/etoposide still on order (second line)",
        "met.nec.no-ici-with-first-line",
        False,
        Spec(diagnosed=200, lines=(Line(("cisplatin", "etoposide"), start=180),), progression=7),
        (NIVOLUMAB, IPILIMUMAB),
        "nivolumab",
    ),
    Case(
        "topotecan for a pancreatic NEC after platinum/etoposide",
        "met.nec.no-topotecan-anthracycline",
        True,
        NEC_AFTER_EP,
        (TOPOTECAN,),
        "topotecan",
        (("med-fluorouracil", "med-leucovorin", "med-irinotecan"),),
    ),
    Case(
        "doxorubicin for a pancreatic NEC",
        "met.nec.no-topotecan-anthracycline",
        True,
        NEC_AFTER_EP,
        (DOXORUBICIN,),
        "doxorubicin",
        (("med-fluorouracil", "med-leucovorin", "med-irinotecan"),),
    ),
    Case(
        "topotecan for a cervical small-cell carcinoma after platinum/etoposide (gynecologic second line)",
        "met.nec.no-topotecan-anthracycline",
        False,
        Spec(
            kind="SCNEC",
            site="C53.9",
            figo=None,
            met_sites=("lung",),
            diagnosed=300,
            lines=(Line(("cisplatin", "etoposide"), start=280, end=120),),
            progression=10,
        ),
        (TOPOTECAN,),
        "topotecan",
    ),
    Case(
        "single-agent nivolumab for a NEC without dMMR / MSI-H / TMB-high",
        "met.nec.no-single-agent-ici",
        True,
        NEC_AFTER_EP,
        (NIVOLUMAB,),
        "nivolumab",
        (("med-ipilimumab", "med-nivolumab"),),
    ),
    Case(
        "pembrolizumab for an MSI-high NEC (tumor-agnostic approval)",
        "met.nec.no-single-agent-ici",
        False,
        Spec(
            msi_high=True, diagnosed=300, lines=(Line(("cisplatin", "etoposide"), start=280, end=120),), progression=10
        ),
        (PEMBROLIZUMAB,),
        "pembrolizumab",
    ),
    Case(
        "nivolumab drafted with ipilimumab (dual checkpoint blockade) for NEC",
        "met.nec.no-single-agent-ici",
        False,
        NEC_AFTER_EP,
        (NIVOLUMAB, IPILIMUMAB),
        "nivolumab",
    ),
    Case(
        "lanreotide for tumor control in NEC",
        "met.nec.no-ssa",
        True,
        NEC_MET,
        (LANREOTIDE,),
        "lanreotide",
    ),
    Case(
        "octreotide for a NEC with carcinoid syndrome (symptom control)",
        "met.nec.no-ssa",
        False,
        Spec(carcinoid_syndrome="confirmed"),
        (OCTREOTIDE,),
        "octreotide",
    ),
    Case(
        "Lutathera (text only) for NEC",
        "met.nec.no-prrt",
        True,
        NEC_MET,
        (LUTATHERA,),
        "lutathera",
    ),
    Case(
        "Lutathera for a progressive G3 NET with SSTR uptake above liver",
        "met.nec.no-prrt",
        False,
        Spec(
            kind="NET",
            ki67=35,
            sstr="positive",
            sstr_above_liver=True,
            diagnosed=300,
            lines=(Line(("octreotide",), start=280),),
            progression=10,
        ),
        (LUTATHERA,),
        "lutathera",
    ),
    Case(
        "everolimus for NEC",
        "met.nec.no-everolimus-sunitinib",
        True,
        NEC_AFTER_EP,
        (EVEROLIMUS,),
        "everolimus",
    ),
    Case(
        "sunitinib for NEC",
        "met.nec.no-everolimus-sunitinib",
        True,
        NEC_AFTER_EP,
        (SUNITINIB,),
        "sunitinib",
    ),
    Case(
        "sunitinib for a refractory pancreatic G3 NET",
        "met.nec.no-everolimus-sunitinib",
        False,
        Spec(
            kind="NET",
            ki67=35,
            diagnosed=300,
            lines=(Line(("capecitabine", "temozolomide"), start=280, end=60),),
            progression=10,
        ),
        (SUNITINIB,),
        "sunitinib",
    ),
    Case(
        "hepatic metastasectomy / cytoreduction for metastatic NEC",
        "met.nec.no-debulking",
        True,
        NEC_ON_EP,
        (DEBULKING,),
        "debulking",
    ),
    Case(
        "debulking for a metastatic G3 NET with favorable biology (may be appropriate)",
        "met.nec.no-debulking",
        False,
        NET_MET,
        (DEBULKING,),
        "debulking",
    ),
    Case(
        "radioembolization for metastatic NEC (no consensus: info)",
        "met.nec.liver-directed-no-consensus",
        True,
        NEC_ON_EP,
        (TARE,),
        "tare",
    ),
    Case(
        "radioembolization for a liver-dominant G3 NET with Ki-67 35%",
        "met.nec.liver-directed-no-consensus",
        False,
        NET_MET,
        (TARE,),
        "tare",
    ),
    # -- brain
    Case(
        "prophylactic cranial irradiation for a small-cell NEC without brain metastases",
        "brain.no-pci",
        True,
        Spec(kind="SCNEC", site="C16.9"),
        (PCI,),
        "pci",
    ),
    Case(
        "cranial irradiation for a NEC with known brain metastases",
        "brain.no-pci",
        False,
        Spec(met_sites=("liver", "brain")),
        (PCI,),
        "pci",
    ),
    # -- project entry: premature repeat imaging (Tables 2 and 3)
    Case(
        "CT abdomen drafted 20 days after the last one, 2 months into monitoring of a metastatic NEC",
        "order.repeat-imaging-too-early",
        True,
        Spec(
            diagnosed=90,
            lines=(Line(("cisplatin", "etoposide"), start=60),),
            studies=((ImagingKind.CT_ABDOMEN_PELVIS, 20),),
        ),
        (CT_ABDOMEN,),
        "ct",
    ),
    Case(
        "CT abdomen drafted when the monitoring CT is due (last one 80 days ago, NEC every 2-3 months)",
        "order.repeat-imaging-too-early",
        False,
        Spec(
            diagnosed=150,
            lines=(Line(("cisplatin", "etoposide"), start=120),),
            studies=((ImagingKind.CT_ABDOMEN_PELVIS, 80),),
        ),
        (CT_ABDOMEN,),
        "ct",
    ),
    Case(
        "CT abdomen at diagnosis (no surveillance or monitoring interval running)",
        "order.repeat-imaging-too-early",
        False,
        Spec(studies=((ImagingKind.CT_ABDOMEN_PELVIS, 20),)),
        (CT_ABDOMEN,),
        "ct",
    ),
)

# The five "appropriate orders stay quiet" cases of issue 5 (no warning, no avoid card at all).
QUIET = (
    "octreotide for an SSTR-positive metastatic G3 NET is recommended",
    "brain MRI for a NEC with neurological symptoms is indicated",
    "echocardiogram after an elevated 5-HIAA is recommended",
    "pembrolizumab for an MSI-high NEC (tumor-agnostic approval)",
    "topotecan for a cervical small-cell carcinoma after platinum/etoposide (gynecologic second line)",
)


def case(name: str) -> Case:
    return next(c for c in CASES if c.name == name)
