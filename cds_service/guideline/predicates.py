"""The clinical questions the knowledge base asks, each written once.

Every predicate answers True, False or None (the record does not say) and names, in ``needs``,
the fact whose absence makes it None. Rules combine them in ``when`` expressions; thresholds come
from ``parameters.yaml`` through ``c.params``. No FHIR here: only PatientFacts.

Order-entry questions (about the draft being checked) live in ``order_predicates.py``.
"""

from __future__ import annotations

from cds_service.facts.model import (
    Differentiation,
    Grade,
    ImagingKind,
    PatientFacts,
    SiteGroup,
    Stage,
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
