"""INPUTS.md rows 'Labs', 'Hormonal syndrome', 'Neurological symptoms'."""

from __future__ import annotations

import datetime as dt

import pytest

from cds_service.facts.model import Certainty
from tests.facts.helpers import facts_of
from tests.support import fhir as f

NEC = f.nen_condition("NEC")


@pytest.mark.parametrize("loinc", ["9811-1", "30169-7", "25587-7"])
def test_chromogranin_codes(loinc):
    facts = facts_of(NEC, f.lab(loinc, 300, interpretation="H"))
    assert [(r.value, r.elevated) for r in facts.chromogranin_a] == [(300, True)]


@pytest.mark.parametrize("loinc", ["1695-6", "14573-0", "31203-3", "25971-3", "1693-1", "50149-4"])
def test_five_hiaa_codes(loinc):
    assert len(facts_of(NEC, f.lab(loinc, 12, "mg/(24.h)")).five_hiaa) == 1


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({"interpretation": "HH"}, True),
        ({"interpretation": "A"}, True),
        ({"interpretation": "N"}, False),
        ({"high": 100}, True),
        ({"high": 400}, False),
        ({"high": 0.1, "high_unit": "ug/mL"}, None),  # different unit: not compared
        ({}, None),
    ],
)
def test_elevated(kw, expected):
    facts = facts_of(NEC, f.lab("9811-1", 300, "ng/mL", **kw))
    assert facts.chromogranin_a[0].elevated is expected


def test_labs_oldest_first():
    facts = facts_of(NEC, f.lab("9811-1", 1, effective="2026-05-01"), f.lab("9811-1", 2, effective="2025-05-01"))
    assert [r.value for r in facts.chromogranin_a] == [2, 1]


@pytest.mark.parametrize(
    ("code", "expected"),
    [(f.cc(f.ICD10, "E34.0"), True), (f.cc(f.ICD10, "E16.1"), False), (f.cc(f.ICD10, "E24.3"), False)],
)
def test_syndromes(code, expected):
    facts = facts_of(NEC, f.condition(code))
    assert facts.hormonal_syndrome is Certainty.CONFIRMED
    assert (facts.carcinoid_syndrome is Certainty.CONFIRMED) is expected


def test_suspected_and_resolved_syndrome():
    suspected = facts_of(NEC, f.condition(f.cc(f.ICD10, "E34.0"), verification="differential"))
    assert suspected.carcinoid_syndrome is Certainty.SUSPECTED
    resolved = facts_of(NEC, f.condition(f.cc(f.ICD10, "E34.0"), clinical="resolved"))
    assert resolved.carcinoid_syndrome is None
    both = facts_of(
        NEC,
        f.condition(f.cc(f.ICD10, "E34.0"), verification="provisional"),
        f.condition(f.cc(f.ICD10, "E34.0")),
    )
    assert both.carcinoid_syndrome is Certainty.CONFIRMED


@pytest.mark.parametrize(
    "code",
    [f.cc(f.ICD10, "R51.9"), f.cc(f.ICD10, "R51"), f.cc(f.ICD10, "R56.9"), f.cc(f.ICD10, "R47.01"),
     f.cc(f.ICD10, "R27.0"), f.cc(f.ICD10, "H53.2"), f.cc(f.SNOMED, "25064002"), f.cc(f.SNOMED, "91175000")],
)  # fmt: skip
def test_neurologic_symptoms(code):
    facts = facts_of(NEC, f.condition(code, onset="2026-11-02"))
    assert facts.neurologic_symptoms is True
    assert facts.neurologic_symptoms_since == dt.date(2026, 11, 2)


def test_neurologic_symptoms_by_fact_and_not_when_resolved():
    assert facts_of(NEC, f.nen_fact("neurologic-symptoms", valueBoolean=True)).neurologic_symptoms is True
    assert facts_of(NEC, f.nen_fact("neurologic-symptoms", valueBoolean=False)).neurologic_symptoms is False
    resolved = f.condition(f.cc(f.ICD10, "R56.9"), clinical="resolved")
    assert facts_of(NEC, resolved).neurologic_symptoms is False
    assert facts_of(NEC, f.condition(f.cc(f.ICD10, "R50.9"))).neurologic_symptoms is False  # fever


def test_cardiac_symptoms_fact():
    assert facts_of(NEC, f.nen_fact("cardiac-symptoms", valueBoolean=True)).cardiac_symptoms is True
    assert facts_of(NEC).cardiac_symptoms is False
