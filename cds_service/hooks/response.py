"""Response hygiene (CDS Hooks 2.0.1 'CDS Service Response'): no null or empty members."""

from __future__ import annotations

from typing import Any


def prune(value: Any) -> Any:
    """Drop None, empty strings, empty lists and empty objects, recursively."""
    if isinstance(value, dict):
        pruned = {k: prune(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        items = [prune(v) for v in value]
        return [v for v in items if v not in (None, "", [], {})]
    return value


def hook_response(cards: list[dict[str, Any]], system_actions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"cards": [prune(c) for c in cards]}
    actions = [prune(a) for a in system_actions or []]
    if actions:
        body["systemActions"] = actions
    for card in body["cards"]:
        if card.get("suggestions") and "selectionBehavior" not in card:
            raise AssertionError("a card with suggestions needs selectionBehavior")  # programming error
    return body
