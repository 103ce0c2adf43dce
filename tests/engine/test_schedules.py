"""Surveillance and monitoring clocks (Tables 2 and 3)."""

from __future__ import annotations

from datetime import date

from cds_service.facts.model import ImagingKind, PatientFacts, Study
from cds_service.guideline.evaluate import parameters
from cds_service.guideline.schedules import add_months, schedule_status

TODAY = date(2026, 11, 28)


def facts(completed: date | None, *ct_dates: date) -> PatientFacts:
    studies = tuple(
        Study(ImagingKind.CT_ABDOMEN_PELVIS, d, source=f"DiagnosticReport/{i}") for i, d in enumerate(ct_dates)
    )
    return PatientFacts(patient_id="p", today=TODAY, localized_treatment_completed=completed, studies=studies)


def test_add_months_clamps_to_month_end():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)


def test_no_clock_start_is_unknown_not_a_guess():
    assert schedule_status(facts(None), parameters()["schedules"]["surveillance.nec"], TODAY) is None


def test_nec_first_years_every_three_months_overdue():
    status = schedule_status(
        facts(date(2026, 1, 10), date(2026, 5, 1)), parameters()["schedules"]["surveillance.nec"], TODAY
    )
    assert status is not None
    assert status.last_study == date(2026, 5, 1)
    assert status.due == date(2026, 8, 1)
    assert status.overdue


def test_nec_not_yet_due():
    status = schedule_status(
        facts(date(2026, 1, 10), date(2026, 10, 1)), parameters()["schedules"]["surveillance.nec"], TODAY
    )
    assert status is not None and not status.overdue
    assert status.due == date(2027, 1, 1)


def test_imaging_before_the_clock_started_does_not_count():
    status = schedule_status(
        facts(date(2026, 10, 1), date(2026, 6, 1)), parameters()["schedules"]["surveillance.nec"], TODAY
    )
    assert status is not None and status.last_study is None
    assert status.due == date(2027, 1, 1)


def test_net_after_year_three_due_at_six_overdue_after_twelve_months():
    spec = parameters()["schedules"]["surveillance.net"]
    status = schedule_status(facts(date(2022, 6, 1), date(2026, 2, 1)), spec, TODAY)
    assert status is not None
    assert status.due == date(2026, 8, 1) and not status.overdue
    late = schedule_status(facts(date(2022, 6, 1), date(2025, 10, 1)), spec, TODAY)
    assert late is not None and late.overdue


def test_nec_surveillance_ends_after_year_five():
    status = schedule_status(facts(date(2020, 1, 1)), parameters()["schedules"]["surveillance.nec"], TODAY)
    assert status is not None and status.finished
