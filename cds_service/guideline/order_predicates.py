"""Order-entry questions: the clinical questions the avoid entries (``*.order-checks.yaml``) ask.

On order-select / order-sign each avoid entry is checked against every selected draft that
matches its ``orders`` concepts: ``c.order`` is that draft, ``c.orders`` all drafts of the
session (selected or not: an unselected platinum draft is still context for an immunotherapy
draft). Drafts are known by value-set concept names only (``cisplatin``, ``cis-carboplatin``,
``pd1-pdl1-inhibitor``...); patient facts come from PatientFacts, as everywhere else.

Convention for avoid rules: a warning must not vanish just because something was never
documented. Where the catalog says "without X" (without MMR deficiency, without a hormonal
syndrome, without brain metastases) the absence of a documented X means "without": these
questions answer no, not unknown. A fact the decision cannot do without (differentiation,
Ki-67, stage, primary site, FIGO stage) stays unknown and yields a data gap instead.

Shared questions are reused from ``predicates.py`` and ``therapy_predicates.py``
(``is_nec``, ``has_brain_metastases``, ``mmrd_msih_or_tmb_high_detected``, ``is_figo_ib3_to_iia2``...).
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

from cds_service.facts.model import Certainty, Differentiation, ImagingKind, PatientFacts, Stage
from cds_service.guideline.logic import RuleContext, Tri, predicate
from cds_service.guideline.predicates import has_sstr_imaging, sstr_imaging_positive
from cds_service.guideline.schedules import ScheduleStatus, schedule_status
from cds_service.guideline.therapy_predicates import CTLA4_INHIBITORS, CYTOTOXIC, PLATINUM

# Value-set concept names a draft is known by (fhir_profiles/ValueSet/<name>.json).
_PLATINUM_DRAFT = PLATINUM | {"cis-carboplatin"}
_ETOPOSIDE = frozenset({"etoposide"})
_BRAIN_RADIATION = frozenset({"pci", "whole-brain-rt", "stereotactic-radiosurgery"})


# ---------------------------------------------------------------- the drafts and the active regimen


def _other_drafts(c: RuleContext) -> frozenset[str]:
    """Concepts of every draft of the session other than the one being checked."""
    concepts: set[str] = set()
    for order in c.orders:
        if c.order is None or (order.resource_type, order.resource_id) != (c.order.resource_type, c.order.resource_id):
            concepts |= order.concepts
    return frozenset(concepts)


def _active_agents(f: PatientFacts) -> frozenset[str]:
    """Agents of the regimen under way (active lines, active or drafted orders on record)."""
    agents = {e.agent for e in f.exposures if e.active}
    for line in f.lines:
        if line.active:
            agents |= line.agents
    return frozenset(agents)


def _progressed_on_current_regimen(f: PatientFacts) -> bool:
    """Progression recorded since the regimen under way started (its orders may still be active)."""
    starts = [line.start for line in f.lines if line.active]
    if not starts:
        return False
    if any(s is None for s in starts):
        return bool(f.progression_dates)
    first = min(s for s in starts if s is not None)
    return any(d >= first for d in f.progression_dates)


def _front_line_chemotherapy(f: PatientFacts) -> bool:
    """No earlier cytotoxic regimen: none at all, or only the first one, still under way."""
    chemo_lines = [line for line in f.lines if line.agents & CYTOTOXIC]
    if not chemo_lines:
        return not any(e.agent in CYTOTOXIC and not e.active for e in f.exposures)
    return len(chemo_lines) == 1 and chemo_lines[0].active


@predicate(
    "Is the draft part of platinum (cisplatin/carboplatin) + etoposide, "
    "drafted together or with the other agent under way?"
)
def order_is_platinum_etoposide(f: PatientFacts, c: RuleContext) -> Tri:
    if c.order is None:
        return False
    beside = c.order.concepts | _other_drafts(c) | _active_agents(f)
    if c.order.concepts & _PLATINUM_DRAFT:
        return bool(beside & _ETOPOSIDE)
    if c.order.concepts & _ETOPOSIDE:
        return bool(beside & _PLATINUM_DRAFT)
    return False


@predicate("Is this the front-line chemotherapy setting (no earlier cytotoxic regimen, or only the first under way)?")
def front_line_setting(f: PatientFacts, c: RuleContext) -> Tri:
    return _front_line_chemotherapy(f)


@predicate(
    "Is the drafted immunotherapy ordered together with first-line platinum + etoposide "
    "(platinum and etoposide drafted beside it, or the first-line regimen under way)?"
)
def ordered_with_first_line_platinum_etoposide(f: PatientFacts, c: RuleContext) -> Tri:
    """A regimen that has progressed is being replaced, not added to: its agents no longer count."""
    beside = _other_drafts(c) | (frozenset() if _progressed_on_current_regimen(f) else _active_agents(f))
    return bool(beside & _PLATINUM_DRAFT) and bool(beside & _ETOPOSIDE) and _front_line_chemotherapy(f)


@predicate(
    "Is the drafted PD-1/PD-L1 inhibitor a single agent (no ipilimumab / CTLA-4 inhibitor drafted or under way)?"
)
def single_agent_checkpoint_order(f: PatientFacts, c: RuleContext) -> Tri:
    if c.order is None:
        return False
    return not ((c.order.concepts | _other_drafts(c) | _active_agents(f)) & CTLA4_INHIBITORS)


@predicate(
    "Is the drafted radiation or chemoradiation neoadjuvant (drafted as neoadjuvant / preoperative, "
    "or the primary is not yet resected)?"
)
def order_is_neoadjuvant(f: PatientFacts, c: RuleContext) -> Tri:
    """Radiation drafted for a localized tumor that is not yet resected comes before surgery (or replaces it).

    After a resection it is adjuvant (lack of consensus, not this warning); brain-directed radiation
    (PCI, SRS, whole-brain) is never the locoregional neoadjuvant treatment.
    """
    if c.order is None or c.order.concepts & _BRAIN_RADIATION:
        return False
    if "neoadjuvant-radiation" in c.order.concepts:
        return True
    return not f.resected


# ---------------------------------------------------------------- patient questions the avoid rules ask


@predicate(
    "Is the high-grade NEN diagnosis already established on tissue (a confirmed diagnosis with its differentiation)?"
)
def established_diagnosis_biopsy(f: PatientFacts, c: RuleContext) -> Tri:
    """A confirmed (not provisional) NEN diagnosis whose differentiation is recorded.

    A suspected diagnosis, or one whose differentiation is still open, may need tissue: no.
    """
    n = f.neoplasm
    if n is None:
        return False
    return n.certainty is Certainty.CONFIRMED and n.differentiation is not Differentiation.UNKNOWN


@predicate(
    "Is this a first recurrence after treatment of localized disease, not yet treated "
    "(Table 2: biopsy as indicated to confirm recurrence)?"
)
def first_recurrence_after_local_treatment(f: PatientFacts, c: RuleContext) -> Tri:
    completed = f.localized_treatment_completed
    if completed is None:
        return False
    started = f.metastatic_treatment_start
    return started is None or started <= completed


@predicate("Is a high systemic disease burden documented (recorded as high, or metastases at 3 or more sites)?")
def high_disease_burden_documented(f: PatientFacts, c: RuleContext) -> Tri:
    """INPUTS.md: high burden = ``nen-fact#high-disease-burden`` true or metastases at >= 3 distinct sites.

    For the avoid rules a burden that is not documented is not high (no data gap).
    """
    return f.high_disease_burden is True or len(f.metastatic_sites) >= 3


@predicate("Are cardiac symptoms recorded?")
def has_cardiac_symptoms(f: PatientFacts, c: RuleContext) -> Tri:
    return f.cardiac_symptoms


@predicate(
    "Is a positive SSTR imaging result missing (SSTR imaging negative, or none done)?",
    needs="sstr-imaging-result",
)
def no_positive_sstr_imaging(f: PatientFacts, c: RuleContext) -> Tri:
    """Unknown only when an SSTR study exists but none of its results is coded."""
    positive = sstr_imaging_positive(f, c)
    if positive is not None:
        return not positive
    return None if has_sstr_imaging(f, c) else True


@predicate(
    "Is there an indication for germline testing beyond the G3 NEN itself "
    "(MMR deficiency / MSI-high for Lynch evaluation, or another cancer recorded)?"
)
def germline_indication_beyond_nen(f: PatientFacts, c: RuleContext) -> Tri:
    return f.mmr_deficient is True or f.msi_high is True or bool(f.other_cancers)


@predicate("Is the order placed within a clinical trial (trial enrollment recorded)?")
def within_clinical_trial(f: PatientFacts, c: RuleContext) -> Tri:
    """The record forms the service reads (INPUTS.md) carry no trial enrollment, so the answer is no.

    The clinician states it with the override reason "Ordered under a clinical trial protocol".
    """
    return False


# ---------------------------------------------------------------- premature repeat imaging

# The study kinds a draft of this concept repeats (CT and MRI of the abdomen stand in for each other).
_REPEATS: dict[str, tuple[ImagingKind, ...]] = {
    "ct-abdomen-pelvis": (ImagingKind.CT_ABDOMEN_PELVIS, ImagingKind.MRI_ABDOMEN),
    "mri-abdomen": (ImagingKind.CT_ABDOMEN_PELVIS, ImagingKind.MRI_ABDOMEN),
    "sstr-pet": (ImagingKind.SSTR_PET,),
    "fdg-pet": (ImagingKind.FDG_PET,),
    "brain-mri": (ImagingKind.BRAIN_MRI,),
    "brain-ct": (ImagingKind.BRAIN_MRI,),
    "brain-imaging": (ImagingKind.BRAIN_MRI,),
}
REPEAT_IMAGING_CONCEPTS = frozenset(_REPEATS)
# ``schedule:`` of an avoid entry whose card names the running interval (last study, next due date).
CURRENT_INTERVAL = "current-interval"


def _current_schedules(f: PatientFacts) -> list[str]:
    """The surveillance (Table 2) or monitoring (Table 3) schedule(s) running for this patient."""
    if f.metastatic_treatment_start is not None and f.stage is not Stage.LOCALIZED:
        table = "monitoring"
    elif f.localized_treatment_completed is not None:
        table = "surveillance"
    else:
        return []
    if f.neoplasm is None:
        return []
    d = f.neoplasm.differentiation
    kinds = ["net", "nec"] if d is Differentiation.UNKNOWN else ["net" if d is Differentiation.NET else "nec"]
    return [f"{table}.{kind}" for kind in kinds]


def _premature(f: PatientFacts, c: RuleContext, status: ScheduleStatus, kinds: tuple[ImagingKind, ...]) -> date | None:
    """The date of the same-kind study done in the current interval when the draft repeats it early."""
    if status.finished or status.overdue:
        return None
    if c.today > status.due - timedelta(days=int(c.params["repeat_imaging_grace_days"])):
        return None
    anchor = status.last_study or status.clock_start
    last = f.last_study(*kinds)
    if last is None or last.date is None or not anchor <= last.date <= c.today:
        return None
    if ImagingKind.BRAIN_MRI in kinds and f.neurologic_symptoms:
        since = f.neurologic_symptoms_since
        if since is None or since >= last.date:
            return None  # new symptoms since the last brain study: indicated, not a repeat
    return last.date


def repeat_imaging_interval(f: PatientFacts, c: RuleContext) -> tuple[Tri, ScheduleStatus | None]:
    """(is the drafted study a premature repeat?, the interval to word the card with).

    The interval's ``last_study`` is the date of the earlier study of the drafted kind and ``due``
    the next due date of the running schedule. With differentiation unknown both the NET and the
    NEC schedule are tried: the answer is unknown only when they disagree.
    """
    if c.order is None:
        return False, None
    kinds = tuple(
        dict.fromkeys(k for concept in sorted(c.order.concepts & REPEAT_IMAGING_CONCEPTS) for k in _REPEATS[concept])
    )
    if not kinds:
        return False, None
    answers: list[tuple[bool, ScheduleStatus | None]] = []
    for name in _current_schedules(f):
        spec = c.params["schedules"].get(name)
        status = schedule_status(f, spec, c.today) if spec else None
        last = _premature(f, c, status, kinds) if status is not None else None
        answers.append((last is not None, dataclasses.replace(status, last_study=last) if status and last else None))
    if not answers or not any(early for early, _ in answers):
        return False, None
    if not all(early for early, _ in answers):
        return None, None
    return True, min((s for _, s in answers if s is not None), key=lambda s: s.due)


@predicate(
    "Was a study of the drafted kind already done within the current surveillance / monitoring interval, "
    "with the next one not yet due?",
    needs="differentiation",
)
def imaging_repeat_too_early(f: PatientFacts, c: RuleContext) -> Tri:
    return repeat_imaging_interval(f, c)[0]
