"""Data gaps (fact names the rule predicates declare in ``needs``) and fact sources."""

from __future__ import annotations

import datetime as dt

from cds_service.guideline.logic import PREDICATES
from tests.facts.helpers import facts_of, gap_facts
from tests.support import fhir as f

GAP_NAMES = {
    "differentiation",
    "ki67",
    "stage",
    "primary-site",
    "sstr-imaging-result",
    "msi-mmr-tmb",
    "localized-treatment-completed",
    "metastatic-treatment-start",
}


def test_bare_nen_has_every_gap_in_plain_words():
    facts = facts_of(f.condition(f.cc(f.ICD10, "C7A.8")))
    assert gap_facts(facts) >= GAP_NAMES
    for gap in facts.data_gaps:
        assert gap.description and gap.supply
        assert "None" not in gap.description


def test_no_gaps_without_a_nen():
    assert facts_of(f.ki67(45), f.secondary("C78.7")).data_gaps == ()


def test_complete_record_has_no_gaps():
    facts = facts_of(
        f.nen_condition("NEC", id="nen"),
        f.ki67(60),
        f.secondary("C78.7", onset="2026-01-01"),
        f.sstr_pet(False),
        f.coded_obs(f.LOINC, "81695-9", f.LOINC, "LA14122-8"),
        f.medication_administration("2555", "cisplatin", effective="2026-01-20"),
        f.procedure(f.cc(f.SNOMED, "1", "Whipple"), reason="Condition/nen", performed="2025-06-01"),
        f.disease_status("260415000", effective="2025-08-01"),
    )
    assert not gap_facts(facts) & GAP_NAMES
    assert facts.metastatic_treatment_start == dt.date(2026, 1, 20)


def test_every_gap_is_a_fact_name_a_predicate_or_schedule_declares():
    import cds_service.guideline.predicates
    import cds_service.guideline.therapy_predicates  # noqa: F401

    declared = {n for p in PREDICATES.predicates.values() for n in p.needs}
    declared |= {"localized-treatment-completed", "metastatic-treatment-start"}  # schedule clocks
    gyn = facts_of(f.condition(f.cc(f.ICD10, "C7A.8"), body_site=f.cc(f.ICDO3, "C53.9")), f.secondary("C7B.00"))
    assert gap_facts(gyn) <= declared
    assert {"figo-stage", "tumor-size", "metastatic-sites"} <= gap_facts(gyn)


def test_sources_name_where_each_fact_came_from():
    facts = facts_of(
        f.nen_condition("NEC", id="nen"),
        f.ki67(45, id="k"),
        f.m_category(id="m"),
        f.sstr_pet(True, id="pet"),
        f.medication_request("2555", "cisplatin", id="mr"),
    )
    assert facts.sources["neoplasm"] == ("Condition/nen",)
    assert facts.sources["primary-site"] == ("Condition/nen",)
    assert facts.sources["ki67_percent"] == ("Observation/k",)
    assert facts.sources["stage"] == ("Observation/m",)
    assert facts.sources["studies"] == ("DiagnosticReport/pet",)
    assert facts.sources["exposures"] == ("MedicationRequest/mr",)
    assert facts.sources["orders_pending"] == ("MedicationRequest/mr",)
