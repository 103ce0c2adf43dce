"""INPUTS.md rows 'Disease status', 'Accelerating progression', 'Surgery', 'Treatment for localized
disease completed' and 'Draft orders' (orders already on record)."""

from __future__ import annotations

import datetime as dt

import pytest

from cds_service.facts.model import DiseaseStatusValue
from tests.facts.helpers import facts_of, gap_facts
from tests.support import fhir as f

RESECTION = f.cc(f.SNOMED, "000001", "Distal pancreatectomy")


def _nec():
    return f.nen_condition("NEC", id="nen")


@pytest.mark.parametrize(
    ("code", "value"),
    [("271299001", DiseaseStatusValue.PROGRESSION), ("359746009", DiseaseStatusValue.STABLE),
     ("268910001", DiseaseStatusValue.IMPROVED), ("260415000", DiseaseStatusValue.NO_EVIDENCE),
     ("709137006", DiseaseStatusValue.UNDETERMINED)],
)  # fmt: skip
def test_disease_status_values(code, value):
    assert facts_of(_nec(), f.disease_status(code)).latest_disease_status is value


def test_disease_status_history_oldest_first():
    facts = facts_of(
        _nec(),
        f.disease_status("271299001", effective="2026-06-01"),
        f.disease_status("359746009", effective="2026-01-01"),
        f.disease_status("999999", effective="2026-07-01"),
    )
    assert facts.disease_status == (
        (dt.date(2026, 1, 1), DiseaseStatusValue.STABLE),
        (dt.date(2026, 6, 1), DiseaseStatusValue.PROGRESSION),
    )
    assert facts.progression_dates == (dt.date(2026, 6, 1),)


def test_accelerating_progression():
    assert facts_of(_nec(), f.nen_fact("accelerating-progression", valueBoolean=True)).accelerating_progression


def test_resection_and_localized_treatment_completed():
    facts = facts_of(
        _nec(),
        f.m_category("1229901006"),
        f.procedure(RESECTION, performed="2026-03-01", reason="Condition/nen", id="surg"),
        f.disease_status("260415000", effective="2026-02-01", id="before"),
        f.disease_status("260415000", effective="2026-04-15", id="after"),
        f.nen_fact("surgical-margin-positive", valueBoolean=False),
    )
    assert facts.resected is True
    assert facts.surgery_date == dt.date(2026, 3, 1)
    assert facts.surgical_margin_positive is False
    assert facts.localized_treatment_completed == dt.date(2026, 4, 15)
    assert "localized-treatment-completed" not in gap_facts(facts)
    assert "Observation/after" in facts.sources["localized_treatment_completed"]


def test_resection_without_later_no_evidence_status_is_not_completed():
    facts = facts_of(_nec(), f.procedure(RESECTION, performed="2026-03-01", reason="Condition/nen"))
    assert facts.resected is True
    assert facts.localized_treatment_completed is None
    assert "localized-treatment-completed" in gap_facts(facts)


def test_mcode_surgical_profile_without_category():
    proc = f.procedure(
        RESECTION, category=None, reason="Condition/nen", profile="mcode-cancer-related-surgical-procedure"
    )
    assert facts_of(_nec(), proc).resected is True


@pytest.mark.parametrize(
    "kw",
    [
        {"reason": "Condition/other"},  # not for the NEN
        {"reason": None},
        {"reason": "Condition/nen", "status": "in-progress"},
        {"reason": "Condition/nen", "category": None},  # not a surgical procedure
    ],
)
def test_not_a_resection_of_the_nen(kw):
    assert facts_of(_nec(), f.procedure(RESECTION, **kw)).resected is False


def test_biopsy_is_not_a_resection():
    proc = f.procedure(f.cc(f.SNOMED, "86273004", "Biopsy"), reason="Condition/nen")
    assert facts_of(_nec(), proc).resected is False


def test_chemoradiation_completed_then_no_evidence():
    crt = f.procedure({"text": "Concurrent chemoradiation (cisplatin + EBRT)"}, category=None, performed=None)
    crt["performedPeriod"] = {"start": "2026-02-01", "end": "2026-03-15"}
    facts = facts_of(_nec(), crt, f.disease_status("260415000", effective="2026-05-01"))
    assert facts.chemoradiation_completed_date == dt.date(2026, 3, 15)
    assert facts.localized_treatment_completed == dt.date(2026, 5, 1)


def test_radiation_not_amenable():
    facts = facts_of(_nec(), f.nen_fact("radiation-not-amenable", valueBoolean=True))
    assert facts.radiation_not_amenable is True


# ---------------------------------------------------------------- orders already on record


@pytest.mark.parametrize(
    ("resource", "concepts"),
    [
        (f.service_request(f.cc(f.SNOMED, "764695006")), {"sstr-pet"}),
        (f.service_request({"text": "Ga-68 DOTATATE PET/CT"}), {"sstr-pet"}),
        (f.service_request(f.cc(f.LOINC, "24587-8")), {"brain-mri", "brain-imaging"}),
        (f.service_request({"text": "CT head w/o contrast"}), {"brain-ct", "brain-imaging"}),
        (f.service_request(f.cc(f.SNOMED, "86273004")), {"biopsy"}),
        (f.service_request({"text": "Guardant360 ctDNA liquid biopsy"}), {"ctdna"}),
        (f.service_request({"text": "Referral for genetic counseling"}), {"germline-testing"}),
        (f.medication_request(None, "Lutathera"), {"lutetium-dotatate", "prrt"}),
        (f.medication_request("1547545", "pembrolizumab"), {"pembrolizumab", "pd1-pdl1-inhibitor",
                                                            "checkpoint-inhibitor"}),
    ],
)  # fmt: skip
def test_orders_pending(resource, concepts):
    assert facts_of(_nec(), resource).orders_pending == concepts


@pytest.mark.parametrize("status", ["completed", "revoked", "cancelled", "entered-in-error"])
def test_finished_orders_are_not_pending(status):
    assert facts_of(_nec(), f.service_request(f.cc(f.SNOMED, "764695006"), status=status)).orders_pending == set()
