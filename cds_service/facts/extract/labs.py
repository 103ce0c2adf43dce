"""Serum / urine markers (INPUTS.md row 'Labs'): chromogranin A and 5-HIAA, oldest first.

Elevated = interpretation H / HH / A, else the value above ``referenceRange.high`` in the same
unit; interpretation N / L says not elevated; otherwise unknown. Units are never converted.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from cds_service.facts.extract import fhir
from cds_service.facts.extract.context import Context, Item
from cds_service.facts.model import LabResult


def extract_labs(ctx: Context) -> tuple[tuple[LabResult, ...], tuple[LabResult, ...]]:
    out = []
    for name, fact in (("chromogranin-a", "chromogranin_a"), ("five-hiaa", "five_hiaa")):
        results = [r for r in (_lab(ctx, i) for i in ctx.of(name, types=("Observation",))) if r is not None]
        results.sort(key=lambda r: (r.date is not None, r.date or date.min))
        if results:
            ctx.source(fact, *(r.source for r in results))
        out.append(tuple(results))
    return out[0], out[1]


def _lab(ctx: Context, item: Item) -> LabResult | None:
    resource = item.resource
    qty = fhir.quantity(resource.get("valueQuantity"))
    interpretation = fhir.as_list(resource.get("interpretation"))
    if qty is None and not interpretation:
        return None
    return LabResult(
        date=item.when,
        value=qty.value if qty and not qty.comparator else None,
        unit=qty.unit or None if qty else None,
        elevated=elevated(ctx, resource, qty),
        source=item.ref,
    )


def elevated(ctx: Context, resource: Mapping, qty: fhir.Quantity | None) -> bool | None:
    flags = set()
    for cc in fhir.as_list(resource.get("interpretation")):
        flags |= ctx.index.names_for_concept(cc)
    if "interpretation-elevated" in flags:
        return True
    if "interpretation-normal" in flags:
        return False
    if qty is None or qty.comparator in (">", ">=", "<", "<="):
        if qty is not None and qty.comparator in (">", ">="):
            return _against_high(resource, qty, lower_bound=True)
        return None
    return _against_high(resource, qty, lower_bound=False)


def _against_high(resource: Mapping, qty: fhir.Quantity, *, lower_bound: bool) -> bool | None:
    for rng in fhir.maps(resource.get("referenceRange")):
        high = fhir.quantity(rng.get("high"))
        if high is None or high.comparator:
            continue
        if (high.unit or high.unit_text) != (qty.unit or qty.unit_text):
            continue  # never compare across units
        if lower_bound:
            return True if qty.value >= high.value else None
        return qty.value > high.value
    return None
