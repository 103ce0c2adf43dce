"""Molecular results (INPUTS.md row 'Molecular').

- MSI: LOINC 81695-9 (or 43368-0) valued MSI-H / stable; the latest conclusive result wins.
- MMR IHC: any protein (81691-8 .. 81694-2) or the summary 62862-8 valued negative / absent
  (loss) means deficient; all four proteins retained means proficient. A summary valued
  positive is not read as proficient (its LOINC meaning is 'MSI present').
- TMB: LOINC 94076-7 valueQuantity in mutations per megabase (UCUM ``/1000000`` or
  ``{mutations}/Mb``); other units are not compared.
- BRAF V600E: a genomics-reporting Variant (69548-6) with gene studied BRAF (HGNC:1097) and
  protein change p.Val600Glu; or BRAF V600E IHC 85299-6 positive / negative.
- NTRK / RET fusion: a Variant with gene studied NTRK1/2/3 or RET whose DNA change type is
  SO:0001565 gene_fusion, or whose component / Observation text says 'fusion', or that names two
  genes studied (the genomics-reporting fusion pattern); RET FISH 90927-5 positive / negative.
  A Variant valued absent / negative says 'not found' (False).
- NGS: any DiagnosticReport LOINC 51969-4.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cds_service.facts.extract import fhir
from cds_service.facts.extract.context import Context, Item, by_recency
from cds_service.facts.extract.pathology import answer
from cds_service.facts.valuesets import HGNC, normalise_system

_TMB_UNITS = frozenset(
    {
        "/1000000",
        "1/1000000",
        "{mutations}/Mb",
        "{mutations}/[Mb]",
        "mutations/Mb",
        "Mutations/Megabase",
        "mut/Mb",
        "/Mb",
    }
)
_PROTEINS = 4  # MLH1, MSH2, MSH6, PMS2


@dataclass
class MolecularResult:
    msi_high: bool | None = None
    mmr_deficient: bool | None = None
    tmb_per_mb: float | None = None
    braf_v600e: bool | None = None
    ntrk_fusion: bool | None = None
    ret_fusion: bool | None = None
    ngs_done: bool = False


def extract_molecular(ctx: Context, foreign: frozenset[str]) -> MolecularResult:
    out = MolecularResult()
    observations = lambda name: [  # noqa: E731
        i for i in by_recency(ctx.of(name, types=("Observation",))) if not _about(i, foreign)
    ]
    for item in observations("msi"):
        value = answer(ctx, item, "msi-high", "msi-stable", allow_boolean=False)
        if value is not None:
            out.msi_high = value
            ctx.source("msi_high", item.ref)
            break
    _mmr(ctx, out, observations("mmr-ihc"))
    for item in observations("tmb"):
        qty = fhir.quantity(item.resource.get("valueQuantity"))
        if qty is None or qty.comparator or qty.value < 0:
            continue
        if qty.unit not in _TMB_UNITS and qty.unit_text not in _TMB_UNITS:
            ctx.ignore(item.ref, f"TMB not in mutations per megabase (unit {qty.unit[:20]!r}): not used")
            continue
        out.tmb_per_mb = qty.value
        ctx.source("tmb_per_mb", item.ref)
        break
    _variants(ctx, out, observations("genetic-variant"))
    if out.braf_v600e is None:
        for item in observations("braf-v600e-ihc"):
            value = answer(ctx, item, "result-positive", "result-negative")
            if value is not None:
                out.braf_v600e = value
                ctx.source("braf_v600e", item.ref)
                break
    if out.ret_fusion is None:
        for item in observations("ret-fish"):
            value = answer(ctx, item, "result-positive", "result-negative")
            if value is not None:
                out.ret_fusion = value
                ctx.source("ret_fusion", item.ref)
                break
    reports = ctx.of("ngs", types=("DiagnosticReport",))
    if reports:
        out.ngs_done = True
        ctx.source("ngs_done", *(r.ref for r in reports))
    return out


def _mmr(ctx: Context, out: MolecularResult, items: list[Item]) -> None:
    retained: dict[str, str] = {}  # protein LOINC -> reference
    for item in items:
        value = ctx.index.names_for_concept(item.resource.get("valueCodeableConcept"))
        if "mmr-loss" in value:
            out.mmr_deficient = True
            ctx.source("mmr_deficient", item.ref)
            return
        code = item.resource.get("code")
        if "mmr-intact" in value and "mmr-protein-ihc" in ctx.index.names_for_concept(code):
            for coding in fhir.codings(code):
                if "mmr-protein-ihc" in ctx.index.names_for_coding(coding):
                    retained.setdefault(fhir.code_of(coding), item.ref)
    if len(retained) >= _PROTEINS:
        out.mmr_deficient = False
        ctx.source("mmr_deficient", *retained.values())


def _variants(ctx: Context, out: MolecularResult, items: list[Item]) -> None:
    for item in items:
        resource = item.resource
        genes: set[str] = set()
        gene_names: set[str] = set()
        protein_v600e = fusion = False
        texts = [fhir.concept_texts(resource.get("code")), fhir.text(resource.get("valueString"))]
        texts.append(fhir.concept_texts(resource.get("valueCodeableConcept")))
        for comp in fhir.maps(resource.get("component")):
            comp_code = ctx.index.names_for_concept(comp.get("code"))
            value = comp.get("valueCodeableConcept")
            if "gene-studied" in comp_code and isinstance(value, Mapping):
                for coding in fhir.codings(value):
                    names = ctx.index.names_for_coding(coding)
                    if names & {"gene-braf", "gene-ntrk", "gene-ret"}:
                        gene_names |= names
                    if fhir.code_of(coding) and normalise_system(_system(coding)) == HGNC:
                        genes.add(fhir.code_of(coding).upper())
            if "protein-change" in comp_code:
                words = " ".join([fhir.concept_texts(value), _codes(value), fhir.text(comp.get("valueString"))])
                if ctx.in_set("braf-v600e-change", value) or ctx.index.text_matches("braf-v600e-change", words):
                    protein_v600e = True
            if "dna-change-type" in comp_code and ctx.in_set("gene-fusion", value):
                fusion = True
            texts.append(fhir.concept_texts(comp.get("code")))
            texts.append(fhir.concept_texts(value) + " " + fhir.text(comp.get("valueString")))
        if not gene_names:
            continue
        absent = "variant-absent" in ctx.index.names_for_concept(resource.get("valueCodeableConcept"))
        if not absent and any(ctx.index.text_matches("negation-text", t) for t in texts):
            continue  # "no fusion detected" in free text: neither found nor coded as absent
        fusion = fusion or any(ctx.index.text_matches("gene-fusion", t) for t in texts) or len(genes) >= 2
        if "gene-braf" in gene_names and protein_v600e and out.braf_v600e is None:
            out.braf_v600e = not absent
            ctx.source("braf_v600e", item.ref)
        if "gene-ntrk" in gene_names and fusion and out.ntrk_fusion is None:
            out.ntrk_fusion = not absent
            ctx.source("ntrk_fusion", item.ref)
        if "gene-ret" in gene_names and fusion and out.ret_fusion is None:
            out.ret_fusion = not absent
            ctx.source("ret_fusion", item.ref)


def _system(coding: Mapping[str, Any]) -> str | None:
    system = coding.get("system")
    return system if isinstance(system, str) else None


def _codes(cc: Any) -> str:
    return " ".join(fhir.code_of(c) for c in fhir.codings(cc))


def _about(item: Item, foreign: frozenset[str]) -> bool:
    focus = {fhir.ref_key(fhir.reference(f)) for f in fhir.as_list(item.resource.get("focus"))}
    return bool(focus & foreign)
