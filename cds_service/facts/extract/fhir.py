"""Defensive readers for FHIR R4 JSON: every function takes anything and never raises.

Resources arrive as plain dicts from prefetch or a FHIR server and may be malformed in any way
(wrong types, missing fields, huge strings). These helpers return ``None`` / empty values for
whatever does not have the expected shape, so extractors can stay short.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

TEXT_LIMIT = 1000  # characters of free text looked at (order text, code text): longer text is cut
_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
_NUMBER_TEXT = re.compile(r"\s*(<=|>=|<|>|≤|≥)?\s*(\d{1,6}(?:[.,]\d{1,6})?)\s*(%?)\s*")
_COMPARATORS = {"<": "<", "<=": "<=", ">": ">", ">=": ">=", "≤": "<=", "≥": ">="}


def is_map(value: Any) -> bool:
    # dict first: the Mapping ABC check is slow, and JSON gives dicts
    return isinstance(value, dict) or (
        value is not None and not isinstance(value, str | list) and isinstance(value, Mapping)
    )


def as_list(value: Any) -> list[Any]:
    """A FHIR repeating element: a list, or a single value wrongly sent bare."""
    if isinstance(value, list):
        return value
    if value is None:
        return []
    return [value]


def maps(value: Any) -> list[Mapping[str, Any]]:
    return [v for v in as_list(value) if is_map(v)]


def text(value: Any, limit: int = TEXT_LIMIT) -> str:
    return value[:limit] if isinstance(value, str) else ""


def concept(value: Any) -> Mapping[str, Any] | None:
    """A CodeableConcept (a mapping), else None."""
    return value if is_map(value) else None


def codings(cc: Any) -> list[Mapping[str, Any]]:
    if not is_map(cc):
        return []
    return maps(cc.get("coding"))


def code_of(coding: Mapping[str, Any]) -> str:
    code = coding.get("code")
    return code.strip() if isinstance(code, str) and len(code) <= 100 else ""


def concept_texts(cc: Any) -> str:
    """Human words of a CodeableConcept: its text and every coding display, for text recognition."""
    if not is_map(cc):
        return ""
    parts = [text(cc.get("text"))]
    parts.extend(text(c.get("display")) for c in codings(cc))
    return " | ".join(p for p in parts if p)[:TEXT_LIMIT]


def display(cc: Any) -> str:
    if not is_map(cc):
        return ""
    words = text(cc.get("text"), 200)
    if words:
        return words
    for c in codings(cc):
        words = text(c.get("display"), 200)
        if words:
            return words
    return ""


_DATES: dict[str, date | None] = {}
_DATES_LIMIT = 20_000


def parse_date(value: Any) -> date | None:
    """The calendar date of a FHIR date / dateTime / instant (partial dates: first day)."""
    if not isinstance(value, str):
        return None
    key = value[:40].strip()[:10]
    if key in _DATES:
        return _DATES[key]
    found = _parse_date(key)
    if len(_DATES) < _DATES_LIMIT:
        _DATES[key] = found
    return found


def _parse_date(value: str) -> date | None:
    match = _DATE.match(value[:40].strip())
    if not match:
        return None
    year, month, day = match.group(1), match.group(2), match.group(3)
    try:
        return date(int(year), int(month or 1), int(day or 1))
    except ValueError:
        return None


def period_start(value: Any) -> date | None:
    return parse_date(value.get("start")) if is_map(value) else None


def period_end(value: Any) -> date | None:
    return parse_date(value.get("end")) if is_map(value) else None


_CHOICES: dict[str, tuple[tuple[str, str, str], str]] = {}  # prefix -> its [x] element names


def dated(resource: Mapping[str, Any], prefix: str) -> tuple[date | None, date | None]:
    """(start, end) of a ``<prefix>[x]`` choice: DateTime, Instant, Date or Period."""
    names = _CHOICES.get(prefix)
    if names is None:
        names = _CHOICES[prefix] = ((prefix + "DateTime", prefix + "Instant", prefix + "Date"), prefix + "Period")
    for name in names[0]:
        d = parse_date(resource.get(name))
        if d:
            return d, d
    period = resource.get(names[1])
    start, end = period_start(period), period_end(period)
    if start or end:
        return start or end, end or start
    return None, None


def effective(resource: Mapping[str, Any]) -> date | None:
    """Observation / DiagnosticReport clinical date: effective[x], else issued."""
    start, _ = dated(resource, "effective")
    return start or parse_date(resource.get("issued"))


def reference(value: Any) -> str:
    """The literal reference string of a Reference, or ''."""
    if is_map(value):
        ref = value.get("reference")
        if isinstance(ref, str) and len(ref) <= 500:
            return ref.strip()
    return ""


def ref_key(ref: str) -> str:
    """``Type/id`` of a relative or absolute literal reference (history suffix dropped)."""
    if not ref or ref.startswith("#"):
        return ref
    parts = ref.rstrip("/").split("/")
    if len(parts) >= 4 and parts[-2] == "_history":
        parts = parts[:-2]
    return f"{parts[-2]}/{parts[-1]}" if len(parts) >= 2 else ref


def status(resource: Mapping[str, Any]) -> str:
    value = resource.get("status")
    return value.strip().lower() if isinstance(value, str) and len(value) <= 50 else ""


def concept_code(cc: Any) -> set[str]:
    """The bare codes of a CodeableConcept (for status-like concepts such as verificationStatus)."""
    return {code_of(c).lower() for c in codings(cc)} - {""}


def profiles(resource: Mapping[str, Any]) -> list[str]:
    meta = resource.get("meta")
    if not is_map(meta):
        return []
    return [p for p in as_list(meta.get("profile")) if isinstance(p, str) and len(p) <= 300]


def extensions(element: Any, url: str) -> list[Mapping[str, Any]]:
    if not is_map(element):
        return []
    return [e for e in maps(element.get("extension")) if e.get("url") == url]


_INFINITE = (float("inf"), float("-inf"))


@dataclass(frozen=True, slots=True)
class Quantity:
    value: float
    comparator: str | None  # "<", "<=", ">", ">=" or None
    unit: str  # UCUM code if present, else the unit text (stripped)
    unit_text: str


def quantity(value: Any) -> Quantity | None:
    if not is_map(value):
        return None
    number = value.get("value")
    if isinstance(number, bool) or not isinstance(number, int | float):
        return None
    number = float(number)
    if number != number or number in _INFINITE:
        return None
    comparator = value.get("comparator")
    comparator = _COMPARATORS.get(comparator) if isinstance(comparator, str) else None
    code, unit = text(value.get("code"), 50).strip(), text(value.get("unit"), 50).strip()
    return Quantity(number, comparator, code or unit, unit)


def number_in_text(value: Any) -> tuple[float, str | None, bool] | None:
    """A number written as text: ``"45%"``, ``"< 2 %"``, ``"12.5"`` -> (value, comparator, has_percent)."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    match = _NUMBER_TEXT.fullmatch(value)
    if not match:
        return None
    try:
        number = float(match.group(2).replace(",", "."))
    except ValueError:
        return None
    return number, _COMPARATORS.get(match.group(1) or ""), bool(match.group(3))


def boolean(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def integer(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if -1_000_000 < value < 1_000_000 else None


def first(values: Iterable[Any]) -> Any:
    for v in values:
        if v:
            return v
    return None
