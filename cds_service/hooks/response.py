"""Response hygiene (CDS Hooks 2.0.1 'CDS Service Response'): no null or empty members."""

from __future__ import annotations

from typing import Any

_EMPTY = (None, "", [], {})  # compared with ==, never mutated


def _kept(value: Any) -> bool:
    """``value not in (None, "", [], {})``, without building that tuple (and a list and a dict) per value."""
    kind = type(value)
    if kind is str or kind is list or kind is dict:
        return len(value) > 0
    return value is not None and value not in _EMPTY


def prune(value: Any) -> Any:
    """Drop None, empty strings, empty lists and empty objects, recursively."""
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        for k, v in value.items():
            if isinstance(v, dict | list):  # (a leaf is kept as it is: no call for it)
                v = prune(v)
            if _kept(v):
                out[k] = v
        return out
    if isinstance(value, list):
        items: list[Any] = []
        for v in value:
            if isinstance(v, dict | list):
                v = prune(v)
            if _kept(v):
                items.append(v)
        return items
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
