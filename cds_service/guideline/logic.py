"""Three-valued logic and the registry of named clinical questions (predicates).

A predicate answers one clinical question about the patient (``is_g3_net``, ``is_metastatic``)
with True, False or None. None means the record does not say: the predicate names the fact
that is missing (``needs``), and a recommendation whose decision hinges on it yields a data gap
instead of a guessed branch. Predicates are written once here and shared by every rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from cds_service.facts.model import DraftOrder, PatientFacts

Tri = bool | None


@dataclass(frozen=True)
class RuleContext:
    """What a predicate may look at besides the facts: the hook's draft orders and parameters."""

    hook: str
    params: dict[str, Any]
    orders: tuple[DraftOrder, ...] = ()
    order: DraftOrder | None = None  # the draft an avoid rule is checking

    @property
    def today(self) -> date:
        return self.params["_today"]


PredicateFn = Callable[[PatientFacts, RuleContext], Tri]


@dataclass(frozen=True)
class Predicate:
    name: str
    fn: PredicateFn
    question: str  # the clinical question in plain words (explanation page)
    needs: tuple[str, ...] = ()  # facts whose absence makes the answer None


@dataclass
class PredicateRegistry:
    predicates: dict[str, Predicate] = field(default_factory=dict)

    def register(self, question: str, *, needs: tuple[str, ...] | str = ()) -> Callable[[PredicateFn], PredicateFn]:
        needs_tuple = (needs,) if isinstance(needs, str) else tuple(needs)

        def decorate(fn: PredicateFn) -> PredicateFn:
            if fn.__name__ in self.predicates:
                raise ValueError(f"predicate {fn.__name__} defined twice")
            self.predicates[fn.__name__] = Predicate(fn.__name__, fn, question, needs_tuple)
            return fn

        return decorate

    def __contains__(self, name: object) -> bool:
        return name in self.predicates

    def __getitem__(self, name: str) -> Predicate:
        return self.predicates[name]


PREDICATES = PredicateRegistry()
predicate = PREDICATES.register


def tri_and(values: list[Tri]) -> Tri:
    if any(v is False for v in values):
        return False
    if any(v is None for v in values):
        return None
    return True


def tri_or(values: list[Tri]) -> Tri:
    if any(v is True for v in values):
        return True
    if any(v is None for v in values):
        return None
    return False


def tri_not(value: Tri) -> Tri:
    return None if value is None else not value
