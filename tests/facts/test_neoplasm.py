"""INPUTS.md rows 'The neoplasm', 'Differentiation: NET / NEC', 'MiNEN', 'Differentiation unknown', 'Primary site'."""

from __future__ import annotations

import pytest

from cds_service.facts.model import Certainty, Differentiation, SiteGroup
from tests.facts.helpers import facts_of, gap_facts
from tests.support import fhir as f

NEC_ICD10 = f.cc(f.ICD10, "C7A.1", "Malignant poorly differentiated neuroendocrine tumors")


@pytest.mark.parametrize(
    ("morphology", "expected"),
    [
        ("8240/3", Differentiation.NET),
        ("8249/3", Differentiation.NET),
        ("8246/3", Differentiation.NEC),
        ("8041/3", Differentiation.NEC),
        ("8013/3", Differentiation.NEC),
        ("8045/3", Differentiation.NEC),
        ("8154/3", Differentiation.MINEN),
        ("8244/3", Differentiation.MINEN),  # legacy MANEC
    ],
)
def test_histology_extension_decides_differentiation(morphology, expected):
    facts = facts_of(f.condition(f.cc(f.ICD10, "C25.4"), morphology=morphology))
    assert facts.neoplasm is not None
    assert facts.neoplasm.differentiation is expected
    assert facts.neoplasm.morphology == morphology


def test_icdo3_oid_system_is_accepted():
    cond = f.condition(f.cc(f.ICD10, "C25.4"))
    cond["extension"] = [
        {"url": f.HISTOLOGY_EXT, "valueCodeableConcept": f.cc("urn:oid:2.16.840.1.113883.6.43.1", "8246/3")}
    ]
    assert facts_of(cond).neoplasm.differentiation is Differentiation.NEC


@pytest.mark.parametrize(
    ("snomed", "expected"),
    [
        ("1286767006", Differentiation.NEC),
        ("74364000", Differentiation.NEC),
        ("128628002", Differentiation.NEC),
        ("1286768001", Differentiation.NET),
    ],
)
def test_snomed_morphology_in_condition_code(snomed, expected):
    facts = facts_of(f.condition(f.cc(f.SNOMED, snomed)))
    assert facts.neoplasm.differentiation is expected


def test_histology_observation_linked_by_focus():
    cond = f.condition(f.cc(f.ICD10, "C25.4"), id="pnet")
    facts = facts_of(cond, f.histology_observation("8246/3", focus="Condition/pnet"))
    assert facts.neoplasm.condition_id == "Condition/pnet"
    assert facts.neoplasm.differentiation is Differentiation.NEC


def test_unlinked_histology_observation_applies_to_the_only_cancer():
    facts = facts_of(f.condition(f.cc(f.ICD10, "C25.4")), f.histology_observation("8249/3"))
    assert facts.neoplasm.differentiation is Differentiation.NET


def test_unlinked_histology_observation_not_applied_when_two_cancers():
    facts = facts_of(
        f.condition(f.cc(f.ICD10, "C25.4")), f.condition(f.cc(f.ICD10, "C50.911")), f.histology_observation("8246/3")
    )
    assert facts.neoplasm is None  # which cancer it describes is unknown: no guess


def test_extension_wins_over_observation_and_code():
    cond = f.condition(f.cc(f.SNOMED, "74364000"), morphology="8249/3", id="c1")
    facts = facts_of(cond, f.histology_observation("8246/3", focus="Condition/c1"))
    assert facts.neoplasm.differentiation is Differentiation.NET


@pytest.mark.parametrize(
    ("icd10", "expected"),
    [
        ("C7A.1", Differentiation.NEC),
        ("C7A.010", Differentiation.NET),
        ("C7A.092", Differentiation.NET),
        ("C7A.8", Differentiation.UNKNOWN),
    ],
)
def test_icd10_alone(icd10, expected):
    facts = facts_of(f.condition(f.cc(f.ICD10, icd10)))
    assert facts.neoplasm.differentiation is expected
    assert ("differentiation" in gap_facts(facts)) is (expected is Differentiation.UNKNOWN)


def test_c7b_alone_is_a_nen_of_unknown_differentiation_and_metastatic():
    facts = facts_of(f.condition(f.cc(f.ICD10, "C7B.02")))
    assert facts.neoplasm.differentiation is Differentiation.UNKNOWN
    assert facts.neoplasm.site is SiteGroup.NOT_RECORDED
    assert facts.stage.value == "metastatic"
    assert {"differentiation", "primary-site"} <= gap_facts(facts)


def test_c25_4_alone_is_not_a_nen():
    assert facts_of(f.condition(f.cc(f.ICD10, "C25.4"))).neoplasm is None


def test_c25_4_with_non_nen_morphology_is_not_a_nen():
    assert facts_of(f.condition(f.cc(f.ICD10, "C25.4"), morphology="8140/3")).neoplasm is None


def test_8249_alone_is_never_g3():
    facts = facts_of(f.nen_condition("NET"))
    assert facts.grade.value == "unknown"
    assert "ki67" in gap_facts(facts)


def test_no_nen_no_gaps():
    facts = facts_of(f.condition(f.cc(f.ICD10, "C50.911")))
    assert facts.neoplasm is None
    assert facts.data_gaps == ()
    assert len(facts.other_cancers) == 1


def test_other_cancer_goes_to_other_cancers():
    facts = facts_of(f.nen_condition("NEC", id="nen"), f.condition(f.cc(f.ICD10, "C50.911"), id="breast"))
    assert facts.neoplasm.condition_id == "Condition/nen"
    assert facts.other_cancers == ("Condition/breast",)


def test_confirmed_preferred_over_suspected_then_most_recent():
    suspected = f.nen_condition("NEC", id="s", verification="provisional", onset="2026-10-01")
    old = f.nen_condition("NET", id="old", onset="2020-01-01")
    new = f.nen_condition("NET", id="new", onset="2025-01-01")
    facts = facts_of(suspected, old, new)
    assert facts.neoplasm.condition_id == "Condition/new"
    assert facts.neoplasm.certainty is Certainty.CONFIRMED


@pytest.mark.parametrize("status", ["provisional", "differential"])
def test_provisional_or_differential_is_suspected(status):
    facts = facts_of(f.nen_condition("NEC", verification=status))
    assert facts.neoplasm.certainty is Certainty.SUSPECTED


@pytest.mark.parametrize("status", ["refuted", "entered-in-error"])
def test_refuted_condition_is_ignored(status):
    facts = facts_of(f.nen_condition("NEC", verification=status, id="x"))
    assert facts.neoplasm is None
    assert "Condition/x" in {i.reference for i in facts.ignored}


def test_biopsied_metastasis_gives_differentiation_to_an_unspecific_primary():
    primary = f.condition(f.cc(f.ICD10, "C7A.8"), body_site=f.cc(f.ICDO3, "C25.2"), id="p")
    met = f.condition(f.cc(f.ICD10, "C7B.02"), morphology="8246/6", id="m")
    facts = facts_of(primary, met)
    assert facts.neoplasm.condition_id == "Condition/p"
    assert facts.neoplasm.differentiation is Differentiation.NEC
    assert facts.neoplasm.pancreas_body_or_tail is True
    assert facts.sources["differentiation"] == ("Condition/m",)


# ---------------------------------------------------------------- primary site


@pytest.mark.parametrize(
    ("site", "expected"),
    [
        ("C25.4", SiteGroup.PANCREAS),
        ("C254", SiteGroup.PANCREAS),  # undotted registry form
        ("C17.2", SiteGroup.SMALL_BOWEL),
        ("C18.1", SiteGroup.APPENDIX),
        ("C181", SiteGroup.APPENDIX),
        ("C18.7", SiteGroup.COLORECTAL),
        ("C20.9", SiteGroup.COLORECTAL),
        ("C16.2", SiteGroup.STOMACH),
        ("C15.5", SiteGroup.ESOPHAGUS),
        ("C53.9", SiteGroup.CERVIX),
        ("C54.1", SiteGroup.UTERUS),
        ("C56.9", SiteGroup.OVARY),
        ("C51.9", SiteGroup.VULVA_VAGINA),
        ("C52.9", SiteGroup.VULVA_VAGINA),
        ("C80.9", SiteGroup.UNKNOWN_PRIMARY),
        ("C34.1", SiteGroup.OTHER),  # lung: outside the guideline's sites
    ],
)
def test_body_site_topography(site, expected):
    facts = facts_of(f.nen_condition("NEC", site=site))
    assert facts.neoplasm.site is expected
    assert "primary-site" not in gap_facts(facts)


@pytest.mark.parametrize(
    ("icd10", "expected"),
    [
        ("C25.1", SiteGroup.PANCREAS),
        ("C17.0", SiteGroup.SMALL_BOWEL),
        ("C18.1", SiteGroup.APPENDIX),
        ("C19", SiteGroup.COLORECTAL),
        ("C20", SiteGroup.COLORECTAL),
        ("C7A.012", SiteGroup.SMALL_BOWEL),
        ("C7A.020", SiteGroup.APPENDIX),
        ("C7A.026", SiteGroup.COLORECTAL),
        ("C7A.092", SiteGroup.STOMACH),
        ("C53.0", SiteGroup.CERVIX),
        ("C55", SiteGroup.UTERUS),
        ("C56.1", SiteGroup.OVARY),
        ("C80.1", SiteGroup.UNKNOWN_PRIMARY),
        ("C26.9", SiteGroup.UNKNOWN_PRIMARY),
    ],
)
def test_site_from_icd10_code(icd10, expected):
    facts = facts_of(f.condition(f.cc(f.ICD10, icd10), morphology="8246/3"))
    assert facts.neoplasm.site is expected


def test_pancreatic_body_or_tail():
    assert facts_of(f.nen_condition("NEC", site="C25.1")).neoplasm.pancreas_body_or_tail is True
    assert facts_of(f.nen_condition("NEC", site="C25.0")).neoplasm.pancreas_body_or_tail is False


def test_site_agnostic_code_leaves_site_a_gap():
    facts = facts_of(f.condition(f.cc(f.ICD10, "C7A.1")))
    assert facts.neoplasm.site is SiteGroup.NOT_RECORDED
    assert "primary-site" in gap_facts(facts)


def test_foregut_carcinoid_is_too_unspecific_for_a_site():
    facts = facts_of(f.condition(f.cc(f.ICD10, "C7A.094")))
    assert facts.neoplasm.site is SiteGroup.NOT_RECORDED


def test_snomed_body_site_read_by_its_words():
    cond = f.nen_condition("NEC")
    cond["bodySite"] = [{"coding": [{"system": f.SNOMED, "code": "000000", "display": "Pancreatic structure"}]}]
    assert facts_of(cond).neoplasm.site is SiteGroup.PANCREAS


def test_ambiguous_body_site_words_are_not_guessed():
    cond = f.nen_condition("NEC")
    cond["bodySite"] = [{"text": "pancreas or duodenum"}]
    assert facts_of(cond).neoplasm.site is SiteGroup.NOT_RECORDED


def test_separate_endocrine_pancreas_condition_gives_the_site():
    facts = facts_of(f.condition(f.cc(f.ICD10, "C7A.8"), id="n"), f.condition(f.cc(f.ICD10, "C25.4"), id="p"))
    assert facts.neoplasm.site is SiteGroup.PANCREAS
    assert facts.other_cancers == ()
