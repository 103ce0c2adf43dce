"""Grade: Ki-67, mitotic count and histologic grade Observations (INPUTS.md row 'Grade').

G3 = Ki-67 > 20 % or > 20 mitoses / 2 mm2 or a grade Observation G3. G1 / G2 only when a Ki-67
of 20 % or less says so and no evidence says G3; a grade Observation G1/G2 alone, a mitotic
count alone or the morphology 8249/3 never decide a low grade. No evidence: UNKNOWN (a NEC
without Ki-67 stays UNKNOWN; the rules know NEC is high-grade by definition).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from cds_service.facts.extract import fhir
from cds_service.facts.extract.context import Context, Item, by_recency
from cds_service.facts.model import Grade

_PERCENT = frozenset({"%", "percent"})
_FRACTION = frozenset({"1", "{fraction}", "fraction"})
_PER_2MM2 = frozenset({"/(2.mm2)", "/2.mm2", "{mitoses}/(2.mm2)", "/2mm2", "per 2 mm2", "/2 mm2", "mitoses/2mm2"})
_G3_LIMIT = 20.0  # WHO 2019 / INPUTS.md: G3 above 20 % Ki-67 or 20 mitoses per 2 mm2
_G1_KI67_BELOW = 3.0  # WHO 2019: G1 Ki-67 < 3 % (and < 2 mitoses / 2 mm2)
_G1_MITOSES_BELOW = 2.0


@dataclass(frozen=True)
class Reading:
    value: float | None  # exact value, None when only a bound is known
    above_20: bool | None  # what the reading says about the G3 threshold
    upper: float | None  # an upper bound ("< 2 %"), when only that is known
    source: str
    when: date | None


@dataclass
class GradeResult:
    grade: Grade = Grade.UNKNOWN
    ki67_percent: float | None = None
    ki67_date: date | None = None
    mitotic_count: float | None = None
    grade_observed: Grade | None = None


def extract_grade(ctx: Context, foreign: frozenset[str]) -> GradeResult:
    """``foreign``: Condition references of other cancers (observations focused on them are skipped)."""
    out = GradeResult()
    ki67 = _first_reading(ctx, "ki67-primary", foreign, _ki67) or _first_reading(ctx, "ki67-fallback", foreign, _ki67)
    if ki67 is not None:
        out.ki67_percent, out.ki67_date = ki67.value, ki67.when
        ctx.source("ki67_percent", ki67.source)
    mitoses = _first_reading(ctx, "mitotic-count", foreign, _mitoses)
    if mitoses is not None:
        out.mitotic_count = mitoses.value
        ctx.source("mitotic_count_per_2mm2", mitoses.source)
    graded = _grade_observation(ctx, foreign)
    if graded is not None:
        out.grade_observed = graded[0]
        ctx.source("grade_observed", graded[1])

    evidence: list[str] = []
    if ki67 is not None and ki67.above_20:
        evidence.append(ki67.source)
    if mitoses is not None and mitoses.above_20:
        evidence.append(mitoses.source)
    if out.grade_observed is Grade.G3 and graded:
        evidence.append(graded[1])
    if evidence:
        out.grade = Grade.G3
        ctx.source("grade", *evidence)
        return out
    if ki67 is not None and ki67.above_20 is False:
        out.grade = _low_grade(ki67, mitoses, out.grade_observed)
        ctx.source("grade", ki67.source, mitoses.source if mitoses else "", graded[1] if graded else "")
    return out


def _low_grade(ki67: Reading, mitoses: Reading | None, observed: Grade | None) -> Grade:
    if observed in (Grade.G1, Grade.G2):
        return observed  # type: ignore[return-value]
    if ki67.value is None:  # only a bound: "< 2 %" is G1; "< 10 %" is not G3 but G1 vs G2 is unknown
        return (
            Grade.G1
            if ki67.upper is not None and ki67.upper <= _G1_KI67_BELOW and not mitoses_g2(mitoses)
            else Grade.UNKNOWN
        )
    g2 = ki67.value >= _G1_KI67_BELOW or mitoses_g2(mitoses)
    return Grade.G2 if g2 else Grade.G1


def _first_reading(ctx: Context, name: str, foreign: frozenset[str], read) -> Reading | None:
    for item in by_recency(ctx.of(name, types=("Observation",))):
        if _about(item, foreign):
            continue
        reading = read(ctx, item)
        if reading is not None:
            return reading
    return None


def _about(item: Item, foreign: frozenset[str]) -> bool:
    focus = {fhir.ref_key(fhir.reference(f)) for f in fhir.as_list(item.resource.get("focus"))}
    return bool(focus & foreign)


def _ki67(ctx: Context, item: Item) -> Reading | None:
    resource = item.resource
    qty = fhir.quantity(resource.get("valueQuantity"))
    value: float | None = None
    comparator: str | None = None
    if qty is not None:
        unit = qty.unit.lower()
        if unit in _PERCENT:
            value, comparator = qty.value, qty.comparator
        elif unit in _FRACTION and 0 <= qty.value <= 1:
            value, comparator = qty.value * 100, qty.comparator
        else:
            ctx.ignore(item.ref, f"Ki-67 not in % (unit {qty.unit[:20]!r}): not used")
            return None
    else:
        parsed = fhir.number_in_text(resource.get("valueString"))
        if parsed is None or not parsed[2]:
            if resource.get("valueString") is not None or resource.get("valueQuantity") is not None:
                ctx.ignore(item.ref, "Ki-67 value unreadable (expected a quantity in %)")
            return None
        value, comparator, _ = parsed
    if value is None or not 0 <= value <= 100:
        ctx.ignore(item.ref, "Ki-67 value outside 0-100 %: not used")
        return None
    return _bounded(value, comparator, item)


def _mitoses(ctx: Context, item: Item) -> Reading | None:
    resource = item.resource
    qty = fhir.quantity(resource.get("valueQuantity"))
    if qty is not None:
        if qty.unit and qty.unit not in _PER_2MM2 and qty.unit_text not in _PER_2MM2:
            ctx.ignore(item.ref, f"mitotic count not per 2 mm2 (unit {qty.unit[:20]!r}): not used")
            return None
        value, comparator = qty.value, qty.comparator
    else:
        count = fhir.integer(resource.get("valueInteger"))
        if count is None:
            return None
        value, comparator = float(count), None
    if value < 0:
        return None
    return _bounded(value, comparator, item)


def _bounded(value: float, comparator: str | None, item: Item) -> Reading:
    if comparator is None:
        return Reading(value, value > _G3_LIMIT, None, item.ref, item.when)
    if comparator in ("<", "<="):
        upper = value if comparator == "<" else value + 1e-9
        return Reading(None, False if value <= _G3_LIMIT else None, upper, item.ref, item.when)
    limit_ok = value > _G3_LIMIT or (comparator == ">" and value >= _G3_LIMIT)
    return Reading(None, True if limit_ok else None, None, item.ref, item.when)


def mitoses_g2(mitoses: Reading | None) -> bool:
    return mitoses is not None and mitoses.value is not None and mitoses.value >= _G1_MITOSES_BELOW


def _grade_observation(ctx: Context, foreign: frozenset[str]) -> tuple[Grade, str] | None:
    for item in by_recency(ctx.of("histologic-grade", types=("Observation",))):
        if _about(item, foreign):
            continue
        value = item.resource.get("valueCodeableConcept")
        if not isinstance(value, Mapping):
            continue
        grade = grade_of(ctx, value)
        if grade is not None:
            return grade, item.ref
    return None


def grade_of(ctx: Context, value: Any) -> Grade | None:
    names = ctx.index.names_for_concept(value)
    for name, grade in (("grade-g3", Grade.G3), ("grade-g2", Grade.G2), ("grade-g1", Grade.G1)):
        if name in names:
            return grade
    return None
