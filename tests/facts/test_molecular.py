"""INPUTS.md row 'Molecular': MSI, MMR IHC, TMB, BRAF V600E, NTRK / RET fusions, NGS."""

from __future__ import annotations

import pytest

from tests.facts.helpers import facts_of, gap_facts
from tests.support import fhir as f

NEC = f.nen_condition("NEC")
BRAF, NTRK1, NTRK3, RET, TPM3 = "HGNC:1097", "HGNC:8031", "HGNC:8033", "HGNC:9967", "HGNC:12012"


@pytest.mark.parametrize(("value", "expected"), [("LA26203-2", True), ("LA14122-8", False), ("LA00000-0", None)])
def test_msi(value, expected):
    facts = facts_of(NEC, f.coded_obs(f.LOINC, "81695-9", f.LOINC, value))
    assert facts.msi_high is expected
    assert ("msi-mmr-tmb" in gap_facts(facts)) is (expected is None)


@pytest.mark.parametrize("loinc", ["62862-8", "81691-8", "81692-6", "81693-4", "81694-2"])
@pytest.mark.parametrize("loss", ["260385009", "2667000"])
def test_mmr_loss_is_deficient(loinc, loss):
    assert facts_of(NEC, f.coded_obs(f.LOINC, loinc, f.SNOMED, loss)).mmr_deficient is True


def test_all_four_proteins_retained_is_proficient():
    obs = [f.coded_obs(f.LOINC, c, f.SNOMED, "52101004") for c in ("81691-8", "81692-6", "81693-4", "81694-2")]
    assert facts_of(NEC, *obs).mmr_deficient is False
    assert facts_of(NEC, *obs[:3]).mmr_deficient is None  # PMS2 not reported


def test_mmr_summary_positive_is_not_read_as_proficient():
    assert facts_of(NEC, f.coded_obs(f.LOINC, "62862-8", f.SNOMED, "10828004")).mmr_deficient is None


@pytest.mark.parametrize(("unit", "expected"), [("/1000000", 12.0), ("{mutations}/Mb", 12.0), ("%", None)])
def test_tmb_units(unit, expected):
    assert facts_of(NEC, f.quantity_obs(f.LOINC, "94076-7", 12, unit)).tmb_per_mb == expected


def test_braf_v600e_variant():
    assert facts_of(NEC, f.variant(BRAF, protein="NP_004324.2:p.Val600Glu")).braf_v600e is True
    assert facts_of(NEC, f.variant(BRAF, protein="NP_004324.2:p.Val600Glu", present=False)).braf_v600e is False
    assert facts_of(NEC, f.variant(BRAF, protein="NP_004324.2:p.Gly469Ala")).braf_v600e is None


def test_braf_gene_id_system_alias():
    v = f.variant(BRAF, protein="p.V600E", gene_system="http://www.genenames.org/geneId")
    assert facts_of(NEC, v).braf_v600e is True


def test_braf_ihc():
    assert facts_of(NEC, f.coded_obs(f.LOINC, "85299-6", f.SNOMED, "10828004")).braf_v600e is True


@pytest.mark.parametrize("gene", [NTRK1, "HGNC:8032", NTRK3])
def test_ntrk_fusion_by_sequence_ontology(gene):
    facts = facts_of(NEC, f.variant(gene, dna_change_type="SO:0001565"))
    assert facts.ntrk_fusion is True
    assert facts.ret_fusion is None


def test_fusion_by_text_or_two_genes():
    assert facts_of(NEC, f.variant(RET, component_text="KIF5B-RET fusion")).ret_fusion is True
    assert facts_of(NEC, f.variant(NTRK1, TPM3)).ntrk_fusion is True


def test_point_mutation_in_ntrk_is_not_a_fusion():
    assert facts_of(NEC, f.variant(NTRK1, protein="p.Gly595Arg")).ntrk_fusion is None


def test_no_fusion_detected_text_is_not_a_fusion():
    facts = facts_of(NEC, f.variant(NTRK3, component_text="No fusion detected", present=None))
    assert facts.ntrk_fusion is None


def test_fusion_reported_absent():
    assert facts_of(NEC, f.variant(RET, dna_change_type="SO:0001565", present=False)).ret_fusion is False


@pytest.mark.parametrize(("value", "expected"), [("10828004", True), ("260385009", False)])
def test_ret_fish(value, expected):
    assert facts_of(NEC, f.coded_obs(f.LOINC, "90927-5", f.SNOMED, value)).ret_fusion is expected


def test_ngs_report():
    assert facts_of(NEC, f.report(f.cc(f.LOINC, "51969-4"))).ngs_done is True
    assert facts_of(NEC).ngs_done is False
