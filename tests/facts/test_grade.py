"""INPUTS.md rows 'Grade' and 'Out of scope' (G1/G2 NET)."""

from __future__ import annotations

import pytest

from cds_service.facts.model import Grade
from tests.facts.helpers import facts_of, gap_facts
from tests.support import fhir as f


@pytest.mark.parametrize(
    ("percent", "grade"),
    [(45, Grade.G3), (20.5, Grade.G3), (20, Grade.G2), (10, Grade.G2), (3, Grade.G2), (2, Grade.G1)],
)
def test_ki67_decides_grade(percent, grade):
    facts = facts_of(f.nen_condition("NET"), f.ki67(percent))
    assert facts.grade is grade
    assert facts.ki67_percent == percent
    assert "ki67" not in gap_facts(facts)


def test_fraction_unit_is_converted():
    obs = f.quantity_obs(f.LOINC, "29593-1", 0.45, "1")
    assert facts_of(f.nen_condition("NET"), obs).ki67_percent == pytest.approx(45)


def test_value_string_percent():
    obs = f.observation(f.cc(f.LOINC, "29593-1"), valueString="45%")
    facts = facts_of(f.nen_condition("NET"), obs)
    assert facts.ki67_percent == 45
    assert facts.grade is Grade.G3


@pytest.mark.parametrize("text", ["45", "forty-five", "45 mg", "x" * 10_000])
def test_unreadable_value_string_is_not_used(text):
    obs = f.observation(f.cc(f.LOINC, "29593-1"), valueString=text, id="k")
    facts = facts_of(f.nen_condition("NET"), obs)
    assert facts.ki67_percent is None
    assert facts.grade is Grade.UNKNOWN


def test_ki67_in_another_unit_is_not_compared():
    facts = facts_of(f.nen_condition("NET"), f.quantity_obs(f.LOINC, "29593-1", 45, "mg", id="k"))
    assert facts.ki67_percent is None
    assert "Observation/k" in {i.reference for i in facts.ignored}


@pytest.mark.parametrize("value", [-5, 150])
def test_impossible_ki67_is_not_used(value):
    assert facts_of(f.nen_condition("NET"), f.ki67(value)).ki67_percent is None


def test_breast_ki67_is_a_fallback_only():
    breast = f.quantity_obs(f.LOINC, "85330-9", 60, "%", effective="2026-10-01")
    tissue = f.ki67(15, effective="2026-01-01")
    assert facts_of(f.nen_condition("NET"), breast, tissue).ki67_percent == 15
    assert facts_of(f.nen_condition("NET"), breast).ki67_percent == 60


def test_latest_ki67_wins_and_issued_is_the_fallback_date():
    old = f.ki67(10, effective="2025-01-01")
    new = f.ki67(30, effective=None, issued="2026-03-01T10:00:00Z")
    facts = facts_of(f.nen_condition("NET"), old, new)
    assert facts.ki67_percent == 30
    assert str(facts.ki67_date) == "2026-03-01"


def test_ki67_about_another_cancer_is_not_used():
    breast = f.condition(f.cc(f.ICD10, "C50.911"), id="breast")
    obs = f.ki67(40, focus=[{"reference": "Condition/breast"}])
    facts = facts_of(f.nen_condition("NET"), breast, obs)
    assert facts.ki67_percent is None


def test_comparator_below_bound():
    obs = f.ki67(2)
    obs["valueQuantity"]["comparator"] = "<"
    facts = facts_of(f.nen_condition("NET"), obs)
    assert facts.grade is Grade.G1
    assert facts.ki67_percent is None  # a bound is not a value


def test_comparator_above_bound_is_g3():
    obs = f.ki67(20)
    obs["valueQuantity"]["comparator"] = ">"
    assert facts_of(f.nen_condition("NET"), obs).grade is Grade.G3


def test_mitotic_count_above_20_is_g3_even_with_low_ki67():
    facts = facts_of(f.nen_condition("NET"), f.ki67(12), f.mitotic_count(25))
    assert facts.grade is Grade.G3
    assert facts.mitotic_count_per_2mm2 == 25


def test_mitotic_count_alone_never_says_low_grade():
    facts = facts_of(f.nen_condition("NET"), f.mitotic_count(5))
    assert facts.grade is Grade.UNKNOWN


def test_mitotic_count_per_10_hpf_is_not_compared():
    facts = facts_of(f.nen_condition("NET"), f.mitotic_count(30, unit="/10.HPF"))
    assert facts.mitotic_count_per_2mm2 is None
    assert facts.grade is Grade.UNKNOWN


@pytest.mark.parametrize("loinc", [False, True])
def test_grade_observation_g3(loinc):
    facts = facts_of(f.nen_condition("NET"), f.histologic_grade("61026006", loinc=loinc))
    assert facts.grade is Grade.G3
    assert facts.grade_observed is Grade.G3


def test_grade_observation_g3_overrides_low_ki67():
    facts = facts_of(f.nen_condition("NET"), f.ki67(10), f.histologic_grade("61026006"))
    assert facts.grade is Grade.G3


def test_grade_observation_g2_alone_is_not_enough():
    facts = facts_of(f.nen_condition("NET"), f.histologic_grade("1663004"))
    assert facts.grade is Grade.UNKNOWN
    assert facts.grade_observed is Grade.G2


def test_grade_observation_g1_with_ki67():
    facts = facts_of(f.nen_condition("NET"), f.ki67(5), f.histologic_grade("54102005"))
    assert facts.grade is Grade.G1


def test_nec_without_ki67_stays_unknown():
    facts = facts_of(f.nen_condition("NEC"))
    assert facts.grade is Grade.UNKNOWN
    assert "ki67" in gap_facts(facts)


def test_sources_name_the_ki67_observation():
    facts = facts_of(f.nen_condition("NET"), f.ki67(45, id="k1"))
    assert facts.sources["ki67_percent"] == ("Observation/k1",)
    assert facts.sources["grade"] == ("Observation/k1",)
