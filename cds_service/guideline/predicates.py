"""The clinical questions the knowledge base asks, each written once.

Every predicate answers True, False or None (the record does not say) and names, in ``needs``,
the fact whose absence makes it None. Rules combine them in ``when`` expressions; thresholds come
from ``parameters.yaml`` through ``c.params``. No FHIR here: only PatientFacts.

Order-entry questions (about the draft being checked) live in ``order_predicates.py``.
"""

from __future__ import annotations

from datetime import date, timedelta

from cds_service.facts.model import (
    Differentiation,
    DiseaseStatusValue,
    Grade,
    ImagingKind,
    PatientFacts,
    SiteGroup,
    Stage,
    Study,
)
from cds_service.guideline.logic import RuleContext, Tri, predicate

# ---------------------------------------------------------------- the neoplasm and its biology


@predicate("Is a neuroendocrine neoplasm recorded?")
def has_nen(f: PatientFacts, c: RuleContext) -> Tri:
    return f.neoplasm is not None


@predicate(
    "Is the neoplasm a poorly differentiated neuroendocrine carcinoma (NEC, or MiNEN managed as NEC)?",
    needs="differentiation",
)
def is_nec(f: PatientFacts, c: RuleContext) -> Tri:
    if f.neoplasm is None or f.neoplasm.differentiation is Differentiation.UNKNOWN:
        return None
    return f.neoplasm.differentiation in (Differentiation.NEC, Differentiation.MINEN)


@predicate("Is the neoplasm a well-differentiated NET?", needs="differentiation")
def is_net(f: PatientFacts, c: RuleContext) -> Tri:
    if f.neoplasm is None or f.neoplasm.differentiation is Differentiation.UNKNOWN:
        return None
    return f.neoplasm.differentiation is Differentiation.NET


@predicate("Is differentiation (well-differentiated NET vs poorly differentiated NEC) unrecorded?")
def differentiation_unknown(f: PatientFacts, c: RuleContext) -> Tri:
    return f.neoplasm is not None and f.neoplasm.differentiation is Differentiation.UNKNOWN


@predicate(
    "Does the tumor meet high-grade (G3) criteria (Ki-67 > 20%, > 20 mitoses / 2 mm2, or grade G3)?", needs="ki67"
)
def is_high_grade(f: PatientFacts, c: RuleContext) -> Tri:
    if f.grade is Grade.G3:
        return True
    if f.grade in (Grade.G1, Grade.G2):
        return False
    return None


@predicate("Is this a well-differentiated G3 NET?", needs=("differentiation", "ki67"))
def is_g3_net(f: PatientFacts, c: RuleContext) -> Tri:
    net = is_net(f, c)
    if net is False:
        return False
    grade_g3 = is_high_grade(f, c)
    if grade_g3 is False:
        return False
    if net is None or grade_g3 is None:
        return None
    return True


@predicate(
    "Is the high-grade neoplasm either a G3 NET or a NEC (differentiation may be unknown)?",
    needs=("differentiation", "ki67"),
)
def is_high_grade_nen(f: PatientFacts, c: RuleContext) -> Tri:
    if is_nec(f, c):
        return True
    return is_high_grade(f, c)


@predicate("Is Ki-67 below the favorable-biology threshold (55%)?", needs="ki67")
def ki67_below_55(f: PatientFacts, c: RuleContext) -> Tri:
    if f.ki67_percent is None:
        return None
    return f.ki67_percent < c.params["favorable_biology_ki67_below_percent"]


# ---------------------------------------------------------------- primary site


def _site(f: PatientFacts) -> SiteGroup | None:
    if f.neoplasm is None or f.neoplasm.site is SiteGroup.NOT_RECORDED:
        return None
    return f.neoplasm.site


@predicate("Is the primary gastrointestinal or pancreatic?", needs="primary-site")
def is_gep_primary(f: PatientFacts, c: RuleContext) -> Tri:
    site = _site(f)
    return None if site is None else site.is_gastrointestinal


@predicate("Is the primary pancreatic?", needs="primary-site")
def is_pancreatic(f: PatientFacts, c: RuleContext) -> Tri:
    site = _site(f)
    return None if site is None else site is SiteGroup.PANCREAS


@predicate("Is the primary in the bowel (small bowel, appendix, colon or rectum)?", needs="primary-site")
def is_bowel_primary(f: PatientFacts, c: RuleContext) -> Tri:
    site = _site(f)
    if site is None:
        return None
    return site in (SiteGroup.SMALL_BOWEL, SiteGroup.APPENDIX, SiteGroup.COLORECTAL)


@predicate("Is the primary gynecologic (cervix, uterus, ovary, vulva or vagina)?", needs="primary-site")
def is_gynecologic(f: PatientFacts, c: RuleContext) -> Tri:
    site = _site(f)
    return None if site is None else site.is_gynecologic


@predicate("Is the primary the cervix?", needs="primary-site")
def is_cervical(f: PatientFacts, c: RuleContext) -> Tri:
    site = _site(f)
    return None if site is None else site is SiteGroup.CERVIX


@predicate("Is the primary site recorded as unknown?", needs="primary-site")
def is_unknown_primary(f: PatientFacts, c: RuleContext) -> Tri:
    site = _site(f)
    return None if site is None else site is SiteGroup.UNKNOWN_PRIMARY


# ---------------------------------------------------------------- stage


@predicate("Is there distant metastatic disease?", needs="stage")
def is_metastatic(f: PatientFacts, c: RuleContext) -> Tri:
    return None if f.stage is Stage.UNKNOWN else f.stage is Stage.METASTATIC


@predicate("Is the disease localized (no distant metastases)?", needs="stage")
def is_localized(f: PatientFacts, c: RuleContext) -> Tri:
    return None if f.stage is Stage.UNKNOWN else f.stage is Stage.LOCALIZED


# ---------------------------------------------------------------- imaging


@predicate("Is there a positive somatostatin-receptor (SSTR) PET?", needs="sstr-imaging-result")
def sstr_imaging_positive(f: PatientFacts, c: RuleContext) -> Tri:
    studies = [s for s in f.studies_of(ImagingKind.SSTR_PET) if s.positive is not None]
    if not studies:
        return None
    latest = max(studies, key=lambda s: (s.date is not None, s.date))
    return latest.positive


@predicate("Has any somatostatin-receptor (SSTR) PET been done?")
def has_sstr_imaging(f: PatientFacts, c: RuleContext) -> Tri:
    return bool(f.studies_of(ImagingKind.SSTR_PET))


# ---------------------------------------------------------------- symptoms


@predicate("Are neurological symptoms recorded?")
def has_neurologic_symptoms(f: PatientFacts, c: RuleContext) -> Tri:
    return f.neurologic_symptoms


# ---------------------------------------------------------------- molecular


@predicate("Is the tumor MMR-deficient, MSI-high or TMB-high (>= 10 mut/Mb)?", needs="msi-mmr-tmb")
def is_mmrd_msih_or_tmb_high(f: PatientFacts, c: RuleContext) -> Tri:
    tmb_high = None if f.tmb_per_mb is None else f.tmb_per_mb >= c.params["tmb_high_per_mb"]
    values = (f.mmr_deficient, f.msi_high, tmb_high)
    if any(v is True for v in values):
        return True
    if any(v is False for v in values):
        return False
    return None


# ---------------------------------------------------------------- treatment course (shared)


@predicate("Has any systemic anticancer therapy (a regimen line) been given or started?")
def has_systemic_therapy(f: PatientFacts, c: RuleContext) -> Tri:
    return bool(f.lines)


@predicate("Is a systemic regimen currently active?")
def on_systemic_therapy(f: PatientFacts, c: RuleContext) -> Tri:
    return any(line.active for line in f.lines)


@predicate("Is disease progression recorded (disease status worsened)?")
def has_progression(f: PatientFacts, c: RuleContext) -> Tri:
    return bool(f.progression_dates)


@predicate("Did the disease progress after the first systemic line started?")
def progressed_after_first_line(f: PatientFacts, c: RuleContext) -> Tri:
    if not f.lines:
        return False
    start = f.lines[0].start
    if start is None:
        return bool(f.progression_dates)
    return any(d >= start for d in f.progression_dates)


# ================================================================ part A chapters
# Pathology, imaging, biomarkers, cardiac, localized GI disease, surveillance and monitoring,
# general (knowledge files 10-, 20-, 30-, 40-, 50-, 95-, 99-*.patient-view.yaml).


def _days(c: RuleContext, name: str) -> timedelta:
    return timedelta(days=int(c.params[name]))


# ---------------------------------------------------------------- pathology


@predicate("Is a Ki-67 proliferation index recorded?")
def has_ki67_result(f: PatientFacts, c: RuleContext) -> Tri:
    return f.ki67_percent is not None


@predicate(
    "Does the proliferation rate meet the WHO high-grade criteria (Ki-67 > 20% or > 20 mitoses per 2 mm2)?",
    needs="ki67",
)
def meets_g3_proliferation_criteria(f: PatientFacts, c: RuleContext) -> Tri:
    """Unknown only when neither Ki-67 nor a mitotic count is recorded.

    A recorded Ki-67 of 20% or less without a mitotic count reads as not meeting the criteria: Ki-67 is
    the grading standard ("in the vast majority of cases, the diagnosis is made based on a proliferation
    index > 20%, rather than a mitotic count").
    """
    values = []
    if f.ki67_percent is not None:
        values.append(f.ki67_percent > c.params["g3_ki67_above_percent"])
    if f.mitotic_count_per_2mm2 is not None:
        values.append(f.mitotic_count_per_2mm2 > c.params["g3_mitoses_above_per_2mm2"])
    return any(values) if values else None


@predicate("Are both p53 and Rb immunohistochemistry results recorded?")
def has_p53_and_rb_results(f: PatientFacts, c: RuleContext) -> Tri:
    return f.p53_aberrant is not None and f.rb_lost is not None


def _stain_negative(own: bool | None, other: bool | None) -> Tri:
    """A recorded stain answers; an unrecorded one is unknown only when the other stain is negative.

    With neither stain recorded the answer is no: a recorded NEC diagnosis formally requires the
    demonstration of neuroendocrine marker expression, so the record gives no sign of a negative panel.
    """
    if own is not None:
        return not own
    return None if other is False else False


@predicate("Is the synaptophysin immunostain negative?", needs="synaptophysin-ihc")
def synaptophysin_negative(f: PatientFacts, c: RuleContext) -> Tri:
    return _stain_negative(f.synaptophysin_positive, f.chromogranin_ihc_positive)


@predicate("Is the chromogranin A immunostain negative?", needs="chromogranin-ihc")
def chromogranin_ihc_negative(f: PatientFacts, c: RuleContext) -> Tri:
    return _stain_negative(f.chromogranin_ihc_positive, f.synaptophysin_positive)


@predicate("Is an INSM1 immunohistochemistry result recorded?")
def has_insm1_result(f: PatientFacts, c: RuleContext) -> Tri:
    return f.insm1_done


@predicate(
    "Is the neoplasm newly diagnosed (diagnosed within the initial-assessment window, or not yet treated)?",
)
def is_newly_diagnosed(f: PatientFacts, c: RuleContext) -> Tri:
    """At the initial assessment: diagnosed (onset / recordedDate) within ``initial_assessment_window_days``
    before today, or with neither treatment nor a follow-up assessment (disease status) on record whatever
    the recorded date (an untreated, never re-assessed high-grade NEN is still being worked up: an old
    onset date alone must not hide the workup)."""
    n = f.neoplasm
    if n is None:
        return False
    if n.diagnosed_on is not None and c.today - n.diagnosed_on <= _days(c, "initial_assessment_window_days"):
        return True
    treated = (
        bool(f.lines)
        or f.resected
        or f.localized_treatment_completed is not None
        or f.chemoradiation_completed_date is not None
        or bool(f.disease_status)
    )
    return not treated


@predicate(
    "Is the G3 NET progressing at an accelerating pace, or is one lesion growing faster than the others?",
    needs="progression-pace",
)
def has_accelerating_progression(f: PatientFacts, c: RuleContext) -> Tri:
    """Unknown only when progression is recorded but its pace is not; no progression recorded means no."""
    if f.accelerating_progression is not None:
        return f.accelerating_progression
    return None if f.progression_dates else False


# ---------------------------------------------------------------- imaging


@predicate("Is the tumor recorded as behaving disproportionately aggressively (accelerating progression)?")
def is_disproportionately_aggressive(f: PatientFacts, c: RuleContext) -> Tri:
    """Asserted only when recorded (an optional indication among alternatives, never inferred)."""
    return f.accelerating_progression is True


@predicate(
    "Is somatostatin-receptor expression low or absent (SSTR-PET negative, or uptake not above liver)?",
    needs="sstr-imaging-result",
)
def sstr_expression_low(f: PatientFacts, c: RuleContext) -> Tri:
    studies = [s for s in f.studies_of(ImagingKind.SSTR_PET) if s.positive is not None]
    if not studies:
        return None
    latest = max(studies, key=lambda s: (s.date is not None, s.date))
    if latest.positive is False:
        return True
    return f.sstr_uptake_above_liver is False


@predicate(
    "Do SSTR-PET and FDG-PET results disagree (e.g. FDG-avid disease without SSTR uptake)?",
    needs="pet-result",
)
def pet_results_discordant(f: PatientFacts, c: RuleContext) -> Tri:
    """No when either PET is absent; unknown when both exist but a result is not coded."""
    sstr = f.studies_of(ImagingKind.SSTR_PET)
    fdg = f.studies_of(ImagingKind.FDG_PET)
    if not sstr or not fdg:
        return False

    def latest(studies: tuple[Study, ...]) -> bool | None:
        coded = [s for s in studies if s.positive is not None]
        if not coded:
            return None
        return max(coded, key=lambda s: (s.date is not None, s.date)).positive

    sstr_positive, fdg_positive = latest(sstr), latest(fdg)
    if sstr_positive is None or fdg_positive is None:
        return None
    return sstr_positive != fdg_positive


@predicate("Is the systemic disease burden high?", needs="disease-burden")
def has_high_disease_burden(f: PatientFacts, c: RuleContext) -> Tri:
    """The recorded flag; else metastases at ``high_burden_min_metastatic_sites`` or more distinct sites.

    Unknown only for metastatic disease whose sites are not recorded (e.g. an M1 category alone).
    """
    if f.high_disease_burden is not None:
        return f.high_disease_burden
    if f.stage is Stage.LOCALIZED:
        return False  # no distant disease: no systemic burden
    if f.metastatic_sites:
        return len(f.metastatic_sites) >= c.params["high_burden_min_metastatic_sites"]
    return None


def _brain_mri_reference_date(f: PatientFacts, c: RuleContext) -> date | None:
    """Brain MRI counts from symptom onset when symptoms are recorded, else from diagnosis."""
    if f.neurologic_symptoms:
        if f.neurologic_symptoms_since is not None:
            return f.neurologic_symptoms_since
        return c.today - _days(c, "recent_window_days")
    if f.neoplasm is not None and f.neoplasm.diagnosed_on is not None:
        return f.neoplasm.diagnosed_on - _days(c, "baseline_study_lookback_days")
    return None


@predicate("Has a brain MRI been done since the symptoms began (or since diagnosis), or is one ordered?")
def has_brain_mri_since_indication(f: PatientFacts, c: RuleContext) -> Tri:
    if "brain-mri" in f.orders_pending:
        return True
    mris = f.studies_of(ImagingKind.BRAIN_MRI)
    reference = _brain_mri_reference_date(f, c)
    if reference is None:
        return bool(mris)
    return any(s.date is not None and s.date >= reference for s in mris)


# ---------------------------------------------------------------- endoscopy

_UPPER_GI = frozenset({SiteGroup.ESOPHAGUS, SiteGroup.STOMACH})
_LOWER_GI = frozenset({SiteGroup.COLORECTAL, SiteGroup.APPENDIX})


@predicate(
    "Is there a known or suspected luminal gastrointestinal primary (esophagus to rectum, or unknown primary)?",
    needs="primary-site",
)
def has_known_or_suspected_gi_primary(f: PatientFacts, c: RuleContext) -> Tri:
    """Luminal GI sites; an unknown primary counts as suspected GI (most occult primaries are midgut)."""
    site = _site(f)
    if site is None:
        return None
    return site in _UPPER_GI | _LOWER_GI | {SiteGroup.SMALL_BOWEL, SiteGroup.UNKNOWN_PRIMARY}


@predicate("Has the endoscopy the primary site calls for (EGD and/or colonoscopy) been done or ordered?")
def endoscopy_done_or_ordered(f: PatientFacts, c: RuleContext) -> Tri:
    egd = bool(f.studies_of(ImagingKind.EGD)) or "egd" in f.orders_pending
    colonoscopy = bool(f.studies_of(ImagingKind.COLONOSCOPY)) or "colonoscopy" in f.orders_pending
    site = _site(f)
    if site in _UPPER_GI:
        return egd
    if site in _LOWER_GI:
        return colonoscopy
    return egd or colonoscopy  # small bowel / unknown primary: either endoscopy has looked


# ---------------------------------------------------------------- biomarkers and molecular


@predicate("Is a clinical hormonal syndrome recorded (confirmed or suspected)?")
def has_hormonal_syndrome(f: PatientFacts, c: RuleContext) -> Tri:
    return f.hormonal_syndrome is not None


@predicate("Is an MSI or MMR result recorded?")
def has_msi_or_mmr_result(f: PatientFacts, c: RuleContext) -> Tri:
    return f.msi_high is not None or f.mmr_deficient is not None


@predicate("Is a tumor next-generation sequencing result recorded?")
def has_ngs_result(f: PatientFacts, c: RuleContext) -> Tri:
    return f.ngs_done


# ---------------------------------------------------------------- cardiac


@predicate("Is carcinoid syndrome recorded or suspected?")
def has_carcinoid_syndrome(f: PatientFacts, c: RuleContext) -> Tri:
    return f.carcinoid_syndrome is not None


@predicate("Is a plasma or urine 5-HIAA result recorded?")
def has_5hiaa_result(f: PatientFacts, c: RuleContext) -> Tri:
    return bool(f.five_hiaa)


@predicate("Is a plasma or urine 5-HIAA elevated?", needs="5-hiaa-interpretation")
def has_elevated_5hiaa(f: PatientFacts, c: RuleContext) -> Tri:
    """Yes if any result is elevated; unknown if none is but some result's interpretation is missing."""
    if any(r.elevated is True for r in f.five_hiaa):
        return True
    if any(r.elevated is None for r in f.five_hiaa):
        return None
    return False


@predicate("Has an echocardiogram been done since the elevated 5-HIAA, or is one ordered?")
def echocardiogram_since_elevated_5hiaa(f: PatientFacts, c: RuleContext) -> Tri:
    if "echocardiogram" in f.orders_pending:
        return True
    elevated = [r.date for r in f.five_hiaa if r.elevated and r.date is not None]
    echos = f.studies_of(ImagingKind.ECHOCARDIOGRAM)
    if not elevated:
        return bool(echos)
    first = min(elevated)
    return any(s.date is not None and s.date >= first for s in echos)


# ---------------------------------------------------------------- localized disease


@predicate("Has the primary tumor been resected?")
def is_resected(f: PatientFacts, c: RuleContext) -> Tri:
    return f.resected


@predicate("Was the resection recent enough for adjuvant therapy to be decided now?", needs="surgery-date")
def resected_recently(f: PatientFacts, c: RuleContext) -> Tri:
    """Resected within ``recent_treatment_window_days`` before today, or later but with nothing recorded
    since (no systemic line started, no disease-status assessment): the adjuvant decision is still open.
    Unknown if the date is missing."""
    if not f.resected:
        return False
    surgery = f.surgery_date
    if surgery is None:
        return None
    if c.today - surgery <= _days(c, "recent_treatment_window_days"):
        return True
    treated_since = any(line.start is not None and line.start >= surgery for line in f.lines)
    assessed_since = any(d is not None and d > surgery for d, _ in f.disease_status)
    return not (treated_since or assessed_since)


@predicate("Is the primary in the pancreatic body or tail?", needs="primary-site")
def is_pancreatic_body_or_tail(f: PatientFacts, c: RuleContext) -> Tri:
    site = _site(f)
    if site is None:
        return None
    return site is SiteGroup.PANCREAS and f.neoplasm is not None and f.neoplasm.pancreas_body_or_tail


@predicate("Has treatment for localized disease been completed (resection or chemoradiation, then no evidence)?")
def has_completed_localized_treatment(f: PatientFacts, c: RuleContext) -> Tri:
    return f.localized_treatment_completed is not None


@predicate("Is etoposide unable to be delivered (intolerance or contraindication recorded)?")
def etoposide_not_deliverable(f: PatientFacts, c: RuleContext) -> Tri:
    return "etoposide" in f.intolerances


def _given(f: PatientFacts, *agents: str) -> bool:
    return any(line.has_any(*agents) for line in f.lines)


@predicate("Has carboplatin + paclitaxel been given?")
def carboplatin_paclitaxel_given(f: PatientFacts, c: RuleContext) -> Tri:
    return any({"carboplatin", "paclitaxel"} <= line.agents for line in f.lines)


@predicate("Was a course of platinum (cisplatin or carboplatin) + etoposide completed recently?", needs="therapy-dates")
def completed_platinum_etoposide_recently(f: PatientFacts, c: RuleContext) -> Tri:
    """A finished platinum/etoposide line that ended within ``recent_treatment_window_days``."""
    window = _days(c, "recent_treatment_window_days")
    undated = False
    for line in f.lines:
        if line.active or not line.has_any("cisplatin", "carboplatin") or "etoposide" not in line.agents:
            continue
        ended = line.end or line.start
        if ended is None:
            undated = True
        elif c.today - ended <= window:
            return True
    return None if undated else False


@predicate("Has capecitabine been given?")
def capecitabine_given(f: PatientFacts, c: RuleContext) -> Tri:
    return _given(f, "capecitabine")


@predicate("Has chemoradiation been completed or ordered?")
def chemoradiation_done_or_ordered(f: PatientFacts, c: RuleContext) -> Tri:
    return f.chemoradiation_completed_date is not None or "chemoradiation" in f.orders_pending


@predicate("Is the surgical margin positive?", needs="surgical-margin")
def has_positive_margin(f: PatientFacts, c: RuleContext) -> Tri:
    return f.surgical_margin_positive


@predicate("Is the tumor site not amenable to subsequent radiation?", needs="radiation-amenability")
def is_radiation_not_amenable(f: PatientFacts, c: RuleContext) -> Tri:
    return f.radiation_not_amenable


@predicate("Has systemic therapy been given after the resection?")
def systemic_therapy_after_surgery(f: PatientFacts, c: RuleContext) -> Tri:
    """Without a surgery date any recorded regimen counts (never suggest what may already be given)."""
    if f.surgery_date is None:
        return bool(f.lines)
    return any(line.start is None or line.start >= f.surgery_date for line in f.lines)


# ---------------------------------------------------------------- surveillance and monitoring


@predicate("Is the latest disease status 'no evidence of disease'?", needs="disease-status")
def no_evidence_of_disease(f: PatientFacts, c: RuleContext) -> Tri:
    status = f.latest_disease_status
    if status is None:
        return None
    return status is DiseaseStatusValue.NO_EVIDENCE


@predicate("Is a multiphase CT or MRI of the abdomen already ordered?")
def cross_sectional_imaging_ordered(f: PatientFacts, c: RuleContext) -> Tri:
    return bool({"ct-abdomen-pelvis", "mri-abdomen"} & f.orders_pending)


@predicate("Is the latest disease status progression?")
def at_progression(f: PatientFacts, c: RuleContext) -> Tri:
    return f.latest_disease_status is DiseaseStatusValue.PROGRESSION
