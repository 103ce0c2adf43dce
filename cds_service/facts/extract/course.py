"""The course of the disease and local treatment (INPUTS.md rows 'Disease status', 'Accelerating
progression', 'Surgery', 'Treatment for localized disease completed').

- Disease status: every mCODE CancerDiseaseStatus (LOINC 97509-4) with a recognised value, oldest
  first.
- Surgery: a completed Procedure with category SNOMED 387713003 or the mCODE
  CancerRelatedSurgicalProcedure profile whose ``reasonReference`` names the NEN; a biopsy is not a
  resection. Margin and 'not amenable to radiation': the latest ``nen-fact`` Observation.
- Chemoradiation completed: a completed Procedure whose code (or its text) is chemoradiation.
- Localized treatment completed: the first 'no evidence of disease' status on or after the later
  of the resection and chemoradiation dates (the later of the two dates, as INPUTS.md says).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from cds_service.facts.extract import fhir
from cds_service.facts.extract.context import Context, Item, latest
from cds_service.facts.model import DiseaseStatusValue

SURGERY_PROFILE = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-cancer-related-surgical-procedure"
_STATUS = (
    ("status-progression", DiseaseStatusValue.PROGRESSION),
    ("status-stable", DiseaseStatusValue.STABLE),
    ("status-improved", DiseaseStatusValue.IMPROVED),
    ("status-no-evidence", DiseaseStatusValue.NO_EVIDENCE),
    ("status-undetermined", DiseaseStatusValue.UNDETERMINED),
)


@dataclass
class CourseResult:
    disease_status: tuple[tuple[date | None, DiseaseStatusValue], ...] = ()
    status_refs: tuple[str, ...] = ()  # parallel to disease_status
    accelerating_progression: bool | None = None
    resected: bool = False
    surgery_date: date | None = None
    margin_positive: bool | None = None
    radiation_not_amenable: bool | None = None
    chemoradiation_date: date | None = None
    localized_completed: date | None = None


def extract_status(ctx: Context) -> CourseResult:
    out = CourseResult()
    statuses: list[tuple[date | None, int, DiseaseStatusValue, str]] = []
    for item in ctx.of("disease-status", types=("Observation",)):
        names = ctx.index.names_for_concept(item.resource.get("valueCodeableConcept"))
        for name, value in _STATUS:
            if name in names:
                statuses.append((item.when, item.order, value, item.ref))
                break
    statuses.sort(key=lambda s: (s[0] is not None, s[0] or date.min, s[1]))
    out.disease_status = tuple((d, v) for d, _, v, _ in statuses)
    out.status_refs = tuple(s[3] for s in statuses)
    if statuses:
        ctx.source("disease_status", *(s[3] for s in statuses))
    flag = _flag(ctx, "accelerating-progression")
    if flag is not None:
        out.accelerating_progression, ref = flag
        ctx.source("accelerating_progression", ref)
    return out


def extract_local_treatment(ctx: Context, out: CourseResult, nen_refs: frozenset[str]) -> None:
    resections: list[tuple[date | None, Item]] = []
    chemoradiation: list[tuple[date | None, Item]] = []
    for item in ctx.type("Procedure"):
        if item.status != "completed":
            continue
        resource = item.resource
        start, end = fhir.dated(resource, "performed")
        if _is_chemoradiation(ctx, item):
            chemoradiation.append((end or start, item))
            continue
        surgical = SURGERY_PROFILE in fhir.profiles(resource) or any(
            ctx.in_set("surgical-procedure", c) for c in fhir.as_list(resource.get("category"))
        )
        if not surgical or "biopsy" in item.names or _biopsy_text(ctx, item):
            continue
        reasons = {fhir.ref_key(fhir.reference(r)) for r in fhir.as_list(resource.get("reasonReference"))}
        if reasons & nen_refs:
            resections.append((end or start, item))
    if resections:
        out.resected = True
        when, item = max(resections, key=lambda r: (r[0] or date.min, r[1].order))
        out.surgery_date = when
        ctx.source("resected", *(i.ref for _, i in resections))
        ctx.source("surgery_date", item.ref)
    if chemoradiation:
        when, item = max(chemoradiation, key=lambda r: (r[0] or date.min, r[1].order))
        out.chemoradiation_date = when
        ctx.source("chemoradiation_completed_date", item.ref)
    margin = _flag(ctx, "surgical-margin-positive")
    if margin is not None:
        out.margin_positive, ref = margin
        ctx.source("surgical_margin_positive", ref)
    amenable = _flag(ctx, "radiation-not-amenable")
    if amenable is not None:
        out.radiation_not_amenable, ref = amenable
        ctx.source("radiation_not_amenable", ref)
    treated = [d for d in (out.surgery_date, out.chemoradiation_date) if d]
    if treated:
        since = max(treated)
        for (when, value), ref in zip(out.disease_status, out.status_refs, strict=True):
            if value is DiseaseStatusValue.NO_EVIDENCE and when is not None and when >= since:
                out.localized_completed = when
                treatment = ctx.sources.get("surgery_date", ()) + ctx.sources.get("chemoradiation_completed_date", ())
                ctx.source("localized_treatment_completed", *treatment, ref)
                break


def _is_chemoradiation(ctx: Context, item: Item) -> bool:
    return "chemoradiation" in item.names or ctx.index.text_matches("chemoradiation", item.words)


def _biopsy_text(ctx: Context, item: Item) -> bool:
    return (
        not item.names.intersection({"surgical-resection", "debulking-surgery"})
        and ctx.index.text_matches("biopsy", item.words)
        and not ctx.index.text_matches("fertility-sparing-surgery", item.words)
    )


def _flag(ctx: Context, name: str) -> tuple[bool, str] | None:
    usable = [
        i for i in ctx.of(name, types=("Observation",)) if fhir.boolean(i.resource.get("valueBoolean")) is not None
    ]
    best = latest(usable)
    return None if best is None else (bool(best.resource["valueBoolean"]), best.ref)
