"""Surveillance (Table 2) and monitoring (Table 3) intervals: when the next study is due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from cds_service.facts.model import ImagingKind, PatientFacts


def add_months(start: date, months: int) -> date:
    month = start.month - 1 + months
    year = start.year + month // 12
    month = month % 12 + 1
    days_in_month = [
        31,
        29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28,
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ][month - 1]
    return date(year, month, min(start.day, days_in_month))


@dataclass(frozen=True)
class ScheduleStatus:
    clock_start: date  # completion of localized treatment, or start of metastatic treatment
    years_since_start: float
    due_months: int
    overdue_months: int
    last_study: date | None  # last multiphase CT or MRI after the clock started
    due: date
    overdue: bool
    finished: bool  # past the last interval of the table (e.g. year 5 for NEC)


def schedule_status(facts: PatientFacts, spec: dict[str, Any], today: date) -> ScheduleStatus | None:
    """None when the clock's start date is not in the record (a data gap, never a guess)."""
    start: date | None = getattr(facts, spec["clock"])
    if start is None:
        return None
    years = max(0.0, (today - start).days / 365.25)
    intervals = spec["intervals"]
    finished = years >= intervals[-1][1]
    row = next((r for r in intervals if r[0] <= years < r[1]), intervals[-1])
    due_months, overdue_months = int(row[2]), int(row[3])
    last = facts.last_study(ImagingKind.CT_ABDOMEN_PELVIS, ImagingKind.MRI_ABDOMEN)
    last_date = last.date if last and last.date and last.date >= start else None
    anchor = last_date or start
    due = add_months(anchor, due_months)
    overdue = today > add_months(anchor, overdue_months)
    return ScheduleStatus(start, round(years, 2), due_months, overdue_months, last_date, due, overdue, finished)
