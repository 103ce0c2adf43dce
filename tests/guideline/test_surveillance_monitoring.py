"""Surveillance after localized disease (Table 2) and monitoring of metastatic disease (Table 3):
schedule entries fire as an info card with the due date, or as overdue (warning) with an order."""

from __future__ import annotations

from dataclasses import replace

from cds_service.facts.model import ImagingKind, Stage
from cds_service.guideline.evaluate import Outcome
from cds_service.guideline.schedules import add_months
from tests.guideline.workup_facts import TODAY, ago, decisions, facts, line, missing, months_ago, outcome, status, study

CT = ImagingKind.CT_ABDOMEN_PELVIS


def ct(on):
    return study(CT, on)


def surveilled(diff="NEC", completed=None, *scans, **kw):
    completed = completed or months_ago(14)
    kw.setdefault("ki67", 30 if diff == "NET" else 70)
    return facts(
        diff,
        stage=Stage.LOCALIZED,
        diagnosed=ago(700),
        resected=True,
        surgery_date=completed,
        localized_treatment_completed=completed,
        disease_status=status((completed, "ned")),
        studies=tuple(ct(d) for d in scans),
        **kw,
    )


def monitored(diff="NEC", started=None, *scans, **kw):
    started = started or months_ago(8)
    kw.setdefault("ki67", 30 if diff == "NET" else 70)
    return facts(
        diff,
        diagnosed=ago(300),
        metastatic_treatment_start=started,
        lines=(line(1, "cisplatin", "etoposide", start=started, active=True),),
        studies=tuple(ct(d) for d in scans),
        **kw,
    )


# ---------------------------------------------------------------- surveillance.nec / surveillance.net


def test_nec_surveillance_overdue_without_recent_ct():
    d = decisions(surveilled("NEC", months_ago(14), months_ago(5)))["surveillance.nec"]
    assert d.outcome is Outcome.FIRES and d.schedule is not None and d.schedule.overdue


def test_nec_surveillance_not_yet_due_after_recent_ct():
    last = ago(20)
    d = decisions(surveilled("NEC", months_ago(14), last))["surveillance.nec"]
    assert d.outcome is Outcome.FIRES and d.schedule is not None and not d.schedule.overdue
    assert d.schedule.due == add_months(last, 3)


def test_net_surveillance_fires_and_uses_the_net_table():
    last = months_ago(5)  # year 4: every 6-12 months -> due at 6, not overdue before 12
    d = decisions(surveilled("NET", months_ago(48), last))["surveillance.net"]
    assert d.outcome is Outcome.FIRES and d.schedule is not None
    assert d.schedule.due == add_months(last, 6) and not d.schedule.overdue


def test_net_surveillance_year_three_is_due_at_three_overdue_after_six_months():
    last = months_ago(4)
    d = decisions(surveilled("NET", months_ago(30), last))["surveillance.net"]
    assert d.schedule is not None and d.schedule.due == add_months(last, 3) and not d.schedule.overdue


def test_surveillance_silent_for_other_population_recurrence_or_pending_ct():
    assert outcome(surveilled("NET"), "surveillance.nec") is Outcome.SILENT
    recurred = replace(surveilled("NEC"), disease_status=status((ago(400), "ned"), (ago(5), "progression")))
    assert outcome(recurred, "surveillance.nec") is Outcome.SILENT
    pending = surveilled("NEC", orders_pending=frozenset({"ct-abdomen-pelvis"}))
    assert outcome(pending, "surveillance.nec") is Outcome.SILENT


def test_surveillance_silent_before_local_treatment_is_completed():
    f = facts("NEC", stage=Stage.LOCALIZED)
    assert outcome(f, "surveillance.nec") is Outcome.SILENT


def test_nec_surveillance_ends_after_year_five():
    assert outcome(surveilled("NEC", months_ago(62)), "surveillance.nec") is Outcome.SILENT


def test_surveillance_unknown_without_disease_status():
    f = facts("NEC", stage=Stage.LOCALIZED, resected=True, surgery_date=ago(90), localized_treatment_completed=ago(90))
    assert "disease-status" in missing(f, "surveillance.nec")


# ---------------------------------------------------------------- monitoring.nec / monitoring.net


def test_nec_monitoring_overdue_after_three_months():
    d = decisions(monitored("NEC", months_ago(8), months_ago(4)))["monitoring.nec"]
    assert d.outcome is Outcome.FIRES and d.schedule is not None and d.schedule.overdue


def test_nec_monitoring_due_at_two_months():
    last = ago(30)
    d = decisions(monitored("NEC", months_ago(8), last))["monitoring.nec"]
    assert d.schedule is not None and not d.schedule.overdue and d.schedule.due == add_months(last, 2)


def test_net_monitoring_due_at_three_overdue_only_after_six_months():
    d = decisions(monitored("NET", months_ago(12), months_ago(4)))["monitoring.net"]
    assert d.outcome is Outcome.FIRES and d.schedule is not None and not d.schedule.overdue
    late = decisions(monitored("NET", months_ago(12), months_ago(7)))["monitoring.net"]
    assert late.schedule is not None and late.schedule.overdue


def test_monitoring_silent_off_treatment_or_localized():
    off = facts("NEC", lines=(line(1, "cisplatin", "etoposide", start=ago(300), end=ago(150)),))
    assert outcome(off, "monitoring.nec") is Outcome.SILENT
    assert outcome(monitored("NEC", stage=Stage.LOCALIZED), "monitoring.nec") is Outcome.SILENT
    assert outcome(monitored("NEC"), "monitoring.net") is Outcome.SILENT


def test_monitoring_unknown_without_treatment_start_date():
    f = facts("NEC", lines=(line(1, "cisplatin", "etoposide", start=None, active=True),))
    assert "metastatic-treatment-start" in missing(f, "monitoring.nec")


def test_today_is_the_facts_today():
    assert facts().today == TODAY
