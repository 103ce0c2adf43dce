"""Gynecologic G3 NEN: rule-out for NET, FIGO-stage branches for cervical NEC, metastatic and later lines."""

from __future__ import annotations

import json
from datetime import date

import pytest

from cds_service.facts.model import SiteGroup, Stage
from cds_service.guideline.evaluate import Outcome
from tests.guideline import therapy_fhir as fhir
from tests.guideline.therapy_facts import LIVER, facts, fired, line, missing, offered, outcome, status
from tests.support.fhir import LOINC, SNOMED, bundle, cc, observation

CERVIX, UTERUS, PANCREAS = SiteGroup.CERVIX, SiteGroup.UTERUS, SiteGroup.PANCREAS
EP = line(1, "cisplatin", "etoposide", start=date(2026, 4, 1), end=date(2026, 8, 1))
CIS_ETO, CARBO_ETO = ("med-cisplatin", "med-etoposide"), ("med-carboplatin", "med-etoposide")
PELVIC_RT = "sr-pelvic-radiation"
LOCOREGIONAL = (
    "IA1",
    "IA2",
    "IB1",
    "IB2",
    "IB3",
    "IIA1",
    "IIA2",
    "IIB",
    "III",
    "IIIA",
    "IIIB",
    "IIIC1",
    "IIIC2",
    "IVA",
)


def cervical_nec(figo: str | None, **kw):
    """Small-cell cervical NEC with a FIGO stage; IA1-IVA means no distant metastasis."""
    if figo == "IVB":
        kw.setdefault("stage", Stage.METASTATIC)
        kw.setdefault("sites", (LIVER,))
    else:
        kw.setdefault("stage", Stage.LOCALIZED if figo else Stage.UNKNOWN)
        kw.setdefault("sites", ())
    return facts("NEC", kw.pop("site", CERVIX), ki67=90, figo_stage=figo, **kw)


def branches(f) -> set[str]:
    return {rid for rid in fired(f) if rid.startswith("gyn.")}


# ---------------------------------------------------------------- the branch table, stage by stage


@pytest.mark.parametrize(
    ("figo", "expected"),
    [
        ("IA1", {"gyn.early.radical-hysterectomy"}),
        ("IA2", {"gyn.early.radical-hysterectomy"}),
        ("IB1", {"gyn.early.radical-hysterectomy"}),
        ("IB2", {"gyn.early.radical-hysterectomy"}),
        ("IB3", {"gyn.ib3-iia2.chemoradiation", "gyn.locally-advanced.chemoradiation"}),
        ("IIA1", {"gyn.ib3-iia2.chemoradiation", "gyn.locally-advanced.chemoradiation"}),
        ("IIA2", {"gyn.ib3-iia2.chemoradiation", "gyn.locally-advanced.chemoradiation"}),
        ("IIB", {"gyn.locally-advanced.chemoradiation"}),
        ("IIIC1", {"gyn.locally-advanced.chemoradiation"}),
        ("IVA", {"gyn.locally-advanced.chemoradiation"}),
        ("IVB", {"gyn.ivb.cisplatin-etoposide"}),
    ],
)
def test_untreated_cervical_nec_branches_by_figo_stage(figo, expected):
    assert branches(cervical_nec(figo)) == expected


def test_undivided_stage_inside_one_group_decides_and_straddling_one_is_a_gap():
    assert "gyn.locally-advanced.chemoradiation" in fired(cervical_nec("III"))
    assert "figo-stage" in missing(cervical_nec("IB"), "gyn.early.radical-hysterectomy")
    assert "gyn.ib3-iia2.chemoradiation" in fired(cervical_nec("IIA"))
    assert "figo-stage" in missing(cervical_nec("IV", stage=Stage.UNKNOWN), "gyn.locally-advanced.chemoradiation")


def test_missing_figo_stage_is_a_gap_for_every_locoregional_branch():
    f = cervical_nec(None)
    for rec_id in ("gyn.early.radical-hysterectomy", "gyn.ib3-iia2.chemoradiation", "gyn.ivb.cisplatin-etoposide"):
        assert "figo-stage" in missing(f, rec_id)


def test_distant_metastases_without_figo_take_the_metastatic_branch():
    f = cervical_nec(None, stage=Stage.METASTATIC, sites=(LIVER,))
    assert branches(f) == {"gyn.ivb.cisplatin-etoposide"}


def test_locoregional_figo_with_later_distant_metastases_is_no_longer_locoregional():
    f = cervical_nec("IB1", stage=Stage.METASTATIC, sites=(LIVER,))
    assert branches(f) == {"gyn.ivb.cisplatin-etoposide"}


# ---------------------------------------------------------------- early stage: surgery then adjuvant therapy


def test_radical_hysterectomy_offer_and_silence_once_operated_or_ordered():
    assert offered(cervical_nec("IB1"), "gyn.early.radical-hysterectomy") == [("sr-radical-hysterectomy",)]
    assert outcome(cervical_nec("IB1", resected=True), "gyn.early.radical-hysterectomy") is Outcome.SILENT
    ordered = cervical_nec("IB1", orders_pending=frozenset({"radical-hysterectomy"}))
    assert outcome(ordered, "gyn.early.radical-hysterectomy") is Outcome.SILENT


def test_adjuvant_cisplatin_etoposide_after_surgery_only():
    assert offered(cervical_nec("IB2", resected=True), "gyn.early.adjuvant-ep") == [CIS_ETO]
    assert outcome(cervical_nec("IB2"), "gyn.early.adjuvant-ep") is Outcome.SILENT
    assert outcome(cervical_nec("IB2", resected=True, lines=(EP,)), "gyn.early.adjuvant-ep") is Outcome.SILENT
    assert outcome(cervical_nec("IIA1", resected=True), "gyn.early.adjuvant-ep") is Outcome.SILENT


@pytest.mark.parametrize(
    "risk",
    [
        {"tumor_size_cm": 2.5, "deep_stromal_invasion": False, "lymphovascular_invasion": False},
        {"tumor_size_cm": 1.5, "deep_stromal_invasion": True, "lymphovascular_invasion": False},
        {"tumor_size_cm": 1.5, "deep_stromal_invasion": False, "lymphovascular_invasion": True},
        {"lymphovascular_invasion": True},  # one high-risk feature is enough even if the others are unknown
    ],
)
def test_postoperative_pelvic_radiation_for_a_high_risk_feature(risk):
    f = cervical_nec("IB1", resected=True, **risk)
    assert offered(f, "gyn.early.adjuvant-rt-high-risk") == [(PELVIC_RT,)]


def test_no_postoperative_radiation_without_risk_features_or_before_surgery():
    low = {"tumor_size_cm": 2.0, "deep_stromal_invasion": False, "lymphovascular_invasion": False}
    assert outcome(cervical_nec("IB1", resected=True, **low), "gyn.early.adjuvant-rt-high-risk") is Outcome.SILENT
    high = {"tumor_size_cm": 3.0}
    assert outcome(cervical_nec("IB1", **high), "gyn.early.adjuvant-rt-high-risk") is Outcome.SILENT


def test_unknown_risk_features_are_a_gap():
    f = cervical_nec("IB1", resected=True, tumor_size_cm=1.5)
    assert set(missing(f, "gyn.early.adjuvant-rt-high-risk")) >= {"deep-stromal-invasion", "lymphovascular-invasion"}


# ---------------------------------------------------------------- IB3-IIA2 and locally advanced


def test_ib3_iia2_chemoradiation_offers_platinum_etoposide_with_pelvic_radiation():
    assert offered(cervical_nec("IIA1"), "gyn.ib3-iia2.chemoradiation") == [
        (*CIS_ETO, PELVIC_RT),
        (*CARBO_ETO, PELVIC_RT),
    ]
    assert offered(cervical_nec("IIB"), "gyn.locally-advanced.chemoradiation") == [(*CIS_ETO, PELVIC_RT)]


@pytest.mark.parametrize("rec_id", ["gyn.ib3-iia2.chemoradiation", "gyn.locally-advanced.chemoradiation"])
def test_chemoradiation_silent_once_started_or_ordered(rec_id):
    assert outcome(cervical_nec("IB3", lines=(EP,)), rec_id) is Outcome.SILENT
    assert outcome(cervical_nec("IB3", orders_pending=frozenset({"chemoradiation"})), rec_id) is Outcome.SILENT


def test_chemoradiation_branches_are_cervix_only():
    assert branches(cervical_nec("IIB", site=UTERUS)) == set()


# ---------------------------------------------------------------- IVB and second line


def test_ivb_cisplatin_etoposide_for_any_gynecologic_nec_with_distant_metastases():
    assert offered(cervical_nec("IVB"), "gyn.ivb.cisplatin-etoposide") == [CIS_ETO]
    assert "gyn.ivb.cisplatin-etoposide" in fired(cervical_nec(None, site=UTERUS, stage=Stage.METASTATIC))


def test_ivb_silent_after_chemotherapy_or_for_gi_nec():
    assert outcome(cervical_nec("IVB", lines=(EP,)), "gyn.ivb.cisplatin-etoposide") is Outcome.SILENT
    assert outcome(facts("NEC", PANCREAS), "gyn.ivb.cisplatin-etoposide") is Outcome.SILENT


def test_second_line_after_platinum_etoposide():
    progressing = status((date(2026, 10, 1), "progression"))
    f = cervical_nec("IVB", lines=(EP,), disease_status=progressing)
    assert offered(f, "gyn.second-line") == [
        ("med-topotecan", "med-paclitaxel", "med-bevacizumab"),
        ("med-irinotecan",),
        ("med-paclitaxel",),
    ]
    topo = line(2, "topotecan", "paclitaxel", "bevacizumab", start=date(2026, 8, 15), end=date(2026, 9, 20))
    after_topo = cervical_nec("IVB", lines=(EP, topo), disease_status=progressing)
    assert offered(after_topo, "gyn.second-line") == [("med-irinotecan",)]


def test_second_line_silent_without_progression_or_before_platinum_etoposide():
    assert outcome(cervical_nec("IVB", lines=(EP,)), "gyn.second-line") is Outcome.SILENT
    progressing = status((date(2026, 10, 1), "progression"))
    assert outcome(cervical_nec("IVB", disease_status=progressing), "gyn.second-line") is Outcome.SILENT


# ---------------------------------------------------------------- gyn.net-rule-out-gi


def test_gynecologic_net_rule_out_gi_primary():
    f = facts("NET", CERVIX, ki67=25, stage=Stage.LOCALIZED, sites=())
    assert offered(f, "gyn.net-rule-out-gi") == [
        ("sr-ct-abdomen-pelvis",),
        ("sr-sstr-pet",),
        ("sr-colonoscopy",),
        ("sr-egd",),
    ]


def test_rule_out_gi_silent_for_nec_or_non_gynecologic_net():
    assert outcome(cervical_nec("IB1"), "gyn.net-rule-out-gi") is Outcome.SILENT
    assert outcome(facts("NET", PANCREAS, ki67=25), "gyn.net-rule-out-gi") is Outcome.SILENT


@pytest.mark.parametrize("figo", LOCOREGIONAL)
def test_no_locoregional_stage_takes_the_metastatic_branch(figo):
    assert "gyn.ivb.cisplatin-etoposide" not in branches(cervical_nec(figo))
    assert branches(cervical_nec(figo))  # and every one of them gets a locoregional treatment card


# ---------------------------------------------------------------- HTTP: the patient-view hook


def _operated_low_risk():
    res = fhir.cervix_nec_ib1_operated()
    pid = res[0]["id"]
    size = observation(
        cc(LOINC, "21889-1"),
        valueQuantity={"value": 15, "unit": "mm", "system": "http://unitsofmeasure.org", "code": "mm"},
        id=f"{pid}-size",
        effective="2026-04-12",
        patient_id=pid,
    )
    lvsi = observation(
        cc(LOINC, "59544-7"), valueCodeableConcept=cc(SNOMED, "2667000", "Absent"), id=f"{pid}-lvsi", patient_id=pid
    )
    return fhir.replace(fhir.replace(res, f"{pid}-size", size), f"{pid}-lvsi", lvsi)


HTTP_CASES = [
    ("gyn.net-rule-out-gi", fhir.net_cervix, fhir.cervix_nec_ib1),
    ("gyn.early.radical-hysterectomy", fhir.cervix_nec_ib1, fhir.cervix_nec_ib1_operated),
    ("gyn.early.adjuvant-ep", fhir.cervix_nec_ib1_operated, fhir.cervix_nec_ib1),
    ("gyn.early.adjuvant-rt-high-risk", fhir.cervix_nec_ib1_operated, _operated_low_risk),
    ("gyn.ib3-iia2.chemoradiation", fhir.cervix_nec_iia1, fhir.cervix_nec_ib1),
    ("gyn.locally-advanced.chemoradiation", fhir.cervix_nec_iia1, fhir.cervix_nec_ivb),
    ("gyn.ivb.cisplatin-etoposide", fhir.cervix_nec_ivb, fhir.cervix_nec_iia1),
    ("gyn.second-line", fhir.cervix_nec_progressing, fhir.cervix_nec_ivb),
]


@pytest.mark.parametrize(("rec_id", "fires", "silent"), HTTP_CASES, ids=[c[0] for c in HTTP_CASES])
def test_http_patient_view_delivers_and_withholds(call_hook, rec_id, fires, silent):
    fhir.assert_delivers(fhir.patient_view(call_hook, fires()), rec_id)
    assert fhir.delivered(fhir.patient_view(call_hook, silent()), rec_id) is None


def test_http_chemoradiation_suggestion_orders_both_drugs_and_the_radiation(call_hook):
    card = fhir.assert_delivers(fhir.patient_view(call_hook, fhir.cervix_nec_iia1()), "gyn.ib3-iia2.chemoradiation")
    cis_eto_rt = fhir.created(card)[0]
    assert [r["resourceType"] for r in cis_eto_rt] == ["MedicationRequest", "MedicationRequest", "ServiceRequest"]
    assert fhir.rxnorm_codes(cis_eto_rt) == {"2555", "4179"}


def test_http_gynecologic_second_line_topotecan_triplet_is_text_coded_where_unverified(call_hook):
    card = fhir.assert_delivers(fhir.patient_view(call_hook, fhir.cervix_nec_progressing()), "gyn.second-line")
    triplet = fhir.created(card)[0]
    assert fhir.rxnorm_codes(triplet) == {"56946"}  # paclitaxel verified; topotecan, bevacizumab text only
    assert "topotecan" in fhir.text_of(triplet) and "bevacizumab" in fhir.text_of(triplet)


@pytest.mark.parametrize("rec_id", [c[0] for c in HTTP_CASES])
def test_demo_patients_cover_the_entry(rec_id):
    fhir.assert_demo_coverage(rec_id)


@pytest.mark.parametrize("name", sorted(fhir.SCENARIOS))
def test_demo_bundles_match_their_scenarios(name):
    """The demo files are the test scenarios (regenerate: python -m tests.guideline.therapy_fhir)."""
    path = fhir.DEMO_DIR / f"{name}.json"
    on_file = json.loads(path.read_text(encoding="utf-8"))
    assert on_file["entry"] == bundle(*fhir.SCENARIOS[name]())["entry"]
    assert on_file["timestamp"].startswith(fhir.DEMO_TODAY.isoformat())
