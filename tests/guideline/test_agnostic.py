"""Tumor-agnostic therapies: they fire only with the biomarker detected, never on an untested tumor."""

from __future__ import annotations

from datetime import date

import pytest

from cds_service.facts.model import SiteGroup, Stage
from cds_service.guideline.evaluate import Outcome
from tests.guideline import therapy_fhir as fhir
from tests.guideline.therapy_facts import facts, fired, line, offered, outcome
from tests.support.fhir import LOINC, cc, observation

COLORECTAL, PANCREAS = SiteGroup.COLORECTAL, SiteGroup.PANCREAS
PEMBRO, DOSTARLIMAB, IPI_NIVO = ("med-pembrolizumab",), ("med-dostarlimab",), ("med-ipilimumab", "med-nivolumab")


# ---------------------------------------------------------------- met.agnostic.ici-mmrd-tmb


@pytest.mark.parametrize("marker", [{"msi_high": True}, {"mmr_deficient": True}])
def test_dmmr_or_msi_high_offers_pembrolizumab_dostarlimab_or_dual(marker):
    f = facts("NEC", COLORECTAL, **marker)
    assert offered(f, "met.agnostic.ici-mmrd-tmb") == [PEMBRO, DOSTARLIMAB, IPI_NIVO]


def test_tmb_high_alone_offers_pembrolizumab_but_not_dostarlimab():
    f = facts("NEC", COLORECTAL, tmb_per_mb=12, msi_high=False, mmr_deficient=False)
    assert offered(f, "met.agnostic.ici-mmrd-tmb") == [PEMBRO, IPI_NIVO]


def test_g3_net_with_dmmr_qualifies_too():
    assert "met.agnostic.ici-mmrd-tmb" in fired(facts("NET", PANCREAS, ki67=40, mmr_deficient=True))


def test_immunotherapy_silent_for_proficient_untested_or_already_treated_tumors():
    proficient = facts("NEC", COLORECTAL, msi_high=False, mmr_deficient=False, tmb_per_mb=4)
    assert outcome(proficient, "met.agnostic.ici-mmrd-tmb") is Outcome.SILENT
    assert outcome(facts("NEC", COLORECTAL), "met.agnostic.ici-mmrd-tmb") is Outcome.SILENT
    pembro = line(1, "pembrolizumab", start=date(2026, 5, 1), active=True)
    treated = facts("NEC", COLORECTAL, msi_high=True, lines=(pembro,))
    assert outcome(treated, "met.agnostic.ici-mmrd-tmb") is Outcome.SILENT


def test_tmb_just_below_ten_is_not_high():
    assert outcome(facts("NEC", COLORECTAL, tmb_per_mb=9.9), "met.agnostic.ici-mmrd-tmb") is Outcome.SILENT
    assert "met.agnostic.ici-mmrd-tmb" in fired(facts("NEC", COLORECTAL, tmb_per_mb=10))


# ---------------------------------------------------------------- met.agnostic.ntrk / ret


def test_ntrk_fusion_offers_larotrectinib_or_entrectinib():
    f = facts("NEC", PANCREAS, ntrk_fusion=True)
    assert offered(f, "met.agnostic.ntrk") == [("med-larotrectinib",), ("med-entrectinib",)]
    assert outcome(f, "met.agnostic.ret") is Outcome.SILENT


def test_ret_fusion_offers_selpercatinib_or_pralsetinib():
    f = facts("NET", PANCREAS, ki67=35, ret_fusion=True)
    assert offered(f, "met.agnostic.ret") == [("med-selpercatinib",), ("med-pralsetinib",)]
    assert outcome(f, "met.agnostic.ntrk") is Outcome.SILENT


@pytest.mark.parametrize(
    ("rec_id", "fact", "agent"),
    [
        ("met.agnostic.ntrk", "ntrk_fusion", "larotrectinib"),
        ("met.agnostic.ret", "ret_fusion", "selpercatinib"),
    ],
)
def test_fusion_cards_silent_when_negative_untested_localized_or_already_treated(rec_id, fact, agent):
    assert outcome(facts("NEC", PANCREAS, **{fact: False}), rec_id) is Outcome.SILENT
    assert outcome(facts("NEC", PANCREAS), rec_id) is Outcome.SILENT
    assert outcome(facts("NEC", PANCREAS, stage=Stage.LOCALIZED, **{fact: True}), rec_id) is Outcome.SILENT
    given = line(1, agent, start=date(2026, 6, 1), active=True)
    assert outcome(facts("NEC", PANCREAS, lines=(given,), **{fact: True}), rec_id) is Outcome.SILENT


# ---------------------------------------------------------------- HTTP: the patient-view hook


def _microsatellite_stable():
    res = fhir.nec_msi_high()
    pid = res[0]["id"]
    mss = observation(
        cc(LOINC, "81695-9"), valueCodeableConcept=cc(LOINC, "LA14122-8", "Stable"), id=f"{pid}-msi", patient_id=pid
    )
    return fhir.replace(res, f"{pid}-msi", mss)


HTTP_CASES = [
    ("met.agnostic.ici-mmrd-tmb", fhir.nec_msi_high, _microsatellite_stable),
    ("met.agnostic.ntrk", fhir.nec_ntrk_fusion, fhir.nec_ret_fusion),
    ("met.agnostic.ret", fhir.nec_ret_fusion, fhir.nec_ntrk_fusion),
]


@pytest.mark.parametrize(("rec_id", "fires", "silent"), HTTP_CASES, ids=[c[0] for c in HTTP_CASES])
def test_http_patient_view_delivers_and_withholds(call_hook, rec_id, fires, silent):
    fhir.assert_delivers(fhir.patient_view(call_hook, fires()), rec_id)
    assert fhir.delivered(fhir.patient_view(call_hook, silent()), rec_id) is None


def test_http_msi_high_offers_pembrolizumab_coded_and_dostarlimab_by_text(call_hook):
    card = fhir.assert_delivers(fhir.patient_view(call_hook, fhir.nec_msi_high()), "met.agnostic.ici-mmrd-tmb")
    pembro, dostarlimab, dual = fhir.created(card)
    assert fhir.rxnorm_codes(pembro) == {"1547545"}
    assert fhir.rxnorm_codes(dostarlimab) == set() and "dostarlimab" in fhir.text_of(dostarlimab)
    assert len(dual) == 2


def test_http_fusion_drugs_are_text_only(call_hook):
    card = fhir.assert_delivers(fhir.patient_view(call_hook, fhir.nec_ntrk_fusion()), "met.agnostic.ntrk")
    groups = fhir.created(card)
    assert [fhir.rxnorm_codes(g) for g in groups] == [set(), set()]
    assert "larotrectinib" in fhir.text_of(groups[0]) and "entrectinib" in fhir.text_of(groups[1])


@pytest.mark.parametrize("rec_id", [c[0] for c in HTTP_CASES])
def test_demo_patients_cover_the_entry(rec_id):
    fhir.assert_demo_coverage(rec_id)
