"""Management of brain metastases: SRS for four or fewer, SRS or WBRT beyond."""

from __future__ import annotations

import pytest

from cds_service.facts.model import SiteGroup
from cds_service.guideline.evaluate import Outcome
from tests.guideline import therapy_fhir as fhir
from tests.guideline.therapy_facts import BRAIN, LIVER, facts, fired, missing, offered, outcome

SRS, WBRT = ("sr-stereotactic-radiosurgery",), ("sr-whole-brain-rt",)


@pytest.mark.parametrize("count", [1, 2, 4])
def test_four_or_fewer_brain_metastases_get_srs(count):
    f = facts("NEC", SiteGroup.COLORECTAL, sites=(LIVER, BRAIN), brain_metastasis_count=count)
    assert offered(f, "brain.srs") == [SRS]
    assert outcome(f, "brain.srs-or-wbrt") is Outcome.SILENT


@pytest.mark.parametrize("count", [5, 6, 12])
def test_more_than_four_get_srs_or_whole_brain(count):
    f = facts("NEC", SiteGroup.COLORECTAL, sites=(LIVER, BRAIN), brain_metastasis_count=count)
    assert offered(f, "brain.srs-or-wbrt") == [SRS, WBRT]
    assert outcome(f, "brain.srs") is Outcome.SILENT


def test_g3_net_brain_metastases_count_as_well():
    assert "brain.srs" in fired(facts("NET", SiteGroup.PANCREAS, ki67=30, sites=(BRAIN,), brain_metastasis_count=1))


@pytest.mark.parametrize("rec_id", ["brain.srs", "brain.srs-or-wbrt"])
def test_silent_without_brain_metastases(rec_id):
    assert outcome(facts("NEC", SiteGroup.COLORECTAL, sites=(LIVER,)), rec_id) is Outcome.SILENT


@pytest.mark.parametrize("rec_id", ["brain.srs", "brain.srs-or-wbrt"])
def test_unknown_count_is_a_gap(rec_id):
    f = facts("NEC", SiteGroup.COLORECTAL, sites=(LIVER, BRAIN), brain_metastasis_count=None)
    assert "brain-metastasis-count" in missing(f, rec_id)


@pytest.mark.parametrize("concept", ["stereotactic-radiosurgery", "whole-brain-rt"])
def test_silent_when_radiation_is_already_ordered(concept):
    f = facts(
        "NEC", SiteGroup.COLORECTAL, sites=(BRAIN,), brain_metastasis_count=2, orders_pending=frozenset({concept})
    )
    assert outcome(f, "brain.srs") is Outcome.SILENT


# ---------------------------------------------------------------- HTTP: the patient-view hook

HTTP_CASES = [
    ("brain.srs", fhir.nec_brain_mets_2, fhir.nec_brain_mets_6),
    ("brain.srs-or-wbrt", fhir.nec_brain_mets_6, fhir.nec_brain_mets_2),
]


@pytest.mark.parametrize(("rec_id", "fires", "silent"), HTTP_CASES, ids=[c[0] for c in HTTP_CASES])
def test_http_patient_view_delivers_and_withholds(call_hook, rec_id, fires, silent):
    fhir.assert_delivers(fhir.patient_view(call_hook, fires()), rec_id)
    assert fhir.delivered(fhir.patient_view(call_hook, silent()), rec_id) is None


def test_http_no_brain_card_without_brain_metastases(call_hook):
    cards = fhir.patient_view(call_hook, fhir.nec_colorectal_first_line())
    assert fhir.delivered(cards, "brain.srs") is None and fhir.delivered(cards, "brain.srs-or-wbrt") is None


def test_http_srs_or_wbrt_are_exclusive_service_requests(call_hook):
    card = fhir.assert_delivers(fhir.patient_view(call_hook, fhir.nec_brain_mets_6()), "brain.srs-or-wbrt")
    assert card["selectionBehavior"] == "at-most-one"
    srs, wbrt = fhir.created(card)
    assert srs[0]["resourceType"] == wbrt[0]["resourceType"] == "ServiceRequest"
    assert "coding" not in srs[0]["code"]  # no verified stereotactic radiosurgery code: text only
    assert "stereotactic" in fhir.text_of(srs) and "whole-brain" in fhir.text_of(wbrt)


@pytest.mark.parametrize("rec_id", ["brain.srs", "brain.srs-or-wbrt"])
def test_demo_patients_cover_the_entry(rec_id):
    fhir.assert_demo_coverage(rec_id)
