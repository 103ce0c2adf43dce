"""INPUTS.md rows 'Systemic therapy history' and 'Intolerance': exposures, regimens (lines), intolerances."""

from __future__ import annotations

import datetime as dt

import pytest

from cds_service.facts.model import Stage
from tests.facts.helpers import facts_of, gap_facts
from tests.support import fhir as f

NEC = f.nen_condition("NEC")
MET = f.secondary("C78.7", onset="2026-01-01")


def _agents(facts):
    return {e.agent for e in facts.exposures}


@pytest.mark.parametrize(
    ("rxnorm", "agent"),
    [("2555", "cisplatin"), ("40048", "carboplatin"), ("4179", "etoposide"), ("51499", "irinotecan"),
     ("4492", "fluorouracil"), ("194000", "capecitabine"), ("37776", "temozolomide"), ("7617", "octreotide"),
     ("357977", "sunitinib"), ("1547545", "pembrolizumab"), ("56946", "paclitaxel"), ("3639", "doxorubicin")],
)  # fmt: skip
def test_agent_by_rxnorm_ingredient(rxnorm, agent):
    assert _agents(facts_of(NEC, f.medication_request(rxnorm, "x"))) == {agent}


@pytest.mark.parametrize(
    ("text", "agents"),
    [
        ("Lutathera 7.4 GBq IV", {"lutetium-dotatate"}),
        ("Sandostatin LAR Depot 30 mg", {"octreotide"}),
        ("Somatuline Depot 120 mg", {"lanreotide"}),
        ("CARBOplatin / etoposide", {"carboplatin", "etoposide"}),
        ("Keytruda 200 mg", {"pembrolizumab"}),
        ("normal saline", set()),
    ],
)
def test_product_codes_read_by_their_text(text, agents):
    mr = f.medication_request("999999", text)  # a product code no value set holds
    assert _agents(facts_of(NEC, mr)) == agents


def test_medication_reference_contained_and_bundled():
    contained = f.medication_administration(None, "x")
    del contained["medicationCodeableConcept"]
    contained["contained"] = [{"resourceType": "Medication", "id": "m1", "code": f.cc(f.RXNORM, "4179")}]
    contained["medicationReference"] = {"reference": "#m1"}
    bundled = f.medication_statement(None, "x")
    del bundled["medicationCodeableConcept"]
    bundled["medicationReference"] = {"reference": "Medication/m2"}
    med = f.medication({"text": "cisplatin 50 mg/50 mL"}, id="m2")
    assert _agents(facts_of(NEC, contained, bundled, med)) == {"etoposide", "cisplatin"}


def test_multi_ingredient_medication():
    med = f.medication({"text": "FOLFOX"}, id="folfox")
    med["ingredient"] = [{"itemCodeableConcept": f.cc(f.RXNORM, c)} for c in ("4492", "6313", "32592")]
    mr = f.medication_request(None, "x")
    del mr["medicationCodeableConcept"]
    mr["medicationReference"] = {"reference": "Medication/folfox"}
    assert _agents(facts_of(NEC, mr, med)) == {"fluorouracil", "leucovorin", "oxaliplatin"}


def test_not_given_and_retracted_are_not_exposures():
    facts = facts_of(
        NEC,
        f.medication_administration("2555", "cisplatin", status="not-done"),
        f.medication_statement("2555", "cisplatin", status="not-taken"),
        f.medication_request("2555", "cisplatin", status="cancelled"),
        f.medication_request("2555", "cisplatin", status="entered-in-error"),
    )
    assert facts.exposures == ()


def test_platinum_etoposide_is_one_line_and_metastatic_start():
    facts = facts_of(
        NEC,
        MET,
        f.medication_administration("40048", "carboplatin", effective="2026-02-01"),
        f.medication_administration("4179", "etoposide", effective="2026-02-01"),
        f.medication_administration("4179", "etoposide", effective="2026-02-03"),
        f.medication_administration("40048", "carboplatin", effective="2026-02-22"),
        f.medication_administration("4179", "etoposide", effective="2026-02-22"),
    )
    assert len(facts.lines) == 1
    line = facts.lines[0]
    assert (line.number, line.agents, line.start, line.end) == (
        1,
        frozenset({"carboplatin", "etoposide"}),
        dt.date(2026, 2, 1),
        dt.date(2026, 2, 22),
    )
    assert facts.stage is Stage.METASTATIC
    assert facts.metastatic_treatment_start == dt.date(2026, 2, 1)
    assert "metastatic-treatment-start" not in gap_facts(facts)


def test_new_agents_after_progression_start_line_2():
    facts = facts_of(
        NEC,
        MET,
        f.medication_statement("2555", "cisplatin", start="2026-02-01", end="2026-05-01"),
        f.medication_statement("4179", "etoposide", start="2026-02-01", end="2026-05-01"),
        f.disease_status("271299001", effective="2026-05-20"),
        f.medication_statement("4492", "fluorouracil", start="2026-06-01", status="active"),
        f.medication_statement("51499", "irinotecan", start="2026-06-01", status="active"),
    )
    assert [(ln.number, ln.agents, ln.active) for ln in facts.lines] == [
        (1, frozenset({"cisplatin", "etoposide"}), False),
        (2, frozenset({"fluorouracil", "irinotecan"}), True),
    ]


def test_rechallenge_after_a_gap_is_a_new_line():
    facts = facts_of(
        NEC,
        f.medication_administration("2555", "cisplatin", effective="2026-01-01"),
        f.medication_administration("4179", "etoposide", effective="2026-01-01"),
        f.medication_administration("2555", "cisplatin", effective="2026-09-01"),
        f.medication_administration("4179", "etoposide", effective="2026-09-01"),
    )
    assert [ln.agents for ln in facts.lines] == [frozenset({"cisplatin", "etoposide"})] * 2
    assert [ln.number for ln in facts.lines] == [1, 2]


def test_drafts_are_exposures_and_pending_but_not_lines():
    facts = facts_of(NEC, f.medication_request("2555", "cisplatin", status="draft"))
    assert _agents(facts) == {"cisplatin"}
    assert facts.exposures[0].active is True
    assert facts.lines == ()
    assert {"cisplatin", "cis-carboplatin"} <= facts.orders_pending


def test_timing_bounds_give_the_dates():
    mr = f.medication_request("194000", "capecitabine", authored="2026-03-01", status="completed")
    mr["dosageInstruction"] = [{"timing": {"repeat": {"boundsPeriod": {"start": "2026-03-05", "end": "2026-06-05"}}}}]
    exposure = facts_of(NEC, mr).exposures[0]
    assert (exposure.start, exposure.end) == (dt.date(2026, 3, 5), dt.date(2026, 6, 5))


def test_adjuvant_therapy_before_metastases_is_not_the_metastatic_start():
    facts = facts_of(
        NEC,
        f.secondary("C78.7", onset="2026-09-01"),
        f.medication_statement("2555", "cisplatin", start="2025-01-01", end="2025-04-01"),
        f.medication_statement("4179", "etoposide", start="2025-01-01", end="2025-04-01"),
        f.medication_statement("4492", "fluorouracil", start="2026-09-15"),
        f.medication_statement("51499", "irinotecan", start="2026-09-15"),
    )
    assert facts.metastatic_treatment_start == dt.date(2026, 9, 15)


def test_no_metastatic_start_when_localized():
    facts = facts_of(NEC, f.m_category("1229901006"), f.medication_statement("2555", "cisplatin"))
    assert facts.metastatic_treatment_start is None


def test_intolerance():
    facts = facts_of(NEC, f.allergy(f.cc(f.RXNORM, "4179")), f.allergy({"text": "Carboplatin hypersensitivity"}))
    assert facts.intolerances == {"etoposide", "carboplatin"}
    assert facts_of(NEC, f.allergy(f.cc(f.RXNORM, "4179"), verification="refuted")).intolerances == frozenset()
    assert facts_of(NEC, f.allergy(f.cc(f.RXNORM, "4179"), clinical="resolved")).intolerances == frozenset()
