"""Every avoid entry at the engine level: PatientFacts built directly, drafts read by orders.py.

Each case (tests/orders/cases.py) runs through order-select and order-sign: the entry's card names
the draft where the guideline advises against it, and nothing names it where the order fits.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
import yaml

from cds_service.facts.model import ImagingKind
from cds_service.guideline.evaluate import Outcome
from cds_service.guideline.knowledge import knowledge
from tests.orders.cases import CASES, QUIET, SSTR_PET, case
from tests.orders.checks import HOOKS, assert_fires, assert_silent, cards_for, run_engine
from tests.orders.scenario import ref
from tests.support.paths import CATALOG_FILE

FIRES = [c for c in CASES if c.fires]
SILENT = [c for c in CASES if not c.fires]


@pytest.mark.parametrize("hook", HOOKS)
@pytest.mark.parametrize("c", FIRES, ids=[c.name for c in FIRES])
def test_fires(c, hook):
    evaluation, cards = run_engine(c, hook)
    assert_fires(cards, c)
    fired = [d for d in evaluation.fired if d.rec.id == c.rec_id]
    assert c.target in [d.order.resource_id for d in fired]


@pytest.mark.parametrize("hook", HOOKS)
@pytest.mark.parametrize("c", SILENT, ids=[c.name for c in SILENT])
def test_silent(c, hook):
    evaluation, cards = run_engine(c, hook)
    assert_silent(cards, c)
    # silent because the guideline's conditions are not met, not because a fact was missing
    assert not [d for d in evaluation.unknown if d.rec.id == c.rec_id]


@pytest.mark.parametrize("name", QUIET)
def test_appropriate_orders_stay_quiet(name):
    _, cards = run_engine(case(name))
    assert not [c for c in cards if c["indicator"] in ("warning", "critical")]
    avoid_ids = {r.id for r in knowledge().values() if r.is_avoid}
    assert not [c for c in cards if c["source"]["topic"]["code"] in avoid_ids]


def test_every_avoid_entry_has_a_firing_and_a_silent_case():
    avoid = {r.id for r in knowledge().values() if r.is_avoid}
    assert {c.rec_id for c in FIRES} == avoid
    assert {c.rec_id for c in SILENT} == avoid


def test_the_order_checks_cover_every_catalog_avoid_entry_with_its_indicator():
    """The 28 catalog avoid entries, with `indicator: info` exactly where the catalog says so."""
    catalog_path = CATALOG_FILE
    try:
        with open(catalog_path, encoding="utf-8") as fh:
            catalog = [e for e in yaml.safe_load(fh) if e["kind"] == "avoid"]
    except FileNotFoundError:
        pytest.skip("catalog not available on this machine")
    recs = knowledge()
    assert len(catalog) == 28
    for entry in catalog:
        rec = recs[entry["id"]]
        assert rec.is_avoid and rec.orders
        assert (rec.level, rec.population, rec.setting, rec.section) == (
            entry["level"],
            entry["population"],
            entry["setting"],
            entry["section"],
        )
        assert rec.indicator == entry.get("indicator")
        if rec.level == "lack-of-consensus":
            assert rec.indicator == "info"  # never a warning


def test_unselected_draft_gets_no_card_on_order_select():
    c = case("SSTR-PET for a newly diagnosed NEC (coded order)")
    other = case("brain MRI for an asymptomatic NEC with liver metastases only")
    session = type(c)(c.name, c.rec_id, True, c.spec, (*c.drafts, *other.drafts), c.target, c.alternatives)
    _, cards = run_engine(session, "order-select", selections=["ServiceRequest/brain-mri"])
    assert not cards_for(cards, "workup.nec.no-baseline-sstr-pet")
    assert cards_for(cards, "workup.nec.no-routine-brain-imaging")
    _, signed = run_engine(session, "order-sign")
    assert cards_for(signed, "workup.nec.no-baseline-sstr-pet") and cards_for(
        signed, "workup.nec.no-routine-brain-imaging"
    )


def test_unselected_platinum_draft_is_context_for_the_selected_immunotherapy():
    c = case("atezolizumab drafted with first-line carboplatin + etoposide for NEC")
    _, cards = run_engine(c, "order-select", selections=["MedicationRequest/atezolizumab"])
    card = assert_fires(cards, c)
    assert {a["resourceId"] for s in card["suggestions"] for a in s["actions"]} == {"MedicationRequest/atezolizumab"}


def test_platinum_and_etoposide_drafted_together_give_one_card_naming_both():
    c = case("cisplatin + etoposide as front line for a metastatic G3 NET with Ki-67 35%")
    evaluation, cards = run_engine(c, "order-sign")
    assert sorted(d.order.resource_id for d in evaluation.fired if d.rec.id == c.rec_id) == ["cisplatin", "etoposide"]
    card = assert_fires(cards, c)
    remove_all = card["suggestions"][-1]
    assert {a["resourceId"] for a in remove_all["actions"]} == {
        "MedicationRequest/cisplatin",
        "MedicationRequest/etoposide",
    }


def test_several_drafts_at_once_each_checked():
    nec = case("SSTR-PET for a newly diagnosed NEC (coded order)").spec
    drafts = tuple(
        d
        for name in (
            "SSTR-PET for a newly diagnosed NEC (coded order)",
            "brain MRI for an asymptomatic NEC with liver metastases only",
            "lanreotide for tumor control in NEC",
            "chromogranin A for a NEC without a hormonal syndrome",
        )
        for d in case(name).drafts
    )
    session = case("SSTR-PET for a newly diagnosed NEC (coded order)")
    session = type(session)("session", session.rec_id, True, nec, drafts, session.target)
    evaluation, cards = run_engine(session, "order-sign")
    assert {c["source"]["topic"]["code"] for c in cards} >= {
        "workup.nec.no-baseline-sstr-pet",
        "workup.nec.no-routine-brain-imaging",
        "met.nec.no-ssa",
        "workup.nec.no-biomarkers",
    }
    assert all(d.outcome is not Outcome.UNKNOWN for d in evaluation.decisions)


def test_no_alternative_offered_when_it_is_already_done_or_drafted():
    c = case("octreotide for a metastatic G3 NET without SSTR imaging")
    with_pet = type(c)(c.name, c.rec_id, True, c.spec, (*c.drafts, SSTR_PET), c.target)  # SSTR-PET drafted now
    card = assert_fires(run_engine(with_pet)[1], with_pet)
    assert all(a["type"] == "delete" for s in card["suggestions"] for a in s["actions"])

    nec = case("SSTR-PET for a newly diagnosed NEC (coded order)")
    fdg_done = replace(nec.spec, studies=((ImagingKind.FDG_PET, 10),))
    done = type(nec)(nec.name, nec.rec_id, True, fdg_done, nec.drafts, nec.target)  # FDG-PET done 10 days ago
    card = assert_fires(run_engine(done)[1], done)
    assert not [a for s in card["suggestions"] for a in s["actions"] if a["type"] == "create"]


WITH_ALTERNATIVES = [c for c in FIRES if c.alternatives]


@pytest.mark.parametrize("c", WITH_ALTERNATIVES, ids=[c.name for c in WITH_ALTERNATIVES])
def test_accepting_an_alternative_draws_no_warning(c):
    """Each offered replacement, drafted in place of the draft, passes the same order checks."""
    card = assert_fires(run_engine(c)[1], c)
    for n, suggestion in enumerate(s for s in card["suggestions"] if any(a["type"] == "create" for a in s["actions"])):
        created = [
            dict(a["resource"], id=f"alt-{n}-{i}")
            for i, a in enumerate(a for a in suggestion["actions"] if a["type"] == "create")
        ]
        removed = {a["resourceId"] for a in suggestion["actions"] if a["type"] == "delete"}
        others = tuple(d for d in c.drafts if ref(d) not in removed)
        accepted = type(c)(c.name, c.rec_id, False, c.spec, (*others, *created), created[0]["id"])
        _, cards = run_engine(accepted)
        assert not [x for x in cards if x["indicator"] == "warning"], suggestion["label"]
