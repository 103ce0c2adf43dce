"""Running an order-check case (engine or HTTP) and what every avoid card must carry (CONTRACT.md point 3)."""

from __future__ import annotations

from datetime import date
from typing import Any

from cds_service.facts.orders import read_draft_orders
from cds_service.fhir_data.record import PatientRecord
from cds_service.guideline import GUIDELINE_SYSTEM
from cds_service.guideline.evaluate import Evaluation, evaluate
from cds_service.rendering.activities import activities
from cds_service.rendering.cards import CardContext, render_cards
from tests.orders.cases import Case
from tests.orders.scenario import ref
from tests.support import fhir as F

TODAY = date(2026, 11, 28)
HOOKS = ("order-select", "order-sign")
# Catalog entries marked `indicator: info` (recommendations.yaml), plus the project's repeat-imaging note.
INFO_ENTRIES = frozenset(
    {
        "workup.net.biomarkers-at-diagnosis",
        "workup.no-ctdna",
        "met.nec.liver-directed-no-consensus",
        "order.repeat-imaging-too-early",
    }
)


def context_for(drafts: list[dict[str, Any]], hook: str, selections: list[str] | None = None) -> dict[str, Any]:
    context: dict[str, Any] = {
        "userId": "Practitioner/example",
        "patientId": F.PATIENT_ID,
        "draftOrders": F.bundle(*drafts),
    }
    if hook == "order-select":
        context["selections"] = selections or [ref(d) for d in drafts]
    return context


def run_engine(
    case: Case, hook: str = "order-sign", selections: list[str] | None = None
) -> tuple[Evaluation, list[dict[str, Any]]]:
    """The case through orders.py, the engine and the renderer, with PatientFacts built directly."""
    facts = case.spec.facts(TODAY)
    orders = read_draft_orders(
        record_context=PatientRecord(patient_id=F.PATIENT_ID),
        context=context_for(list(case.drafts), hook, selections),
        hook=hook,
    )
    evaluation = evaluate(hook, facts, orders, today=TODAY)
    return evaluation, render_cards(evaluation, CardContext("test-hook-instance", "http://cds.test", F.PATIENT_ID))


def cards_for(cards: list[dict[str, Any]], rec_id: str) -> list[dict[str, Any]]:
    return [c for c in cards if c["source"]["topic"]["code"] == rec_id]


def _expected_product(activity_id: str) -> dict[str, Any]:
    ad = activities()[activity_id]
    return ad["code"] if ad["kind"] == "ServiceRequest" else ad["productCodeableConcept"]


def assert_fires(cards: list[dict[str, Any]], case: Case) -> dict[str, Any]:
    mine = cards_for(cards, case.rec_id)
    assert len(mine) == 1, f"{case.rec_id}: expected one card, got {[c['source']['topic']['code'] for c in cards]}"
    card = mine[0]
    assert card["source"]["topic"]["system"] == GUIDELINE_SYSTEM
    assert card["indicator"] == ("info" if case.rec_id in INFO_ENTRIES else "warning")
    assert len(card["summary"]) < 140
    target = ref(case.target_draft)
    suggestions = card["suggestions"]
    # a suggestion that only removes the draft
    assert any(
        s["actions"]
        and all(a["type"] == "delete" for a in s["actions"])
        and target in {a["resourceId"] for a in s["actions"]}
        for s in suggestions
    )
    # the catalog's alternative(s): each one suggestion that removes the draft and creates the replacement
    offers = []
    for s in suggestions:
        creates = [a for a in s["actions"] if a["type"] == "create"]
        if creates:
            assert target in {a["resourceId"] for a in s["actions"] if a["type"] == "delete"}
            for a in creates:
                assert any(u.endswith(f"/{case.rec_id}") for u in a["resource"]["instantiatesCanonical"])
                assert a["resource"]["status"] == "draft"
            offers.append(
                [a["resource"].get("code") or a["resource"].get("medicationCodeableConcept") for a in creates]
            )
    expected = [[_expected_product(a) for a in alt] for alt in case.alternatives]
    assert offers == expected
    assert card["selectionBehavior"] == "at-most-one"
    assert card["overrideReasons"] and all(r.get("display") for r in card["overrideReasons"])
    return card


def assert_silent(cards: list[dict[str, Any]], case: Case) -> None:
    assert not cards_for(cards, case.rec_id), f"{case.rec_id} fired on: {case.name}"
