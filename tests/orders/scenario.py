"""One patient description, two forms: PatientFacts (engine tests) and FHIR resources (HTTP tests).

``Spec`` describes a patient in the guideline's words (NEC of the pancreas, metastatic to the liver,
on first-line platinum/etoposide ...). ``spec.facts(today)`` builds the PatientFacts the engine reads;
``spec.resources(today)`` builds the FHIR R4 resources an EHR would send, in the forms of
shared/guideline/INPUTS.md, so the same case runs at both levels. Dates are days before ``today``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from cds_service.facts.model import (
    Certainty,
    Differentiation,
    DiseaseStatusValue,
    Grade,
    ImagingKind,
    LabResult,
    MetastaticSite,
    Neoplasm,
    PatientFacts,
    SiteGroup,
    Stage,
    Study,
    TherapyExposure,
    TherapyLine,
)
from tests.support import fhir as F

MORPHOLOGY = {"NET": "8249/3", "NEC": "8246/3", "SCNEC": "8041/3", "LCNEC": "8013/3", "MINEN": "8154/3"}
DIFFERENTIATION = {
    "NET": Differentiation.NET,
    "NEC": Differentiation.NEC,
    "SCNEC": Differentiation.NEC,
    "LCNEC": Differentiation.NEC,
    "MINEN": Differentiation.MINEN,
    "UNKNOWN": Differentiation.UNKNOWN,
}
SITES = (
    ("C25", SiteGroup.PANCREAS),
    ("C17", SiteGroup.SMALL_BOWEL),
    ("C18.1", SiteGroup.APPENDIX),
    ("C18", SiteGroup.COLORECTAL),
    ("C19", SiteGroup.COLORECTAL),
    ("C20", SiteGroup.COLORECTAL),
    ("C16", SiteGroup.STOMACH),
    ("C15", SiteGroup.ESOPHAGUS),
    ("C53", SiteGroup.CERVIX),
    ("C54", SiteGroup.UTERUS),
    ("C55", SiteGroup.UTERUS),
    ("C56", SiteGroup.OVARY),
    ("C51", SiteGroup.VULVA_VAGINA),
    ("C52", SiteGroup.VULVA_VAGINA),
    ("C80", SiteGroup.UNKNOWN_PRIMARY),
)
MET_SITES = {  # ICD-10-CM secondary-cancer codes (INPUTS.md "Metastatic sites")
    "liver": ("C78.7", MetastaticSite.LIVER),
    "bone": ("C79.51", MetastaticSite.BONE),
    "brain": ("C79.31", MetastaticSite.BRAIN),
    "peritoneum": ("C78.6", MetastaticSite.PERITONEUM),
    "nodes": ("C7B.01", MetastaticSite.DISTANT_NODES),
    "lung": ("C78.00", MetastaticSite.LUNG),
}
FIGO_NCIT = {"IA1": "C96246", "IA2": "C96247", "IB1": "C96249", "IB2": "C96250", "IB3": "C162222", "IIA2": "C162224"}
STUDY_CODES = {  # verified codes (shared/terminology/codes.md; INPUTS.md "Other imaging")
    ImagingKind.CT_ABDOMEN_PELVIS: F.cc(F.SNOMED, "1148701004", "CT of abdomen and pelvis with IV contrast"),
    ImagingKind.MRI_ABDOMEN: F.cc(F.SNOMED, "432369004", "MRI of abdomen with contrast"),
    ImagingKind.FDG_PET: F.cc(F.SNOMED, "443271005", "FDG PET/CT whole body"),
    ImagingKind.BRAIN_MRI: F.cc(F.LOINC, "24587-8", "MR Brain WO and W contrast IV"),
    ImagingKind.ECHOCARDIOGRAM: F.cc(F.SNOMED, "40701008", "Echocardiography"),
}
RXNORM = F.VERIFIED_RXNORM  # verified ingredient codes; other agents by text only
CONDITION_ID = "nen-1"


@dataclass(frozen=True)
class Line:
    agents: tuple[str, ...]
    start: int  # days before today
    end: int | None = None  # days before today; None = still under way


@dataclass(frozen=True)
class Spec:
    kind: str = "NEC"  # NET | NEC | SCNEC | LCNEC | MINEN | UNKNOWN (C7A.8 without morphology)
    site: str | None = "C25.4"  # ICD-O-3 topography; None = not recorded
    ki67: float | None = 80
    stage: str = "metastatic"  # metastatic | localized | unknown
    met_sites: tuple[str, ...] = ("liver",)
    diagnosed: int = 30
    suspected: bool = False
    neuro_symptoms: bool = False
    high_burden: bool | None = None
    hormonal_syndrome: bool = False  # ectopic ACTH (E24.3)
    carcinoid_syndrome: str | None = None  # confirmed | suspected
    five_hiaa_elevated: bool | None = None
    cardiac_symptoms: bool = False
    sstr: str = "none"  # none | positive | negative | uncoded
    sstr_above_liver: bool | None = None
    msi_high: bool = False
    figo: str | None = None
    resected: int | None = None  # days before today
    ned: int | None = None  # disease status "no evidence of disease", days before today
    progression: int | None = None  # disease status "worsened", days before today
    lines: tuple[Line, ...] = ()
    studies: tuple[tuple[ImagingKind, int], ...] = ()
    other_cancer: bool = False
    extra: tuple[str, ...] = field(default=())  # free notes, for test names only

    # ------------------------------------------------------------------ PatientFacts
    def facts(self, today: date) -> PatientFacts:
        def day(n: int | None) -> date | None:
            return None if n is None else today - timedelta(days=n)

        site = _site_group(self.site)
        neoplasm = Neoplasm(
            condition_id=f"Condition/{CONDITION_ID}",
            differentiation=DIFFERENTIATION[self.kind],
            morphology=MORPHOLOGY.get(self.kind),
            certainty=Certainty.SUSPECTED if self.suspected else Certainty.CONFIRMED,
            site=site,
            site_code=self.site,
            pancreas_body_or_tail=self.site in ("C25.1", "C25.2"),
            diagnosed_on=day(self.diagnosed),
        )
        grade = Grade.UNKNOWN if self.ki67 is None else (Grade.G3 if self.ki67 > 20 else Grade.G2)
        stage = {"metastatic": Stage.METASTATIC, "localized": Stage.LOCALIZED, "unknown": Stage.UNKNOWN}[self.stage]
        lines = tuple(
            TherapyLine(i, frozenset(ln.agents), day(ln.start), day(ln.end), ln.end is None)
            for i, ln in enumerate(self.lines, start=1)
        )
        exposures = tuple(
            TherapyExposure(agent, line.start, line.end, line.active, source=f"MedicationRequest/{line.number}-{agent}")
            for line in lines
            for agent in sorted(line.agents)
        )
        statuses = sorted(
            [(day(self.ned), DiseaseStatusValue.NO_EVIDENCE)] * (self.ned is not None)
            + [(day(self.progression), DiseaseStatusValue.PROGRESSION)] * (self.progression is not None),
            key=lambda s: s[0],
        )
        studies = [
            Study(kind, day(days), source=f"DiagnosticReport/{kind.value}-{days}") for kind, days in self.studies
        ]
        if self.sstr != "none":
            positive = {"positive": True, "negative": False, "uncoded": None}[self.sstr]
            studies.append(Study(ImagingKind.SSTR_PET, day(40), positive, source="DiagnosticReport/sstr"))
        completed = None
        if self.stage == "localized" and self.resected is not None and self.ned is not None:
            completed = max(day(self.resected), day(self.ned))  # type: ignore[type-var]
        metastatic_start = lines[0].start if lines and self.stage == "metastatic" else None
        syndrome = Certainty(self.carcinoid_syndrome) if self.carcinoid_syndrome else None
        return PatientFacts(
            patient_id=F.PATIENT_ID,
            today=today,
            neoplasm=neoplasm,
            other_cancers=("Condition/other-cancer",) if self.other_cancer else (),
            grade=grade,
            ki67_percent=self.ki67,
            ki67_date=day(self.diagnosed) if self.ki67 is not None else None,
            stage=stage,
            metastatic_sites=frozenset(MET_SITES[s][1] for s in self.met_sites)
            if self.stage == "metastatic"
            else frozenset(),
            brain_metastasis_count=1 if "brain" in self.met_sites and self.stage == "metastatic" else None,
            high_disease_burden=self.high_burden,
            figo_stage=self.figo,
            disease_status=tuple(statuses),
            studies=tuple(sorted(studies, key=lambda s: s.date or today)),
            sstr_uptake_above_liver=self.sstr_above_liver,
            msi_high=True if self.msi_high else None,
            chromogranin_a=(),
            five_hiaa=()
            if self.five_hiaa_elevated is None
            else (LabResult(day(10), 50.0, "mg/(24.h)", self.five_hiaa_elevated, "Observation/5hiaa"),),
            hormonal_syndrome=Certainty(self.carcinoid_syndrome)
            if self.carcinoid_syndrome
            else (Certainty.CONFIRMED if self.hormonal_syndrome else None),
            carcinoid_syndrome=syndrome,
            neurologic_symptoms=self.neuro_symptoms,
            neurologic_symptoms_since=day(5) if self.neuro_symptoms else None,
            cardiac_symptoms=self.cardiac_symptoms,
            exposures=exposures,
            lines=lines,
            resected=self.resected is not None,
            surgery_date=day(self.resected),
            localized_treatment_completed=completed,
            metastatic_treatment_start=metastatic_start,
        )

    # ------------------------------------------------------------------ FHIR resources (INPUTS.md forms)
    def resources(self, today: date) -> list[dict[str, Any]]:
        def day(n: int) -> str:
            return (today - timedelta(days=n)).isoformat()

        out: list[dict[str, Any]] = []
        verification = "provisional" if self.suspected else "confirmed"
        if self.kind == "UNKNOWN":
            primary = F.condition(
                F.cc(F.ICD10, "C7A.8"),
                body_site=F.cc(F.ICDO3, self.site) if self.site else None,
                id=CONDITION_ID,
                onset=day(self.diagnosed),
                verification=verification,
            )
        else:
            primary = F.condition(
                F.cc(F.ICD10, "C7A.1" if self.kind != "NET" else "C7A.8"),
                morphology=MORPHOLOGY[self.kind],
                body_site=F.cc(F.ICDO3, self.site) if self.site else None,
                id=CONDITION_ID,
                onset=day(self.diagnosed),
                verification=verification,
            )
        out.append(primary)
        if self.ki67 is not None:
            out.append(F.ki67(self.ki67, effective=day(self.diagnosed)))
        if self.stage == "metastatic":
            out.append(F.m_category("1229903009", effective=day(self.diagnosed)))
            out += [F.secondary(MET_SITES[s][0], onset=day(self.diagnosed)) for s in self.met_sites]
        elif self.stage == "localized":
            out.append(F.m_category("1229901006", effective=day(self.diagnosed)))
        if self.neuro_symptoms:
            out.append(F.condition(F.cc(F.ICD10, "R51.9", "Headache, unspecified"), onset=day(5)))
        if self.high_burden is not None:
            out.append(F.nen_fact("high-disease-burden", valueBoolean=self.high_burden, effective=day(3)))
        if self.hormonal_syndrome:
            out.append(F.condition(F.cc(F.ICD10, "E24.3", "Ectopic ACTH syndrome"), onset=day(20)))
        if self.carcinoid_syndrome:
            ver = "provisional" if self.carcinoid_syndrome == "suspected" else "confirmed"
            out.append(F.condition(F.cc(F.ICD10, "E34.0", "Carcinoid syndrome"), onset=day(20), verification=ver))
        if self.five_hiaa_elevated is not None:
            out.append(
                F.observation(
                    F.cc(F.LOINC, "1695-6", "5-Hydroxyindoleacetate [Mass/time] in 24 hour Urine"),
                    effective=day(10),
                    valueQuantity={"value": 50 if self.five_hiaa_elevated else 4, "unit": "mg/(24.h)"},
                    interpretation=[
                        F.cc(
                            "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
                            "H" if self.five_hiaa_elevated else "N",
                        )
                    ],
                )
            )
        if self.cardiac_symptoms:
            out.append(F.nen_fact("cardiac-symptoms", valueBoolean=True, effective=day(4)))
        if self.sstr != "none":
            positive = {"positive": True, "negative": False, "uncoded": None}[self.sstr]
            out.append(F.sstr_pet(positive, date=day(40), id="sstr-report"))
        if self.sstr_above_liver is not None:
            out.append(
                F.nen_fact("sstr-uptake-greater-than-liver", valueBoolean=self.sstr_above_liver, effective=day(40))
            )
        if self.msi_high:
            out.append(
                F.observation(
                    F.cc(F.LOINC, "81695-9", "Microsatellite instability [Interpretation] in Cancer specimen"),
                    effective=day(20),
                    valueCodeableConcept=F.cc(F.LOINC, "LA26203-2", "MSI-H"),
                )
            )
        if self.figo:
            out.append(F.figo(FIGO_NCIT[self.figo], effective=day(self.diagnosed)))
        if self.resected is not None:
            out.append(
                {
                    "resourceType": "Procedure",
                    "id": "resection-1",
                    "status": "completed",
                    "category": F.cc(F.SNOMED, "387713003", "Surgical procedure"),
                    "code": {"text": "Oncologic resection of the primary"},
                    "subject": F.subject(),
                    "performedDateTime": day(self.resected),
                    "reasonReference": [{"reference": f"Condition/{CONDITION_ID}"}],
                }
            )
        if self.ned is not None:
            out.append(F.disease_status("260415000", effective=day(self.ned)))
        if self.progression is not None:
            out.append(F.disease_status("271299001", effective=day(self.progression)))
        for i, ln in enumerate(self.lines, start=1):
            for agent in ln.agents:
                statement: dict[str, Any] = {
                    "resourceType": "MedicationStatement",
                    "id": f"line{i}-{agent}",
                    "status": "active" if ln.end is None else "completed",
                    "medicationCodeableConcept": _agent_concept(agent),
                    "subject": F.subject(),
                    "effectivePeriod": {"start": day(ln.start)} | ({"end": day(ln.end)} if ln.end is not None else {}),
                }
                out.append(statement)
        for kind, days in self.studies:
            out.append(F.report(STUDY_CODES[kind], date=day(days), id=f"study-{kind.value}-{days}"))
        if self.other_cancer:
            out.append(
                F.condition(F.cc(F.ICD10, "C50.911", "Malignant neoplasm of right female breast"), id="other-cancer")
            )
        return out


def _site_group(code: str | None) -> SiteGroup:
    if not code:
        return SiteGroup.NOT_RECORDED
    for prefix, group in SITES:
        if code.startswith(prefix):
            return group
    return SiteGroup.OTHER


def _agent_concept(agent: str) -> dict[str, Any]:
    text = agent.capitalize()
    if agent in RXNORM:
        return F.cc(F.RXNORM, RXNORM[agent], agent, text=text)
    return {"text": text}


# ---------------------------------------------------------------- draft orders (context.draftOrders)


def draft_service(id: str, code: dict[str, Any] | None = None, text: str | None = None, **extra: Any) -> dict[str, Any]:
    concept = dict(code or {})
    if text:
        concept["text"] = text
    resource = F.service_request(concept, id=id)
    resource.update(extra)
    return resource


def draft_med(id: str, agent: str | None = None, text: str | None = None, **extra: Any) -> dict[str, Any]:
    """A draft MedicationRequest: RxNorm-coded by agent name (verified codes only) and/or by text."""
    if agent is not None and agent in RXNORM:
        resource = F.medication_request(RXNORM[agent], text or agent.capitalize(), status="draft", id=id)
    else:
        resource = F.medication_request(None, text or (agent or "").capitalize(), status="draft", id=id)
    resource.update(extra)
    return resource


def ref(resource: dict[str, Any]) -> str:
    return f"{resource['resourceType']}/{resource['id']}"
