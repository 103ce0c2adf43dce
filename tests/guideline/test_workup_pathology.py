"""Pathology (path.*): each entry fires where the guideline says, stays silent elsewhere, and an
unknown deciding fact gives a data gap instead of a guessed branch. Facts-level cases."""

from __future__ import annotations

from cds_service.facts.model import Grade, SiteGroup, Stage
from cds_service.guideline.evaluate import Outcome
from tests.guideline.workup_facts import ago, facts, fired, line, missing, outcome, status, window

# ---------------------------------------------------------------- path.ki67-required


def test_ki67_required_fires_when_a_nen_has_no_ki67():
    assert "path.ki67-required" in fired(facts("NEC", ki67=None))


def test_ki67_required_fires_for_unknown_differentiation_without_ki67():
    assert "path.ki67-required" in fired(facts("unknown", ki67=None))


def test_ki67_required_silent_when_ki67_recorded():
    assert outcome(facts("NEC", ki67=80), "path.ki67-required") is Outcome.SILENT


def test_ki67_required_silent_when_ki67_already_ordered():
    f = facts("NEC", ki67=None, orders_pending=frozenset({"ki67-ihc"}))
    assert outcome(f, "path.ki67-required") is Outcome.SILENT


# ---------------------------------------------------------------- path.high-grade-criteria


def test_high_grade_criteria_fires_for_ki67_above_20_without_differentiation():
    assert "path.high-grade-criteria" in fired(facts("unknown", ki67=35))


def test_high_grade_criteria_fires_for_mitoses_above_20_without_differentiation():
    f = facts("unknown", ki67=None, grade=Grade.G3, mitotic_count_per_2mm2=25)
    assert "path.high-grade-criteria" in fired(f)


def test_high_grade_criteria_silent_at_ki67_20_exactly():
    assert outcome(facts("unknown", ki67=20), "path.high-grade-criteria") is Outcome.SILENT


def test_high_grade_criteria_silent_when_differentiation_known():
    assert outcome(facts("NEC", ki67=80), "path.high-grade-criteria") is Outcome.SILENT
    assert outcome(facts("NET", ki67=30), "path.high-grade-criteria") is Outcome.SILENT


def test_high_grade_criteria_unknown_without_any_proliferation_measure():
    assert "ki67" in missing(facts("unknown", ki67=None), "path.high-grade-criteria")


# ---------------------------------------------------------------- path.differentiation-ihc


def test_differentiation_ihc_fires_for_high_grade_nen_of_unknown_differentiation():
    assert "path.differentiation-ihc" in fired(facts("unknown", ki67=45))


def test_differentiation_ihc_silent_when_differentiation_recorded():
    assert outcome(facts("NET", ki67=45), "path.differentiation-ihc") is Outcome.SILENT
    assert outcome(facts("NEC", ki67=45), "path.differentiation-ihc") is Outcome.SILENT


def test_differentiation_ihc_silent_when_p53_and_rb_already_reported():
    f = facts("unknown", ki67=45, p53_aberrant=True, rb_lost=False)
    assert outcome(f, "path.differentiation-ihc") is Outcome.SILENT


def test_differentiation_ihc_silent_when_p53_already_ordered():
    f = facts("unknown", ki67=45, orders_pending=frozenset({"p53-ihc"}))
    assert outcome(f, "path.differentiation-ihc") is Outcome.SILENT


def test_differentiation_ihc_unknown_without_grade():
    assert "ki67" in missing(facts("unknown", ki67=None), "path.differentiation-ihc")


# ---------------------------------------------------------------- path.insm1


def test_insm1_fires_for_nec_with_negative_synaptophysin_and_chromogranin():
    f = facts("NEC", synaptophysin_positive=False, chromogranin_ihc_positive=False)
    assert "path.insm1" in fired(f)


def test_insm1_silent_when_one_marker_positive():
    f = facts("NEC", synaptophysin_positive=True, chromogranin_ihc_positive=False)
    assert outcome(f, "path.insm1") is Outcome.SILENT


def test_insm1_silent_when_insm1_done():
    f = facts("NEC", synaptophysin_positive=False, chromogranin_ihc_positive=False, insm1_done=True)
    assert outcome(f, "path.insm1") is Outcome.SILENT


def test_insm1_silent_for_net_and_without_any_stain_recorded():
    assert outcome(facts("NET", synaptophysin_positive=False, chromogranin_ihc_positive=False), "path.insm1") is (
        Outcome.SILENT
    )
    assert outcome(facts("NEC"), "path.insm1") is Outcome.SILENT


def test_insm1_unknown_when_only_one_stain_is_negative_and_the_other_missing():
    assert missing(facts("NEC", synaptophysin_positive=False), "path.insm1") == ("chromogranin-ihc",)
    assert missing(facts("NEC", chromogranin_ihc_positive=False), "path.insm1") == ("synaptophysin-ihc",)


# ---------------------------------------------------------------- path.site-of-origin-ihc


def test_site_of_origin_fires_for_new_metastatic_unknown_primary():
    assert "path.site-of-origin-ihc" in fired(facts("NEC", SiteGroup.UNKNOWN_PRIMARY))


def test_site_of_origin_silent_with_known_primary_or_localized():
    assert outcome(facts("NEC", SiteGroup.PANCREAS), "path.site-of-origin-ihc") is Outcome.SILENT
    f = facts("NEC", SiteGroup.UNKNOWN_PRIMARY, stage=Stage.LOCALIZED)
    assert outcome(f, "path.site-of-origin-ihc") is Outcome.SILENT


def test_site_of_origin_silent_long_after_diagnosis_once_treated():
    f = facts(
        "NEC",
        SiteGroup.UNKNOWN_PRIMARY,
        diagnosed=ago(window("initial_assessment_window_days") + 1),
        lines=(line(1, "cisplatin", "etoposide", start=ago(60)),),
    )
    assert outcome(f, "path.site-of-origin-ihc") is Outcome.SILENT


def test_site_of_origin_unknown_when_site_not_recorded():
    assert "primary-site" in missing(facts("NEC", SiteGroup.NOT_RECORDED), "path.site-of-origin-ihc")


def test_site_of_origin_fires_when_untreated_without_diagnosis_date():
    f = facts("NEC", SiteGroup.UNKNOWN_PRIMARY, diagnosed=None)
    assert outcome(f, "path.site-of-origin-ihc") is Outcome.FIRES


# ---------------------------------------------------------------- path.rebiopsy-net-progression


def test_rebiopsy_fires_for_metastatic_g3_net_with_accelerating_progression():
    f = facts("NET", ki67=30, accelerating_progression=True, disease_status=status((ago(10), "progression")))
    assert "path.rebiopsy-net-progression" in fired(f)


def test_rebiopsy_silent_for_nec_or_steady_net():
    nec = facts("NEC", accelerating_progression=True, disease_status=status((ago(10), "progression")))
    assert outcome(nec, "path.rebiopsy-net-progression") is Outcome.SILENT
    steady = facts("NET", ki67=30, accelerating_progression=False, disease_status=status((ago(10), "progression")))
    assert outcome(steady, "path.rebiopsy-net-progression") is Outcome.SILENT
    stable = facts("NET", ki67=30, disease_status=status((ago(10), "stable")))
    assert outcome(stable, "path.rebiopsy-net-progression") is Outcome.SILENT


def test_rebiopsy_unknown_when_progression_pace_not_recorded():
    f = facts("NET", ki67=30, disease_status=status((ago(10), "progression")))
    assert "progression-pace" in missing(f, "path.rebiopsy-net-progression")


def test_rebiopsy_silent_when_biopsy_already_ordered():
    f = facts(
        "NET",
        ki67=30,
        accelerating_progression=True,
        disease_status=status((ago(10), "progression")),
        orders_pending=frozenset({"biopsy"}),
    )
    assert outcome(f, "path.rebiopsy-net-progression") is Outcome.SILENT
