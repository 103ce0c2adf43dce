"""Clinical questions of the metastatic, gynecologic and brain-metastasis chapters.

Lines of therapy and what was already given, where the patient stands in the treatment course
(front line, progressing, refractory, platinum-sensitive relapse), metastatic pattern (liver
dominant, extrahepatic, brain count), SSTR avidity, actionable biomarkers and FIGO groups.

Conventions (see ``logic.py``): True / False / None, where None names the missing fact in
``needs``. New fact names introduced here (besides the shared ones):

- ``metastatic-sites``: where the metastases are (secondary-cancer Conditions with a site);
- ``sstr-uptake-vs-liver``: ``nen-fact#sstr-uptake-greater-than-liver`` on a positive SSTR-PET;
- ``brain-metastasis-count``: ``nen-fact#brain-metastasis-count`` or one Condition per lesion;
- ``last-platinum-dose-date``: the end date of the last platinum/etoposide regimen;
- ``figo-stage``: mCODE GynecologicTumorFIGOStage (SNOMED 385361009, NCIt value);
- ``tumor-size``, ``deep-stromal-invasion``, ``lymphovascular-invasion``: cervical risk factors.

Treatment history is read from ``PatientFacts.lines`` (regimens) and ``.exposures`` (agents):
an agent counts as *received* when it appears in either, active, past or drafted. Agent names
are the value-set concept names of the facts layer (``fhir_profiles/ValueSet/<name>.json``).

Biomarker-driven questions (``*_detected``) are True only for a detected alteration: an absent
test result is not a data gap for the tumor-agnostic therapies, because the testing itself is
what the workup recommendations (workup.nec.ngs, workup.nec.mmr-msi ...) ask for.
"""

from __future__ import annotations

from datetime import date

from cds_service.facts.extract.index import concept_index
from cds_service.facts.model import DiseaseStatusValue, MetastaticSite, PatientFacts, SiteGroup, Stage, TherapyLine
from cds_service.guideline.logic import RuleContext, Tri, predicate
from cds_service.guideline.schedules import add_months

# ---------------------------------------------------------------- agent groups (value-set concept names)

# Classes come from the value-set unions of fhir_profiles/ValueSet (one source of truth).
_AGENT_CLASSES = concept_index()
PLATINUM = _AGENT_CLASSES.leaf_members("cis-carboplatin")
PLATINUM_ANY = PLATINUM | {"oxaliplatin"}
CYTOTOXIC = frozenset(
    {
        "cisplatin",
        "carboplatin",
        "oxaliplatin",
        "etoposide",
        "irinotecan",
        "fluorouracil",
        "capecitabine",
        "temozolomide",
        "topotecan",
        "paclitaxel",
        "docetaxel",
        "streptozocin",
        "gemcitabine",
        "dacarbazine",
        "doxorubicin",
        "epirubicin",
    }
)
SSA = _AGENT_CLASSES.leaf_members("somatostatin-analog")
CHECKPOINT_INHIBITORS = _AGENT_CLASSES.leaf_members("checkpoint-inhibitor")
CTLA4_INHIBITORS = CHECKPOINT_INHIBITORS - _AGENT_CLASSES.leaf_members("pd1-pdl1-inhibitor")
TRK_INHIBITORS = frozenset({"larotrectinib", "entrectinib"})
RET_INHIBITORS = frozenset({"selpercatinib", "pralsetinib"})
PRRT = _AGENT_CLASSES.leaf_members("prrt")


def _received(f: PatientFacts) -> frozenset[str]:
    agents: set[str] = {e.agent for e in f.exposures}
    for line in f.lines:
        agents |= line.agents
    return frozenset(agents)


def _received_any(f: PatientFacts, agents: frozenset[str]) -> bool:
    return bool(_received(f) & agents)


def _regimens(f: PatientFacts) -> list[frozenset[str]]:
    """Agent sets given together: the lines, else (no lines recorded) all exposures as one set."""
    if f.lines:
        return [line.agents for line in f.lines]
    return [frozenset(e.agent for e in f.exposures)] if f.exposures else []


def _is_platinum_etoposide(agents: frozenset[str]) -> bool:
    return bool(agents & PLATINUM) and "etoposide" in agents


# ---------------------------------------------------------------- what has been given


@predicate("Has any cytotoxic (systemic) chemotherapy been given or started?")
def received_systemic_chemotherapy(f: PatientFacts, c: RuleContext) -> Tri:
    return _received_any(f, CYTOTOXIC)


@predicate("Has a somatostatin analog (octreotide or lanreotide) been given or started?")
def received_ssa(f: PatientFacts, c: RuleContext) -> Tri:
    return _received_any(f, SSA)


@predicate("Has platinum (cisplatin or carboplatin) + etoposide been given or started?")
def received_platinum_etoposide(f: PatientFacts, c: RuleContext) -> Tri:
    return any(_is_platinum_etoposide(agents) for agents in _regimens(f))


@predicate("Has a platinum-based regimen (cisplatin, carboplatin or oxaliplatin) been given or started?")
def received_platinum_based_therapy(f: PatientFacts, c: RuleContext) -> Tri:
    return _received_any(f, PLATINUM_ANY)


@predicate("Has temozolomide (CAPTEM) been given or started?")
def received_captem(f: PatientFacts, c: RuleContext) -> Tri:
    return _received_any(f, frozenset({"temozolomide"}))


@predicate("Has oxaliplatin (FOLFOX / CAPOX) been given or started?")
def received_oxaliplatin(f: PatientFacts, c: RuleContext) -> Tri:
    return _received_any(f, frozenset({"oxaliplatin"}))


@predicate("Has FOLFIRI (irinotecan with fluorouracil) been given or started?")
def received_folfiri(f: PatientFacts, c: RuleContext) -> Tri:
    return any({"irinotecan", "fluorouracil"} <= agents for agents in _regimens(f))


@predicate("Has irinotecan been given or started?")
def received_irinotecan(f: PatientFacts, c: RuleContext) -> Tri:
    return _received_any(f, frozenset({"irinotecan"}))


@predicate("Has topotecan been given or started?")
def received_topotecan(f: PatientFacts, c: RuleContext) -> Tri:
    return _received_any(f, frozenset({"topotecan"}))


@predicate("Has a taxane (paclitaxel or docetaxel) been given or started?")
def received_taxane(f: PatientFacts, c: RuleContext) -> Tri:
    return _received_any(f, frozenset({"paclitaxel", "docetaxel"}))


@predicate("Has everolimus been given or started?")
def received_everolimus(f: PatientFacts, c: RuleContext) -> Tri:
    return _received_any(f, frozenset({"everolimus"}))


@predicate("Has sunitinib been given or started?")
def received_sunitinib(f: PatientFacts, c: RuleContext) -> Tri:
    return _received_any(f, frozenset({"sunitinib"}))


@predicate("Has PRRT (177Lu-DOTATATE) been given or started?")
def received_prrt(f: PatientFacts, c: RuleContext) -> Tri:
    return _received_any(f, PRRT)


@predicate("Has an immune checkpoint inhibitor been given or started?")
def received_checkpoint_inhibitor(f: PatientFacts, c: RuleContext) -> Tri:
    return _received_any(f, CHECKPOINT_INHIBITORS)


@predicate("Has dual checkpoint blockade (a CTLA-4 inhibitor such as ipilimumab) been given or started?")
def received_dual_checkpoint_blockade(f: PatientFacts, c: RuleContext) -> Tri:
    return _received_any(f, CTLA4_INHIBITORS)


@predicate("Has a TRK inhibitor (larotrectinib or entrectinib) been given or started?")
def received_trk_inhibitor(f: PatientFacts, c: RuleContext) -> Tri:
    return _received_any(f, TRK_INHIBITORS)


@predicate("Has a RET inhibitor (selpercatinib or pralsetinib) been given or started?")
def received_ret_inhibitor(f: PatientFacts, c: RuleContext) -> Tri:
    return _received_any(f, RET_INHIBITORS)


# ---------------------------------------------------------------- where the patient stands in the course


def _current_progression(f: PatientFacts) -> tuple[bool, date | None]:
    """(progressing now, date of that progression): the latest disease status is progression."""
    if not f.disease_status:
        return False, None
    when, value = f.disease_status[-1]
    return value is DiseaseStatusValue.PROGRESSION, when


def _lines_started_since(f: PatientFacts, since: date) -> list[TherapyLine]:
    return [line for line in f.lines if line.start is not None and line.start >= since]


@predicate(
    "Is the disease progressing now (latest disease status is progression and no new systemic line started since)?"
)
def is_currently_progressing(f: PatientFacts, c: RuleContext) -> Tri:
    progressing, when = _current_progression(f)
    if not progressing:
        return False
    # A new regimen started on or after the progression date has already answered it.
    return when is None or not _lines_started_since(f, when)


@predicate("Does the patient need a (new) systemic line: none given yet, or progressing on the current one?")
def needs_new_systemic_line(f: PatientFacts, c: RuleContext) -> Tri:
    if not f.lines and not f.exposures:
        return True
    return is_currently_progressing(f, c)


@predicate(
    "Is this a platinum-sensitive relapse: progression during a treatment break, at least 3 months after "
    "the last platinum/etoposide dose, with no other regimen since?",
    needs="last-platinum-dose-date",
)
def is_platinum_sensitive_relapse(f: PatientFacts, c: RuleContext) -> Tri:
    progressing, when = _current_progression(f)
    pe_lines = [line for line in f.lines if _is_platinum_etoposide(line.agents)]
    if not progressing or not pe_lines:
        return False
    last = max(pe_lines, key=lambda line: line.number)
    if last.active or any(line.number > last.number for line in f.lines):
        return False  # progression on treatment, or another regimen since: not a break after platinum/etoposide
    end = _last_dose(f, last)
    if end is None or when is None:
        return None
    return when >= add_months(end, int(c.params["platinum_sensitive_months"]))


def _last_dose(f: PatientFacts, line: TherapyLine) -> date | None:
    """The latest explicit end date of the line's platinum/etoposide exposures (a start date is no end date)."""
    agents = line.agents & (PLATINUM | {"etoposide"})
    ends = [
        e.end
        for e in f.exposures
        if e.agent in agents
        and e.end is not None
        and (line.start is None or e.start is None or e.start >= line.start)
        and (line.end is None or e.start is None or e.start <= line.end)
    ]
    return max(ends) if ends else None


# ---------------------------------------------------------------- metastatic pattern


def _sites_known(f: PatientFacts) -> bool | None:
    """True when metastatic sites are recorded; None when metastatic but no site is recorded."""
    if f.metastatic_sites:
        return True
    if f.stage is Stage.LOCALIZED:
        return False
    return None


@predicate(
    "Is the metastatic disease liver-dominant (liver metastases, none outside the liver and lymph nodes)?",
    needs="metastatic-sites",
)
def is_liver_dominant(f: PatientFacts, c: RuleContext) -> Tri:
    known = _sites_known(f)
    if known is not True:
        return known
    return MetastaticSite.LIVER in f.metastatic_sites and f.metastatic_sites <= {
        MetastaticSite.LIVER,
        MetastaticSite.DISTANT_NODES,
    }


@predicate(
    "Are there metastases outside the liver other than lymph nodes (e.g. bone, lung, peritoneum)?",
    needs="metastatic-sites",
)
def has_extrahepatic_metastases(f: PatientFacts, c: RuleContext) -> Tri:
    known = _sites_known(f)
    if known is not True:
        return known
    return bool(f.metastatic_sites - {MetastaticSite.LIVER, MetastaticSite.DISTANT_NODES})


@predicate("Are brain metastases recorded?")
def has_brain_metastases(f: PatientFacts, c: RuleContext) -> Tri:
    return MetastaticSite.BRAIN in f.metastatic_sites or (f.brain_metastasis_count or 0) > 0


def _brain_count(f: PatientFacts) -> int | None:
    return f.brain_metastasis_count


@predicate("Are there at most 4 brain metastases (the SRS limit)?", needs="brain-metastasis-count")
def brain_metastases_within_srs_limit(f: PatientFacts, c: RuleContext) -> Tri:
    count = _brain_count(f)
    return None if count is None else 0 < count <= c.params["brain_srs_max_metastases"]


@predicate("Are there more than 4 brain metastases (beyond the SRS limit)?", needs="brain-metastasis-count")
def brain_metastases_beyond_srs_limit(f: PatientFacts, c: RuleContext) -> Tri:
    count = _brain_count(f)
    return None if count is None else count > c.params["brain_srs_max_metastases"]


# ---------------------------------------------------------------- SSTR avidity


@predicate(
    "Is SSTR uptake homogeneously high, greater than liver, on SSTR imaging?",
    needs="sstr-uptake-vs-liver",
)
def sstr_uptake_greater_than_liver(f: PatientFacts, c: RuleContext) -> Tri:
    return f.sstr_uptake_above_liver


# ---------------------------------------------------------------- primary site (beyond the shared ones)


@predicate("Is the primary colorectal?", needs="primary-site")
def is_colorectal_primary(f: PatientFacts, c: RuleContext) -> Tri:
    if f.neoplasm is None or f.neoplasm.site is SiteGroup.NOT_RECORDED:
        return None
    return f.neoplasm.site is SiteGroup.COLORECTAL


# ---------------------------------------------------------------- actionable biomarkers (detected only)


def _tmb_high(f: PatientFacts, c: RuleContext) -> bool:
    return f.tmb_per_mb is not None and f.tmb_per_mb >= c.params["tmb_high_per_mb"]


@predicate("Is MMR deficiency, MSI-high or a high TMB (>= 10 mut/Mb) detected?")
def mmrd_msih_or_tmb_high_detected(f: PatientFacts, c: RuleContext) -> Tri:
    return f.mmr_deficient is True or f.msi_high is True or _tmb_high(f, c)


@predicate("Is MMR deficiency or MSI-high detected (dostarlimab's tumor-agnostic indication)?")
def dmmr_or_msih_detected(f: PatientFacts, c: RuleContext) -> Tri:
    return f.mmr_deficient is True or f.msi_high is True


@predicate("Is an NTRK1/2/3 gene fusion detected?")
def ntrk_fusion_detected(f: PatientFacts, c: RuleContext) -> Tri:
    return f.ntrk_fusion is True


@predicate("Is a RET gene fusion detected?")
def ret_fusion_detected(f: PatientFacts, c: RuleContext) -> Tri:
    return f.ret_fusion is True


@predicate("Is BRAF V600E detected?")
def braf_v600e_detected(f: PatientFacts, c: RuleContext) -> Tri:
    return f.braf_v600e is True


# ---------------------------------------------------------------- gynecologic: FIGO groups, surgery, risk

# Leaf FIGO (2018) stages; an undivided stage ("IB", "IIA", "III") stands for all its leaves.
_FIGO_LEAVES = (
    "IA1",
    "IA2",
    "IB1",
    "IB2",
    "IB3",
    "IIA1",
    "IIA2",
    "IIB",
    "IIIA",
    "IIIB",
    "IIIC1",
    "IIIC2",
    "IVA",
    "IVB",
)
FIGO_IA1_IB2 = frozenset({"IA1", "IA2", "IB1", "IB2"})
FIGO_IB3_IIA2 = frozenset({"IB3", "IIA1", "IIA2"})
FIGO_IB3_IVA = frozenset(_FIGO_LEAVES[_FIGO_LEAVES.index("IB3") : _FIGO_LEAVES.index("IVA") + 1])
FIGO_IVB = frozenset({"IVB"})


def _figo_leaves(stage: str | None) -> frozenset[str] | None:
    if not stage:
        return None
    text = stage.upper().replace("FIGO", "").replace("STAGE", "").replace(" ", "")
    leaves = frozenset(leaf for leaf in _FIGO_LEAVES if leaf.startswith(text))
    # "I" must not swallow "II..."/"IV..." and "II" must not swallow "III": keep the same roman numeral only.
    numeral = text.rstrip("ABC123")
    leaves = frozenset(leaf for leaf in leaves if leaf.rstrip("ABC123") == numeral)
    return leaves or None


def _figo_in(f: PatientFacts, group: frozenset[str]) -> Tri:
    """Locoregional FIGO group membership; distant metastases recorded since mean it no longer applies."""
    if f.stage is Stage.METASTATIC:
        return False
    leaves = _figo_leaves(f.figo_stage)
    if leaves is None:
        return None
    if leaves <= group:
        return True
    if not leaves & group:
        return False
    return None  # an undivided stage that straddles the group (e.g. "IB" for IB1-IB3)


@predicate("Is the FIGO stage IA1-IB2 (early, confined to the cervix, < 4 cm)?", needs="figo-stage")
def is_figo_ia1_to_ib2(f: PatientFacts, c: RuleContext) -> Tri:
    return _figo_in(f, FIGO_IA1_IB2)


@predicate("Is the FIGO stage IB3-IIA2?", needs="figo-stage")
def is_figo_ib3_to_iia2(f: PatientFacts, c: RuleContext) -> Tri:
    return _figo_in(f, FIGO_IB3_IIA2)


@predicate("Is the FIGO stage IB3-IVA (locally advanced: pelvis +/- aortocaval nodes)?", needs="figo-stage")
def is_figo_ib3_to_iva(f: PatientFacts, c: RuleContext) -> Tri:
    return _figo_in(f, FIGO_IB3_IVA)


@predicate(
    "Are there distant metastases (FIGO IVB, or distant metastatic disease recorded)?",
    needs="figo-stage",
)
def is_figo_ivb_or_distant_metastases(f: PatientFacts, c: RuleContext) -> Tri:
    if f.stage is Stage.METASTATIC:
        return True
    leaves = _figo_leaves(f.figo_stage)
    if leaves is not None:
        if leaves <= FIGO_IVB:
            return True
        if not leaves & FIGO_IVB:
            return False
        return None
    return False if f.stage is Stage.LOCALIZED else None


@predicate(
    "Does the operated cervical tumor have a high-risk feature (> 2 cm, deep stromal invasion or LVSI)?",
    needs=("tumor-size", "deep-stromal-invasion", "lymphovascular-invasion"),
)
def has_cervical_high_risk_features(f: PatientFacts, c: RuleContext) -> Tri:
    size = None if f.tumor_size_cm is None else f.tumor_size_cm > c.params["gyn_high_risk_tumor_size_above_cm"]
    values = (size, f.deep_stromal_invasion, f.lymphovascular_invasion)
    if any(v is True for v in values):
        return True
    if all(v is False for v in values):
        return False
    return None
