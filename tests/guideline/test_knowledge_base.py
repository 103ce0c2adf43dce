"""Load checks of the whole knowledge base against the catalog and the terminology table.

- every entry's id / section / level / population / setting / kind equals the catalog
  (shared/guideline/recommendations.yaml beside the repository, when present: CI has it at ../shared);
- every catalog id is implemented; ids outside the catalog are documented in knowledge/README.md;
- summaries are under 140 characters;
- every ActivityDefinition emits only codes marked VERIFIED in shared/terminology/codes.md (the
  allowlist is parsed from the table rows);
- a lack-of-consensus entry never produces a warning card, whatever the decision.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
import yaml

from cds_service.facts.model import DraftOrder
from cds_service.guideline.evaluate import Decision, Outcome
from cds_service.guideline.knowledge import KNOWLEDGE_DIR, knowledge
from cds_service.guideline.schedules import ScheduleStatus
from cds_service.rendering.activities import activities
from cds_service.rendering.cards import CardContext, level_words, recommendation_card
from tests.support.paths import CATALOG_FILE, CODES_FILE

CATALOG_FIELDS = ("section", "level", "population", "setting", "kind")


def catalog() -> dict[str, dict]:
    if not CATALOG_FILE.exists():
        pytest.skip(f"catalog not found at {CATALOG_FILE}")
    return {e["id"]: e for e in yaml.safe_load(CATALOG_FILE.read_text(encoding="utf-8"))}


def test_entries_match_the_catalog_fields():
    cat = catalog()
    mismatches = [
        f"{rid}.{name}: {getattr(rec, name)!r} != catalog {cat[rid][name]!r}"
        for rid, rec in knowledge().items()
        if rid in cat
        for name in CATALOG_FIELDS
        if getattr(rec, name) != cat[rid][name]
    ]
    assert not mismatches, "\n".join(mismatches)


def test_every_catalog_id_is_implemented():
    missing = sorted(set(catalog()) - set(knowledge()))
    assert not missing, f"catalog ids without a knowledge entry: {missing}"


def test_project_additions_are_documented():
    readme = (KNOWLEDGE_DIR / "README.md").read_text(encoding="utf-8")
    additions = readme.split("## Project additions", 1)[-1]
    undocumented = sorted(rid for rid in set(knowledge()) - set(catalog()) if f"`{rid}`" not in additions)
    assert not undocumented, f"ids outside the catalog, not documented in knowledge/README.md: {undocumented}"


def test_summaries_are_short_and_ids_unique_per_file():
    for rec in knowledge().values():
        assert len(rec.summary) < 140, rec.id
        assert rec.statement and rec.detail, rec.id
    seen: set[str] = set()
    for path in sorted(KNOWLEDGE_DIR.glob("*.yaml")):
        for raw in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            assert raw["id"] not in seen, f"{raw['id']} defined twice"
            seen.add(raw["id"])


# ---------------------------------------------------------------- emitted codes: VERIFIED only


def verified_codes() -> set[tuple[str, str]]:
    """(system, code) pairs of the codes.md table rows whose status cell is exactly VERIFIED."""
    if not CODES_FILE.exists():
        pytest.skip(f"codes.md not found at {CODES_FILE}")
    allowed: set[tuple[str, str]] = set()
    for line in CODES_FILE.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 6 or cells[5] != "VERIFIED" or not cells[1].startswith("http"):
            continue
        for token in re.split(r"\s*(?:/|,)\s*|\s+", cells[2]):
            if re.fullmatch(r"[A-Za-z0-9.\-:]+", token):
                allowed.add((cells[1], token))
    return allowed


def emitted_codings(ad: dict) -> list[dict]:
    concept = ad.get("code") or ad.get("productCodeableConcept") or {}
    return list(concept.get("coding", []))


def test_allowlist_parser_reads_verified_rows_and_rejects_single_source():
    allowed = verified_codes()
    assert ("http://snomed.info/sct", "443271005") in allowed  # FDG PET/CT, VERIFIED
    assert ("http://loinc.org", "29593-1") in allowed  # Ki-67, VERIFIED
    assert ("http://www.nlm.nih.gov/research/umls/rxnorm", "2555") in allowed  # cisplatin, VERIFIED
    assert ("http://snomed.info/sct", "764695006") not in allowed  # DOTATATE PET, SINGLE-SOURCE
    assert ("http://loinc.org", "24557-1") not in allowed  # MR abdomen, SINGLE-SOURCE
    assert ("http://www.nlm.nih.gov/research/umls/rxnorm", "37776") not in allowed  # temozolomide


def test_every_activity_definition_emits_only_verified_codes():
    allowed = verified_codes()
    bad = [
        f"{ad_id}: {c.get('system')}|{c.get('code')}"
        for ad_id, ad in activities().items()
        for c in emitted_codings(ad)
        if (c.get("system"), c.get("code")) not in allowed
    ]
    assert not bad, "codes not marked VERIFIED in codes.md:\n" + "\n".join(bad)


def test_every_activity_definition_is_complete():
    for ad_id, ad in activities().items():
        assert ad["url"] == f"https://nen-cds.org/fhir/ActivityDefinition/{ad_id}", ad_id
        assert ad["status"] == "active" and ad.get("title") and ad.get("description"), ad_id
        concept = ad.get("code") or ad.get("productCodeableConcept")
        assert concept and concept.get("text"), f"{ad_id}: code.text is required (text-only when no verified code)"
        assert ad.get("relatedArtifact"), f"{ad_id}: cite the codes.md source"


def test_sstr_pet_and_uncoded_orders_are_text_only():
    for ad_id in ("sr-sstr-pet", "sr-egd", "sr-ngs", "sr-rb-ihc", "sr-sstr2a-ihc", "sr-insm1-ihc"):
        assert "coding" not in activities()[ad_id]["code"], ad_id


# ---------------------------------------------------------------- lack of consensus is never a warning


def _fired(rec) -> Decision:
    schedule = None
    if rec.kind == "schedule":
        d = date(2026, 1, 1)
        schedule = ScheduleStatus(d, 1.0, 3, 3, None, d, overdue=True, finished=False)
    order = DraftOrder("ServiceRequest", "draft-1", frozenset(rec.orders), "draft") if rec.is_avoid else None
    return Decision(rec, Outcome.FIRES, {}, order=order, schedule=schedule)


LACK = sorted(rid for rid, rec in knowledge().items() if rec.level == "lack-of-consensus")


@pytest.mark.parametrize("rec_id", LACK)
def test_lack_of_consensus_entry_never_renders_a_warning(rec_id):
    rec = knowledge()[rec_id]
    card = recommendation_card(_fired(rec), CardContext("h", "http://localhost", "p"), "Condition/c")
    assert card["indicator"] == "info"
    assert "could not agree" in card["detail"].lower() or "lack" in card["detail"].lower()


def test_every_level_is_stated_on_the_card():
    for rec in knowledge().values():
        card = recommendation_card(_fired(rec), CardContext("h", "http://localhost", "p"), "Condition/c")
        assert rec.section in card["detail"] and "doi.org/10.1530/ERC-22-0206" in card["detail"], rec.id
        assert level_words(rec.level) in card["detail"], rec.id
        assert card["source"]["topic"]["code"] == rec.id
