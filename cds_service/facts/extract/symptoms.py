"""Symptoms and syndromes (INPUTS.md rows 'Neurological symptoms', 'Hormonal syndrome').

Neurological symptoms: an active Condition in the neurologic-symptom value set, or the latest
``nen-fact#neurologic-symptoms`` true. Hormonal / carcinoid syndrome: an active Condition,
confirmed, or suspected when its verificationStatus is provisional / differential. Cardiac
symptoms: ``nen-fact#cardiac-symptoms`` true.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from cds_service.facts.extract import fhir
from cds_service.facts.extract.context import Context, latest
from cds_service.facts.extract.neoplasm import onset
from cds_service.facts.model import Certainty

_INACTIVE = frozenset({"inactive", "resolved", "remission"})


@dataclass
class SymptomResult:
    neurologic: bool = False
    neurologic_since: date | None = None
    hormonal: Certainty | None = None
    carcinoid: Certainty | None = None
    cardiac: bool = False


def extract_symptoms(ctx: Context) -> SymptomResult:
    out = SymptomResult()
    neuro = [i for i in ctx.of("neurologic-symptom", types=("Condition",)) if _active(i.resource)]
    flag = _flag(ctx, "neurologic-symptoms-fact")
    flagged = flag is not None and flag[0]
    dates = [d for d in (onset(i.resource) for i in neuro) if d]
    if flagged and flag[1].when:
        dates.append(flag[1].when)
    if neuro or flagged:
        out.neurologic = True
        out.neurologic_since = min(dates) if dates else None
        ctx.source("neurologic_symptoms", *(i.ref for i in neuro), flag[1].ref if flagged else "")
    for name, attr, fact in (
        ("hormonal-syndrome", "hormonal", "hormonal_syndrome"),
        ("carcinoid-syndrome", "carcinoid", "carcinoid_syndrome"),
    ):
        items = [i for i in ctx.of(name, types=("Condition",)) if _active(i.resource)]
        confirmed = [i for i in items if not i.suspected]
        chosen = confirmed or items
        if chosen:
            setattr(out, attr, Certainty.CONFIRMED if confirmed else Certainty.SUSPECTED)
            ctx.source(fact, *(i.ref for i in chosen))
    cardiac = _flag(ctx, "cardiac-symptoms")
    if cardiac is not None and cardiac[0]:
        out.cardiac = True
        ctx.source("cardiac_symptoms", cardiac[1].ref)
    return out


def _active(resource) -> bool:
    return not (fhir.concept_code(resource.get("clinicalStatus")) & _INACTIVE)


def _flag(ctx: Context, name: str):
    usable = [
        i for i in ctx.of(name, types=("Observation",)) if fhir.boolean(i.resource.get("valueBoolean")) is not None
    ]
    best = latest(usable)
    return None if best is None else (fhir.boolean(best.resource.get("valueBoolean")), best)
