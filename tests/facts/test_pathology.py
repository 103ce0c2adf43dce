"""INPUTS.md row 'IHC': p53, Rb, SSTR2A, synaptophysin, chromogranin A (and INSM1)."""

from __future__ import annotations

import pytest

from tests.facts.helpers import facts_of
from tests.support import fhir as f

NEC = f.nen_condition("NEC")


@pytest.mark.parametrize(
    ("system", "code", "expected"),
    [(f.NEN_FACT, "p53-aberrant", True), (f.SNOMED, "10828004", True), (f.NEN_FACT, "p53-wild-type", False),
     (f.SNOMED, "260385009", None)],  # "negative" p53 staining is ambiguous (null pattern is aberrant)
)  # fmt: skip
def test_p53(system, code, expected):
    assert facts_of(NEC, f.coded_obs(f.LOINC, "14229-9", system, code)).p53_aberrant is expected


def test_p53_boolean_is_not_read():
    assert facts_of(NEC, f.observation(f.cc(f.LOINC, "14229-9"), valueBoolean=True)).p53_aberrant is None


@pytest.mark.parametrize(("code", "expected"), [("rb-lost", True), ("rb-retained", False)])
def test_rb(code, expected):
    assert facts_of(NEC, f.coded_obs(f.NEN_FACT, "rb-ihc", f.NEN_FACT, code)).rb_lost is expected


@pytest.mark.parametrize(
    ("fact", "system", "code"),
    [("sstr2a_positive", f.NEN_FACT, "sstr2a-ihc"), ("synaptophysin_positive", f.LOINC, "10514-8"),
     ("chromogranin_ihc_positive", f.LOINC, "10471-1")],
)  # fmt: skip
def test_positive_negative_stains(fact, system, code):
    assert getattr(facts_of(NEC, f.coded_obs(system, code, f.SNOMED, "10828004")), fact) is True
    assert getattr(facts_of(NEC, f.coded_obs(system, code, f.SNOMED, "260385009")), fact) is False
    assert getattr(facts_of(NEC, f.coded_obs(system, code, f.SNOMED, "52101004")), fact) is None
    assert getattr(facts_of(NEC), fact) is None


def test_latest_conclusive_stain_wins():
    old = f.coded_obs(f.LOINC, "10514-8", f.SNOMED, "10828004", effective="2025-01-01")
    new = f.coded_obs(f.LOINC, "10514-8", f.SNOMED, "260385009", effective="2026-01-01")
    newest_unreadable = f.observation(f.cc(f.LOINC, "10514-8"), effective="2026-06-01", valueString="see report")
    assert facts_of(NEC, old, new, newest_unreadable).synaptophysin_positive is False


def test_chromogranin_non_a_stain_is_not_chromogranin_a():
    assert facts_of(NEC, f.coded_obs(f.LOINC, "10472-9", f.SNOMED, "10828004")).chromogranin_ihc_positive is None


def test_insm1_done():
    assert facts_of(NEC, f.coded_obs(f.NEN_FACT, "insm1-ihc", f.SNOMED, "10828004")).insm1_done is True
    assert facts_of(NEC).insm1_done is False
