"""Studies with their dates (INPUTS.md rows 'SSTR imaging', 'Other imaging (dates)').

A ``DiagnosticReport``, ``Procedure`` (completed) or ``ImagingStudy`` (available) whose code is in
one of the study value sets (names = ``ImagingKind`` values) is a Study on its date
(``effective[x]`` / ``issued``, ``performed[x]``, ``started``). When no study code is recognised
the code's text is read with the same value sets' text patterns (INPUTS.md: 'whose code text names
DOTATATE / DOTATOC / somatostatin receptor PET'). ``conclusionCode`` positive / negative gives the
result. The same study reported twice (same kind and date) is kept once, coded result first.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from cds_service.facts.extract import fhir
from cds_service.facts.extract.context import Context, Item, latest
from cds_service.facts.model import ImagingKind, Study

_KINDS = {k.value: k for k in ImagingKind}
_DONE = {
    "DiagnosticReport": frozenset(
        {"partial", "preliminary", "final", "amended", "corrected", "appended", "unknown", ""}
    ),
    "Procedure": frozenset({"completed"}),
    "ImagingStudy": frozenset({"available", ""}),
}


def extract_studies(ctx: Context) -> tuple[tuple[Study, ...], bool | None]:
    """(studies oldest first, SSTR uptake greater than liver)."""
    found: dict[tuple[ImagingKind, date | None], Study] = {}
    for rtype, states in _DONE.items():
        for item in ctx.type(rtype):
            if item.status not in states:
                continue
            kinds = [_KINDS[n] for n in item.names if n in _KINDS]
            if not kinds and not item.names:  # no recognised code at all: its text
                kinds = [_KINDS[n] for n in ctx.index.names_in_text(item.words, _KINDS)]
            if not kinds:
                continue
            when = _date(item)
            positive = _result(ctx, item) if rtype == "DiagnosticReport" else None
            for kind in kinds:
                key = (kind, when)
                old = found.get(key)
                if old is None or (old.positive is None and positive is not None):
                    found[key] = Study(kind, when, positive, item.ref)
    studies = tuple(sorted(found.values(), key=lambda s: (s.date is not None, s.date or date.min, s.kind.value)))
    for study in studies:
        ctx.source(f"studies.{study.kind.value}", study.source)
    if studies:
        ctx.source("studies", *(s.source for s in studies))
    uptake = None
    usable = [
        i
        for i in ctx.of("sstr-uptake-above-liver", types=("Observation",))
        if fhir.boolean(i.resource.get("valueBoolean")) is not None
    ]
    best = latest(usable)
    if best is not None:
        uptake = fhir.boolean(best.resource.get("valueBoolean"))
        ctx.source("sstr_uptake_above_liver", best.ref)
    return studies, uptake


def _date(item: Item) -> date | None:
    resource = item.resource
    if item.rtype == "DiagnosticReport":
        return fhir.effective(resource)
    if item.rtype == "Procedure":
        start, _ = fhir.dated(resource, "performed")
        return start
    return fhir.parse_date(resource.get("started"))


def _result(ctx: Context, item: Item) -> bool | None:
    positive = negative = False
    for cc in fhir.as_list(item.resource.get("conclusionCode")):
        if not isinstance(cc, Mapping):
            continue
        names = ctx.index.names_for_concept(cc)
        positive = positive or "result-positive" in names
        negative = negative or "result-negative" in names
    if positive == negative:
        return None  # none coded, or contradictory
    return positive
