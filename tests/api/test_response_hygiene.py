"""Response hygiene rules of CDS Hooks 2.0.1, checked on the pruning helper and on live responses."""

from __future__ import annotations

import pytest

from cds_service.hooks.response import hook_response, prune


def test_prune_removes_null_and_empty_members_recursively():
    card = {
        "summary": "s",
        "detail": "",
        "links": [],
        "source": {"label": "x", "icon": None, "topic": {}},
        "suggestions": [{"label": "a", "actions": [{"type": "create", "resource": {"a": None, "b": 1}}]}],
    }
    assert prune(card) == {
        "summary": "s",
        "source": {"label": "x"},
        "suggestions": [{"label": "a", "actions": [{"type": "create", "resource": {"b": 1}}]}],
    }


def test_prune_keeps_false_and_zero():
    assert prune({"isRecommended": False, "n": 0}) == {"isRecommended": False, "n": 0}


def test_empty_response_is_exactly_cards_array():
    assert hook_response([]) == {"cards": []}


def test_system_actions_only_when_present():
    assert "systemActions" not in hook_response([], [])
    assert hook_response([], [{"type": "create", "description": "d", "resource": {"resourceType": "X"}}])[
        "systemActions"
    ]


def test_suggestions_without_selection_behavior_is_a_programming_error():
    with pytest.raises(AssertionError):
        hook_response([{"summary": "s", "suggestions": [{"label": "l", "uuid": "u"}]}])
