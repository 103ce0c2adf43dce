"""Biomarkers and molecular workup (workup.hormones-if-syndrome, workup.nec.mmr-msi, workup.nec.ngs,
workup.net.mmr-ngs) and cardiac considerations (cardiac.5hiaa, cardiac.echo-if-5hiaa-elevated)."""

from __future__ import annotations

from cds_service.facts.model import Certainty, ImagingKind, Stage
from cds_service.guideline.evaluate import Outcome
from tests.guideline.workup_facts import ago, facts, fired, lab, missing, outcome, study

ECHO = ImagingKind.ECHOCARDIOGRAM

# ---------------------------------------------------------------- workup.hormones-if-syndrome


def test_hormones_fire_for_recorded_or_suspected_syndrome():
    assert "workup.hormones-if-syndrome" in fired(facts("NET", ki67=30, hormonal_syndrome=Certainty.CONFIRMED))
    assert "workup.hormones-if-syndrome" in fired(facts("NEC", hormonal_syndrome=Certainty.SUSPECTED))


def test_hormones_silent_without_syndrome():
    assert outcome(facts("NET", ki67=30), "workup.hormones-if-syndrome") is Outcome.SILENT


# ---------------------------------------------------------------- workup.nec.mmr-msi / workup.nec.ngs


def test_nec_mmr_and_ngs_fire_for_metastatic_nec_without_results():
    got = fired(facts("NEC"))
    assert {"workup.nec.mmr-msi", "workup.nec.ngs"} <= got


def test_nec_mmr_silent_with_result_or_order_or_localized():
    assert outcome(facts("NEC", mmr_deficient=False), "workup.nec.mmr-msi") is Outcome.SILENT
    assert outcome(facts("NEC", msi_high=True), "workup.nec.mmr-msi") is Outcome.SILENT
    ordered = facts("NEC", orders_pending=frozenset({"msi-mmr-test"}))
    assert outcome(ordered, "workup.nec.mmr-msi") is Outcome.SILENT
    assert outcome(facts("NEC", stage=Stage.LOCALIZED), "workup.nec.mmr-msi") is Outcome.SILENT


def test_nec_ngs_silent_with_result_or_order_or_for_net():
    assert outcome(facts("NEC", ngs_done=True), "workup.nec.ngs") is Outcome.SILENT
    assert outcome(facts("NEC", orders_pending=frozenset({"ngs"})), "workup.nec.ngs") is Outcome.SILENT
    assert outcome(facts("NET", ki67=30), "workup.nec.ngs") is Outcome.SILENT


def test_nec_molecular_unknown_without_stage():
    assert "stage" in missing(facts("NEC", stage=Stage.UNKNOWN), "workup.nec.ngs")


# ---------------------------------------------------------------- workup.net.mmr-ngs


def test_net_mmr_ngs_fires_for_metastatic_g3_net_without_either_result():
    assert "workup.net.mmr-ngs" in fired(facts("NET", ki67=30))


def test_net_mmr_ngs_silent_when_one_test_done_or_for_nec_or_localized():
    assert outcome(facts("NET", ki67=30, ngs_done=True), "workup.net.mmr-ngs") is Outcome.SILENT
    assert outcome(facts("NET", ki67=30, msi_high=False), "workup.net.mmr-ngs") is Outcome.SILENT
    assert outcome(facts("NEC"), "workup.net.mmr-ngs") is Outcome.SILENT
    assert outcome(facts("NET", ki67=30, stage=Stage.LOCALIZED), "workup.net.mmr-ngs") is Outcome.SILENT


# ---------------------------------------------------------------- cardiac.5hiaa


def test_5hiaa_fires_for_suspected_carcinoid_syndrome_without_result():
    assert "cardiac.5hiaa" in fired(facts("NET", ki67=30, carcinoid_syndrome=Certainty.SUSPECTED))


def test_5hiaa_silent_with_result_order_or_no_syndrome():
    with_result = facts("NET", ki67=30, carcinoid_syndrome=Certainty.SUSPECTED, five_hiaa=(lab(ago(5), False),))
    assert outcome(with_result, "cardiac.5hiaa") is Outcome.SILENT
    ordered = facts("NET", ki67=30, carcinoid_syndrome=Certainty.SUSPECTED, orders_pending=frozenset({"five-hiaa"}))
    assert outcome(ordered, "cardiac.5hiaa") is Outcome.SILENT
    assert outcome(facts("NET", ki67=30), "cardiac.5hiaa") is Outcome.SILENT


# ---------------------------------------------------------------- cardiac.echo-if-5hiaa-elevated


def test_echo_fires_for_elevated_5hiaa_without_later_echo():
    assert "cardiac.echo-if-5hiaa-elevated" in fired(facts("NET", ki67=30, five_hiaa=(lab(ago(10), True),)))
    old_echo = facts("NET", ki67=30, five_hiaa=(lab(ago(10), True),), studies=(study(ECHO, ago(400)),))
    assert "cardiac.echo-if-5hiaa-elevated" in fired(old_echo)


def test_echo_silent_for_normal_5hiaa_or_echo_after_it_or_ordered():
    assert outcome(facts("NET", ki67=30, five_hiaa=(lab(ago(10), False),)), "cardiac.echo-if-5hiaa-elevated") is (
        Outcome.SILENT
    )
    done = facts("NET", ki67=30, five_hiaa=(lab(ago(10), True),), studies=(study(ECHO, ago(2)),))
    assert outcome(done, "cardiac.echo-if-5hiaa-elevated") is Outcome.SILENT
    ordered = facts("NET", ki67=30, five_hiaa=(lab(ago(10), True),), orders_pending=frozenset({"echocardiogram"}))
    assert outcome(ordered, "cardiac.echo-if-5hiaa-elevated") is Outcome.SILENT
    assert outcome(facts("NEC"), "cardiac.echo-if-5hiaa-elevated") is Outcome.SILENT


def test_echo_unknown_when_5hiaa_has_no_interpretation():
    f = facts("NET", ki67=30, five_hiaa=(lab(ago(10), None),))
    assert "5-hiaa-interpretation" in missing(f, "cardiac.echo-if-5hiaa-elevated")
