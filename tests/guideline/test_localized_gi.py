"""Management of localized GI / pancreatic disease (local.net.*, local.nec.*). Facts-level cases."""

from __future__ import annotations

from cds_service.facts.model import SiteGroup, Stage
from cds_service.guideline.evaluate import Outcome
from tests.guideline.workup_facts import ago, facts, fired, line, missing, outcome, status, window

LOCAL = Stage.LOCALIZED
PANCREAS, RECTUM, CERVIX = SiteGroup.PANCREAS, SiteGroup.COLORECTAL, SiteGroup.CERVIX
RECENT = 30  # days since surgery: inside recent_treatment_window_days


def net(site=PANCREAS, **kw):
    kw.setdefault("ki67", 30)
    return facts("NET", site, stage=LOCAL, **kw)


def nec(site=RECTUM, **kw):
    return facts("NEC", site, stage=LOCAL, **kw)


def resected(days=RECENT, **kw):
    return {"resected": True, "surgery_date": ago(days), **kw}


# ---------------------------------------------------------------- local.net.resection


def test_net_resection_fires_for_localized_gep_g3_net_not_resected():
    assert "local.net.resection" in fired(net())
    assert "local.net.resection" in fired(net(SiteGroup.SMALL_BOWEL))


def test_net_resection_silent_when_resected_metastatic_nec_or_gynecologic():
    assert outcome(net(**resected()), "local.net.resection") is Outcome.SILENT
    assert outcome(facts("NET", ki67=30), "local.net.resection") is Outcome.SILENT  # metastatic
    assert outcome(nec(PANCREAS), "local.net.resection") is Outcome.SILENT
    assert outcome(net(CERVIX), "local.net.resection") is Outcome.SILENT


def test_net_resection_unknown_without_stage():
    assert "stage" in missing(facts("NET", ki67=30, stage=Stage.UNKNOWN), "local.net.resection")


# ---------------------------------------------------------------- local.net.distal-pancreatectomy


def test_distal_pancreatectomy_fires_for_body_or_tail_net():
    assert "local.net.distal-pancreatectomy" in fired(net(body_tail=True))


def test_distal_pancreatectomy_silent_for_head_other_site_or_resected():
    assert outcome(net(body_tail=False), "local.net.distal-pancreatectomy") is Outcome.SILENT
    assert outcome(net(SiteGroup.STOMACH), "local.net.distal-pancreatectomy") is Outcome.SILENT
    assert outcome(net(body_tail=True, **resected()), "local.net.distal-pancreatectomy") is Outcome.SILENT


# ---------------------------------------------------------------- local.net.adjuvant-trial


def test_adjuvant_trial_fires_for_resected_pancreatic_net_ki67_below_55():
    assert "local.net.adjuvant-trial" in fired(net(ki67=40, **resected()))


def test_adjuvant_trial_silent_for_ki67_55_or_more_bowel_or_unresected():
    assert outcome(net(ki67=55, **resected()), "local.net.adjuvant-trial") is Outcome.SILENT
    assert outcome(net(SiteGroup.SMALL_BOWEL, **resected()), "local.net.adjuvant-trial") is Outcome.SILENT
    assert outcome(net(), "local.net.adjuvant-trial") is Outcome.SILENT


def test_adjuvant_trial_silent_years_after_resection_once_followed_up():
    days = window("recent_treatment_window_days") + 200
    old = net(**resected(days), disease_status=status((ago(days - 90), "ned")))
    assert outcome(old, "local.net.adjuvant-trial") is Outcome.SILENT


def test_adjuvant_trial_fires_after_an_old_resection_with_nothing_recorded_since():
    old = net(**resected(window("recent_treatment_window_days") + 200))
    assert outcome(old, "local.net.adjuvant-trial") is Outcome.FIRES


def test_adjuvant_trial_unknown_without_surgery_date():
    f = net(resected=True, surgery_date=None)
    assert "surgery-date" in missing(f, "local.net.adjuvant-trial")


# ---------------------------------------------------------------- local.nec.multidisciplinary / trial


def test_nec_multidisciplinary_and_trial_fire_for_untreated_localized_gi_nec():
    got = fired(nec())
    assert {"local.nec.multidisciplinary", "local.nec.trial"} <= got


def test_nec_multidisciplinary_silent_after_resection_or_for_metastatic_or_gyn():
    assert outcome(nec(**resected()), "local.nec.multidisciplinary") is Outcome.SILENT
    assert outcome(facts("NEC", RECTUM), "local.nec.multidisciplinary") is Outcome.SILENT
    assert outcome(nec(CERVIX), "local.nec.multidisciplinary") is Outcome.SILENT


def test_nec_trial_silent_once_on_chemotherapy_or_for_net():
    on_chemo = nec(lines=(line(1, "cisplatin", "etoposide", start=ago(20), active=True),))
    assert outcome(on_chemo, "local.nec.trial") is Outcome.SILENT
    assert outcome(net(), "local.nec.trial") is Outcome.SILENT


# ---------------------------------------------------------------- local.nec.platinum-etoposide-rt


def test_platinum_etoposide_rt_fires_for_untreated_localized_gi_nec():
    assert "local.nec.platinum-etoposide-rt" in fired(nec())


def test_platinum_etoposide_rt_fires_after_recent_resection_when_radiation_possible():
    assert "local.nec.platinum-etoposide-rt" in fired(nec(**resected(), radiation_not_amenable=False))


def test_platinum_etoposide_rt_silent_on_chemo_etoposide_intolerance_or_no_radiation_possible():
    on_chemo = nec(lines=(line(1, "carboplatin", "etoposide", start=ago(20), active=True),))
    assert outcome(on_chemo, "local.nec.platinum-etoposide-rt") is Outcome.SILENT
    intolerant = nec(intolerances=frozenset({"etoposide"}))
    assert outcome(intolerant, "local.nec.platinum-etoposide-rt") is Outcome.SILENT
    no_rt = nec(**resected(), radiation_not_amenable=True)
    assert outcome(no_rt, "local.nec.platinum-etoposide-rt") is Outcome.SILENT


def test_platinum_etoposide_rt_unknown_after_resection_without_radiation_amenability():
    assert "radiation-amenability" in missing(nec(**resected()), "local.nec.platinum-etoposide-rt")


# ---------------------------------------------------------------- local.nec.carboplatin-paclitaxel


def test_carboplatin_paclitaxel_fires_when_etoposide_cannot_be_given():
    assert "local.nec.carboplatin-paclitaxel" in fired(nec(intolerances=frozenset({"etoposide"})))


def test_carboplatin_paclitaxel_silent_without_intolerance_or_when_given():
    assert outcome(nec(), "local.nec.carboplatin-paclitaxel") is Outcome.SILENT
    given = nec(
        intolerances=frozenset({"etoposide"}),
        lines=(line(1, "carboplatin", "paclitaxel", start=ago(20), active=True),),
    )
    assert outcome(given, "local.nec.carboplatin-paclitaxel") is Outcome.SILENT


# ---------------------------------------------------------------- local.nec.capecitabine-consolidation


def completed_pe(days_since_end=20):
    return (line(1, "cisplatin", "etoposide", start=ago(days_since_end + 90), end=ago(days_since_end)),)


def test_capecitabine_fires_after_completed_platinum_etoposide():
    assert "local.nec.capecitabine-consolidation" in fired(nec(lines=completed_pe()))


def test_capecitabine_silent_while_pe_ongoing_after_chemoradiation_or_progression():
    ongoing = nec(lines=(line(1, "cisplatin", "etoposide", start=ago(40), active=True),))
    assert outcome(ongoing, "local.nec.capecitabine-consolidation") is Outcome.SILENT
    crt = nec(lines=completed_pe(), chemoradiation_completed_date=ago(5))
    assert outcome(crt, "local.nec.capecitabine-consolidation") is Outcome.SILENT
    progressed = nec(lines=completed_pe(), disease_status=status((ago(3), "progression")))
    assert outcome(progressed, "local.nec.capecitabine-consolidation") is Outcome.SILENT
    long_ago = nec(lines=completed_pe(window("recent_treatment_window_days") + 100))
    assert outcome(long_ago, "local.nec.capecitabine-consolidation") is Outcome.SILENT


def test_capecitabine_unknown_for_undated_completed_course():
    f = nec(lines=(line(1, "cisplatin", "etoposide", start=None),))
    assert "therapy-dates" in missing(f, "local.nec.capecitabine-consolidation")


# ---------------------------------------------------------------- local.nec.adjuvant-chemort-positive-margin


def test_adjuvant_chemort_fires_for_positive_margin():
    assert "local.nec.adjuvant-chemort-positive-margin" in fired(nec(**resected(), surgical_margin_positive=True))


def test_adjuvant_chemort_silent_for_negative_margin_or_chemoradiation_given():
    assert outcome(nec(**resected(), surgical_margin_positive=False), "local.nec.adjuvant-chemort-positive-margin") is (
        Outcome.SILENT
    )
    done = nec(**resected(), surgical_margin_positive=True, chemoradiation_completed_date=ago(3))
    assert outcome(done, "local.nec.adjuvant-chemort-positive-margin") is Outcome.SILENT
    assert outcome(nec(), "local.nec.adjuvant-chemort-positive-margin") is Outcome.SILENT


def test_adjuvant_chemort_unknown_without_margin_status():
    assert "surgical-margin" in missing(nec(**resected()), "local.nec.adjuvant-chemort-positive-margin")


# ---------------------------------------------------------------- local.nec.adjuvant-chemo


def test_adjuvant_chemo_fires_when_site_not_amenable_to_radiation():
    assert "local.nec.adjuvant-chemo" in fired(nec(PANCREAS, **resected(), radiation_not_amenable=True))


def test_adjuvant_chemo_silent_when_radiation_possible_or_chemo_already_after_surgery():
    assert outcome(nec(**resected(), radiation_not_amenable=False), "local.nec.adjuvant-chemo") is Outcome.SILENT
    started = nec(
        **resected(60),
        radiation_not_amenable=True,
        lines=(line(1, "cisplatin", "etoposide", start=ago(30), active=True),),
    )
    assert outcome(started, "local.nec.adjuvant-chemo") is Outcome.SILENT
    assert outcome(nec(radiation_not_amenable=True), "local.nec.adjuvant-chemo") is Outcome.SILENT  # not resected


def test_adjuvant_chemo_unknown_without_radiation_amenability():
    assert "radiation-amenability" in missing(nec(**resected()), "local.nec.adjuvant-chemo")
