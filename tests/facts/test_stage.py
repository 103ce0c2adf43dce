"""INPUTS.md rows 'Metastatic disease', 'Metastatic sites', 'Brain metastasis count', 'High systemic
disease burden', 'FIGO stage', 'Tumor size, LVSI, stromal invasion'."""

from __future__ import annotations

import pytest

from cds_service.facts.model import MetastaticSite, Stage
from tests.facts.helpers import facts_of, gap_facts
from tests.support import fhir as f

MCODE_RELATED = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-related-condition"


@pytest.mark.parametrize(
    ("icd10", "site"),
    [
        ("C78.7", MetastaticSite.LIVER),
        ("C7B.02", MetastaticSite.LIVER),
        ("C79.51", MetastaticSite.BONE),
        ("C7B.03", MetastaticSite.BONE),
        ("C79.31", MetastaticSite.BRAIN),
        ("C78.6", MetastaticSite.PERITONEUM),
        ("C7B.04", MetastaticSite.PERITONEUM),
        ("C7B.01", MetastaticSite.DISTANT_NODES),
        ("C77.2", MetastaticSite.DISTANT_NODES),
        ("C78.01", MetastaticSite.LUNG),
        ("C79.71", MetastaticSite.OTHER),
    ],
)
def test_secondary_condition_means_metastatic_at_its_site(icd10, site):
    facts = facts_of(f.nen_condition("NEC"), f.secondary(icd10))
    assert facts.stage is Stage.METASTATIC
    assert facts.metastatic_sites == {site}
    assert "stage" not in gap_facts(facts)


def test_unspecified_secondary_site_is_metastatic_without_a_site():
    facts = facts_of(f.nen_condition("NEC"), f.secondary("C7B.00"))
    assert facts.stage is Stage.METASTATIC
    assert facts.metastatic_sites == frozenset()


def test_snomed_secondary_root_with_body_site_words():
    met = f.condition(f.cc(f.SNOMED, "128462008"), body_site={"text": "Liver"})
    facts = facts_of(f.nen_condition("NEC"), met)
    assert facts.metastatic_sites == {MetastaticSite.LIVER}


def test_mcode_secondary_profile_with_body_site():
    met = f.condition(f.cc(f.SNOMED, "999999999", "Secondary malignant neoplasm"), body_site=f.cc(f.SNOMED, "12738006"))
    met["meta"] = {"profile": ["http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-secondary-cancer-condition"]}
    facts = facts_of(f.nen_condition("NEC"), met)
    assert facts.stage is Stage.METASTATIC
    assert facts.metastatic_sites == {MetastaticSite.BRAIN}


def test_suspected_secondary_does_not_make_metastatic():
    facts = facts_of(f.nen_condition("NEC"), f.secondary("C78.7", verification="provisional"))
    assert facts.stage is Stage.UNKNOWN
    assert "stage" in gap_facts(facts)


def test_secondary_of_another_cancer_is_not_counted():
    breast = f.condition(f.cc(f.ICD10, "C50.911"), id="breast")
    met = f.secondary("C79.51", extension=[{"url": MCODE_RELATED, "valueReference": {"reference": "Condition/breast"}}])
    facts = facts_of(f.nen_condition("NEC"), breast, met)
    assert facts.stage is Stage.UNKNOWN


@pytest.mark.parametrize("value", ["1229903009", "1229916009"])
@pytest.mark.parametrize(
    "code",
    [f.cc(f.SNOMED, "399387003"), f.cc(f.SNOMED, "371497001"), f.cc(f.SNOMED, "277208005"),
     f.cc(f.LOINC, "21907-1"), f.cc(f.LOINC, "21901-4")],
)  # fmt: skip
def test_m1_observation(code, value):
    obs = f.observation(code, valueCodeableConcept=f.cc(f.SNOMED, value))
    assert facts_of(f.nen_condition("NEC"), obs).stage is Stage.METASTATIC


def test_m0_without_secondary_is_localized():
    assert facts_of(f.nen_condition("NEC"), f.m_category("1229901006")).stage is Stage.LOCALIZED


def test_m0_with_secondary_is_metastatic():
    facts = facts_of(f.nen_condition("NEC"), f.m_category("1229901006"), f.secondary("C78.7"))
    assert facts.stage is Stage.METASTATIC


def test_latest_m_category_wins():
    old = f.m_category("1229901006", effective="2025-01-01")
    new = f.m_category("1229903009", effective="2026-01-01")
    assert facts_of(f.nen_condition("NEC"), old, new).stage is Stage.METASTATIC


def test_m_category_with_unknown_value_says_nothing():
    obs = f.m_category("123")
    assert facts_of(f.nen_condition("NEC"), obs).stage is Stage.UNKNOWN


def test_nothing_recorded_is_unknown_stage():
    facts = facts_of(f.nen_condition("NEC"))
    assert facts.stage is Stage.UNKNOWN
    assert "stage" in gap_facts(facts)


@pytest.mark.parametrize(
    ("ncit", "label", "stage"),
    [
        ("C96246", "IA1", Stage.LOCALIZED),
        ("C162222", "IB3", Stage.LOCALIZED),
        ("C96259", "IIIC1", Stage.LOCALIZED),
        ("C96262", "IVA", Stage.LOCALIZED),
        ("C96263", "IVB", Stage.METASTATIC),
    ],
)
def test_figo(ncit, label, stage):
    facts = facts_of(f.nen_condition("NEC", site="C53.9"), f.figo(ncit))
    assert facts.figo_stage == label
    assert facts.stage is stage


def test_figo_locoregional_but_secondary_recorded_is_metastatic():
    facts = facts_of(f.nen_condition("NEC", site="C53.9"), f.figo("C96255"), f.secondary("C78.7"))
    assert facts.figo_stage == "III"
    assert facts.stage is Stage.METASTATIC


def test_liver_dominant_pattern():
    facts = facts_of(f.nen_condition("NEC"), f.secondary("C78.7"), f.secondary("C7B.01"))
    assert facts.metastatic_sites == {MetastaticSite.LIVER, MetastaticSite.DISTANT_NODES}


def test_brain_metastasis_count_from_fact_or_conditions():
    two = facts_of(f.nen_condition("NEC"), f.secondary("C79.31"), f.secondary("C79.31"))
    assert two.brain_metastasis_count == 2
    counted = facts_of(
        f.nen_condition("NEC"), f.secondary("C79.31"), f.nen_fact("brain-metastasis-count", valueInteger=4)
    )
    assert counted.brain_metastasis_count == 4
    assert facts_of(f.nen_condition("NEC"), f.secondary("C78.7")).brain_metastasis_count is None


def test_high_burden_from_fact_or_three_sites():
    three = facts_of(f.nen_condition("NEC"), f.secondary("C78.7"), f.secondary("C79.51"), f.secondary("C78.01"))
    assert three.high_disease_burden is True
    two = facts_of(f.nen_condition("NEC"), f.secondary("C78.7"), f.secondary("C79.51"))
    assert two.high_disease_burden is None
    said = facts_of(f.nen_condition("NEC"), f.nen_fact("high-disease-burden", valueBoolean=False))
    assert said.high_disease_burden is False


@pytest.mark.parametrize(("value", "unit", "cm"), [(4.5, "cm", 4.5), (45, "mm", 4.5), (3, "in", None)])
def test_tumor_size(value, unit, cm):
    facts = facts_of(f.nen_condition("NEC"), f.quantity_obs(f.LOINC, "21889-1", value, unit))
    assert facts.tumor_size_cm == cm


def test_tumor_size_in_mcode_component():
    obs = f.observation(
        f.cc(f.LOINC, "21889-1"),
        component=[{"code": f.cc(f.LOINC, "33728-7"), "valueQuantity": {"value": 32, "unit": "mm", "code": "mm"}}],
    )
    assert facts_of(f.nen_condition("NEC"), obs).tumor_size_cm == pytest.approx(3.2)


@pytest.mark.parametrize(("value", "expected"), [("52101004", True), ("2667000", False), ("10828004", None)])
def test_lvsi(value, expected):
    facts = facts_of(f.nen_condition("NEC"), f.coded_obs(f.LOINC, "59544-7", f.SNOMED, value))
    assert facts.lymphovascular_invasion is expected


def test_deep_stromal_invasion():
    facts = facts_of(f.nen_condition("NEC"), f.nen_fact("deep-stromal-invasion", valueBoolean=True))
    assert facts.deep_stromal_invasion is True
    assert facts_of(f.nen_condition("NEC")).deep_stromal_invasion is None
