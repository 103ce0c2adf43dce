"""Immunohistochemistry (INPUTS.md row 'IHC'): p53, Rb, SSTR2A, synaptophysin, chromogranin A, INSM1.

Each is the latest Observation of its kind whose value says something: p53 aberrant
(``nen-fact#p53-aberrant`` or SNOMED positive) / wild-type; Rb lost / retained; the others
positive / negative (SNOMED) or ``valueBoolean``. Anything else leaves the fact unknown.
"""

from __future__ import annotations

from dataclasses import dataclass

from cds_service.facts.extract import fhir
from cds_service.facts.extract.context import Context, Item, by_recency


@dataclass
class PathologyResult:
    p53_aberrant: bool | None = None
    rb_lost: bool | None = None
    sstr2a_positive: bool | None = None
    synaptophysin_positive: bool | None = None
    chromogranin_ihc_positive: bool | None = None
    insm1_done: bool = False


# fact -> (observation value set, value set meaning True, value set meaning False)
_IHC = {
    "p53_aberrant": ("p53-ihc", "p53-aberrant", "p53-wild-type"),
    "rb_lost": ("rb-ihc", "rb-lost", "rb-retained"),
    "sstr2a_positive": ("sstr2a-ihc", "result-positive", "result-negative"),
    "synaptophysin_positive": ("synaptophysin-ihc", "result-positive", "result-negative"),
    "chromogranin_ihc_positive": ("chromogranin-ihc", "result-positive", "result-negative"),
}


def extract_pathology(ctx: Context, foreign: frozenset[str]) -> PathologyResult:
    out = PathologyResult()
    for fact, (code_set, yes, no) in _IHC.items():
        for item in by_recency(ctx.of(code_set, types=("Observation",))):
            if _about(item, foreign):
                continue
            value = answer(ctx, item, yes, no, allow_boolean=fact != "p53_aberrant")
            if value is not None:
                setattr(out, fact, value)
                ctx.source(fact, item.ref)
                break
    insm1 = [i for i in ctx.of("insm1-ihc", types=("Observation",)) if not _about(i, foreign)]
    if insm1:
        out.insm1_done = True
        ctx.source("insm1_done", *(i.ref for i in insm1))
    return out


def answer(ctx: Context, item: Item, yes: str, no: str, *, allow_boolean: bool = True) -> bool | None:
    names = ctx.index.names_for_concept(item.resource.get("valueCodeableConcept"))
    if yes in names and no not in names:
        return True
    if no in names and yes not in names:
        return False
    return fhir.boolean(item.resource.get("valueBoolean")) if allow_boolean else None


def _about(item: Item, foreign: frozenset[str]) -> bool:
    focus = {fhir.ref_key(fhir.reference(f)) for f in fhir.as_list(item.resource.get("focus"))}
    return bool(focus & foreign)
