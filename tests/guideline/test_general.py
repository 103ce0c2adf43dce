"""Discussion-level recommendations (general.clinical-trial, general.expert-center)."""

from __future__ import annotations

from cds_service.guideline.evaluate import Outcome
from tests.guideline.workup_facts import ago, facts, fired, line, outcome, status, window

OLD = window("initial_assessment_window_days") + 60


def test_trial_and_expert_center_fire_at_diagnosis():
    assert {"general.clinical-trial", "general.expert-center"} <= fired(facts("NEC"))


def test_trial_fires_at_progression_long_after_diagnosis():
    f = facts("NET", ki67=30, diagnosed=ago(OLD), disease_status=status((ago(5), "progression")))
    assert "general.clinical-trial" in fired(f)
    assert outcome(f, "general.expert-center") is Outcome.SILENT


def test_trial_and_expert_center_silent_for_stable_disease_after_initial_assessment():
    f = facts("NEC", diagnosed=ago(OLD), disease_status=status((ago(5), "stable")))
    assert outcome(f, "general.clinical-trial") is Outcome.SILENT
    assert outcome(f, "general.expert-center") is Outcome.SILENT


def test_no_nen_no_decisions_at_all():
    assert fired(facts(None)) == set()


def test_expert_center_fires_without_diagnosis_date_before_any_treatment():
    # Untreated and never re-assessed: still the initial assessment, whatever the onset date says.
    assert outcome(facts("NEC", diagnosed=None), "general.expert-center") is Outcome.FIRES


def test_expert_center_silent_without_diagnosis_date_once_treated():
    treated = facts("NEC", diagnosed=None, lines=(line(1, "cisplatin", "etoposide", start=ago(100), active=True),))
    assert outcome(treated, "general.expert-center") is Outcome.SILENT
