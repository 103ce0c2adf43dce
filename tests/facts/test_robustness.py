"""General rules of INPUTS.md and robust reading: nothing raises, odd input yields no fact, never a wrong one."""

from __future__ import annotations

import copy
import dataclasses
import random
from datetime import date

import pytest

from cds_service.facts.build import build_facts
from cds_service.facts.model import Differentiation, Grade, PatientFacts, Stage
from cds_service.fhir_data.record import PatientRecord
from tests.facts.helpers import facts_of, ignored_refs, via_prefetch
from tests.support import fhir as f

BAD_VALUES = [None, "", "x" * 20_000, "ünïcødé ✓ 中文 \u202e", 0, -1, 1e308, True, [], {}, [None], [{}], {"a": [1]}]


def corpus() -> list[dict]:
    """One resource of every accepted form (the fixtures of the other test modules, in short)."""
    met = f.medication({"text": "cisplatin"}, id="med-c")
    ma = f.medication_administration(None, "x", id="ma-ref")
    ma["medicationReference"] = {"reference": "Medication/med-c"}
    return [
        f.nen_condition("NEC", id="nen"),
        f.condition(f.cc(f.ICD10, "C7A.8")),
        f.histology_observation("8246/3", focus="Condition/nen"),
        f.secondary("C78.7"),
        f.secondary("C79.31"),
        f.ki67(45),
        f.observation(f.cc(f.LOINC, "29593-1"), valueString="45%"),
        f.mitotic_count(25),
        f.histologic_grade("61026006"),
        f.m_category(),
        f.figo("C96263"),
        f.quantity_obs(f.LOINC, "21889-1", 4, "cm"),
        f.coded_obs(f.LOINC, "59544-7", f.SNOMED, "52101004"),
        f.nen_fact("deep-stromal-invasion", valueBoolean=True),
        f.nen_fact("brain-metastasis-count", valueInteger=2),
        f.nen_fact("high-disease-burden", valueBoolean=True),
        f.disease_status("271299001"),
        f.coded_obs(f.LOINC, "14229-9", f.NEN_FACT, "p53-aberrant"),
        f.coded_obs(f.NEN_FACT, "rb-ihc", f.NEN_FACT, "rb-lost"),
        f.sstr_pet(True),
        f.imaging_study(f.cc(f.SNOMED, "443271005")),
        f.coded_obs(f.LOINC, "81695-9", f.LOINC, "LA26203-2"),
        f.coded_obs(f.LOINC, "81691-8", f.SNOMED, "260385009"),
        f.quantity_obs(f.LOINC, "94076-7", 12, "/1000000"),
        f.variant("HGNC:1097", protein="p.Val600Glu"),
        f.variant("HGNC:8031", dna_change_type="SO:0001565"),
        f.report(f.cc(f.LOINC, "51969-4")),
        f.lab("9811-1", 300, interpretation="H", high=100),
        f.condition(f.cc(f.ICD10, "E34.0")),
        f.condition(f.cc(f.ICD10, "R56.9")),
        f.medication_request("2555", "cisplatin"),
        f.medication_statement("4179", "etoposide"),
        met,
        ma,
        f.allergy(f.cc(f.RXNORM, "4179")),
        f.procedure(f.cc(f.SNOMED, "1"), reason="Condition/nen"),
        f.service_request({"text": "DOTATATE PET"}),
        f.operation_outcome(),
    ]


def _paths(value, prefix=()):
    """Every path (key / index sequence) inside a JSON value."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield (*prefix, k)
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield (*prefix, i)
            yield from _paths(v, (*prefix, i))


def _set(resource, path, bad):
    target = resource
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = bad


def _check(facts: PatientFacts) -> None:
    assert isinstance(facts, PatientFacts)
    assert isinstance(facts.grade, Grade) and isinstance(facts.stage, Stage)
    assert facts.ki67_percent is None or 0 <= facts.ki67_percent <= 100
    for field in dataclasses.fields(facts):
        hash(field.name)  # every field readable
    if facts.neoplasm is not None:
        assert isinstance(facts.neoplasm.differentiation, Differentiation)


def test_the_corpus_yields_facts():
    facts = facts_of(*corpus())
    assert facts.neoplasm.differentiation is Differentiation.NEC
    assert facts.grade is Grade.G3 and facts.stage is Stage.METASTATIC
    assert facts.braf_v600e and facts.ntrk_fusion and facts.msi_high and facts.mmr_deficient


@pytest.mark.parametrize("position", range(len(corpus())))
def test_every_field_replaced_by_garbage_never_raises(position):
    base = corpus()
    context = [base[0], next(r for r in base if r.get("id") == "med-c")]
    for path in list(_paths(base[position])):
        for bad in BAD_VALUES:
            resource = copy.deepcopy(base[position])
            _set(resource, path, bad)
            _check(facts_of(*context, resource))


def test_random_deep_mutations_never_raise():
    rng = random.Random(20261201)
    base = corpus()
    for _ in range(150):
        resources = copy.deepcopy(base)
        for _ in range(rng.randint(1, 6)):
            target = rng.choice(resources)
            paths = list(_paths(target))
            if paths:
                _set(target, rng.choice(paths), rng.choice(BAD_VALUES))
        _check(facts_of(*resources))


@pytest.mark.parametrize(
    "garbage",
    [None, 42, "Condition", [], [1, 2], {"resourceType": 5}, {"resourceType": "Bundle", "entry": "x"},
     {"resourceType": "Bundle", "entry": [None, {"resource": "x"}, {"resource": {"resourceType": "Condition"}}]},
     {"resourceType": "Condition", "code": "C7A.1"}, {"resourceType": "Observation", "code": {"coding": "x"}},
     {"resourceType": "Condition", "id": {"x": 1}, "code": {"coding": [{"system": 5, "code": ["C7A.1"]}]}}],
)  # fmt: skip
def test_garbage_records_never_raise(garbage):
    record = PatientRecord(patient_id=f.PATIENT_ID)
    record.add(garbage)
    record.resources.append(garbage)  # even bypassing the record's own checks
    _check(build_facts(record, today=date(2026, 1, 1)))


def test_patient_id_of_odd_type():
    record = PatientRecord(patient_id=123)  # type: ignore[arg-type]
    record.add(f.nen_condition("NEC"))
    assert build_facts(record, today=date(2026, 1, 1)).patient_id is None


# ---------------------------------------------------------------- odd input gives no fact, never a wrong one


@pytest.mark.parametrize(
    ("resource", "fact"),
    [
        (f.ki67(45) | {"valueQuantity": {"value": "45", "unit": "%"}}, "ki67_percent"),
        (f.ki67(45) | {"valueQuantity": {"value": 45, "unit": "%", "comparator": 7}}, None),
        (f.m_category() | {"valueCodeableConcept": "cM1"}, "stage"),
        (f.sstr_pet(True) | {"conclusionCode": "positive"}, None),
        (f.coded_obs(f.LOINC, "81695-9", f.LOINC, "LA26203-2") | {"valueCodeableConcept": ["LA26203-2"]}, "msi_high"),
        (f.nen_fact("high-disease-burden", valueBoolean="true"), "high_disease_burden"),
        (f.nen_fact("brain-metastasis-count", valueInteger=True), "brain_metastasis_count"),
        (f.nen_fact("brain-metastasis-count", valueInteger=2.5), "brain_metastasis_count"),
    ],
)
def test_malformed_values_give_no_fact(resource, fact):
    facts = facts_of(f.nen_condition("NEC"), resource)
    if fact == "stage":
        assert facts.stage is Stage.UNKNOWN
    elif fact:
        assert getattr(facts, fact) is None


def test_malformed_condition_code_is_noted():
    facts = facts_of({"resourceType": "Condition", "id": "bad", "code": "C7A.1", "subject": f.subject()})
    assert facts.neoplasm is None
    assert "Condition/bad" in ignored_refs(facts)


def test_fraction_ki67_above_one_is_not_a_fraction():
    facts = facts_of(f.nen_condition("NET"), f.quantity_obs(f.LOINC, "29593-1", 45, "1"))
    assert facts.ki67_percent is None


def test_huge_code_strings_are_not_codes():
    cond = f.condition({"coding": [{"system": f.ICD10, "code": "C7A.1" + " " * 500 + "x" * 100_000}]})
    assert facts_of(cond).neoplasm is None


# ---------------------------------------------------------------- general rules


def test_resources_about_another_patient_are_ignored_with_a_note():
    facts = facts_of(f.nen_condition("NEC", id="theirs", patient_id="someone-else"), f.ki67(45, patient_id="x"))
    assert facts.neoplasm is None and facts.ki67_percent is None
    assert "Condition/theirs" in ignored_refs(facts)
    assert all("someone-else" not in i.reason for i in facts.ignored)  # no identifiers in notes


def test_absolute_and_versioned_subject_references():
    cond = f.nen_condition("NEC")
    cond["subject"] = {"reference": "https://ehr.example/fhir/Patient/pt-1"}
    obs = f.ki67(45)
    obs["subject"] = {"reference": "Patient/pt-2/_history/3"}
    facts = facts_of(cond, obs)
    assert facts.neoplasm is not None and facts.ki67_percent is None


@pytest.mark.parametrize("status", ["entered-in-error", "cancelled"])
def test_retracted_observations_are_ignored(status):
    facts = facts_of(f.nen_condition("NEC"), f.ki67(45, status=status, id="k"), f.ki67(10, effective="2020-01-01"))
    assert facts.ki67_percent == 10
    assert "Observation/k" in ignored_refs(facts)


def test_searchset_bundles_with_operation_outcome():
    record = PatientRecord(patient_id=f.PATIENT_ID)
    bundle = f.bundle(f.nen_condition("NEC"), type="searchset")
    bundle["entry"].append({"resource": f.operation_outcome("warning", id="warn"), "search": {"mode": "outcome"}})
    bundle["entry"].append({"resource": f.operation_outcome("error", id="err"), "search": {"mode": "outcome"}})
    record.add(bundle)
    facts = build_facts(record, today=date(2026, 1, 1))
    assert facts.neoplasm is not None
    assert ignored_refs(facts) == {"OperationOutcome/err"}


def test_prefetch_bundles_give_the_same_facts():
    resources = [r for r in corpus() if r["resourceType"] not in ("Medication", "OperationOutcome")]
    direct, prefetched = facts_of(*resources), via_prefetch(*resources)
    assert direct.neoplasm == prefetched.neoplasm
    assert (direct.grade, direct.stage, direct.msi_high) == (prefetched.grade, prefetched.stage, prefetched.msi_high)


def test_facts_are_immutable():
    facts = facts_of(f.nen_condition("NEC"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        facts.grade = Grade.G3  # type: ignore[misc]
