"""The when-expression engine: three-valued (Kleene) logic, fail-fast parsing, traces."""

from __future__ import annotations

from datetime import date

import pytest

from cds_service.facts.model import PatientFacts
from cds_service.guideline.expression import Trace, compile_when
from cds_service.guideline.logic import PredicateRegistry, RuleContext, tri_and, tri_not, tri_or

T, F, U = True, False, None


@pytest.fixture()
def registry():
    reg = PredicateRegistry()
    for name, value, needs in (("yes", T, ()), ("no", F, ()), ("unknown", U, ("ki67",)), ("unknown2", U, ("stage",))):
        reg.register(f"{name}?", needs=needs)(_constant(name, value))
    return reg


def _constant(name, value):
    def fn(f, c):
        return value

    fn.__name__ = name
    return fn


FACTS = PatientFacts(patient_id="p", today=date(2026, 11, 28))
CTX = RuleContext("patient-view", {"_today": date(2026, 11, 28)})


@pytest.mark.parametrize(
    ("values", "expected"),
    [([T, T], T), ([T, F], F), ([F, U], F), ([T, U], U), ([U, U], U)],
)
def test_tri_and(values, expected):
    assert tri_and(values) is expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [([F, F], F), ([T, F], T), ([T, U], T), ([F, U], U), ([U, U], U)],
)
def test_tri_or(values, expected):
    assert tri_or(values) is expected


def test_tri_not_keeps_unknown():
    assert tri_not(U) is None
    assert tri_not(T) is False


@pytest.mark.parametrize(
    ("source", "expected", "unknown"),
    [
        ("yes and no", F, []),
        ("no and unknown", F, []),  # decided without the unknown fact: no data gap
        ("yes and unknown", U, ["unknown"]),
        ("yes or unknown", T, []),
        ("not unknown", U, ["unknown"]),
        ("(yes and not no) and (unknown or yes)", T, ["unknown"]),
        ("unknown and unknown2", U, ["unknown", "unknown2"]),
    ],
)
def test_expressions(registry, source, expected, unknown):
    trace = Trace()
    assert compile_when(source, registry)(FACTS, CTX, trace) is expected
    assert trace.unknown() == unknown


@pytest.mark.parametrize("source", ["yes and missing", "yes +", "yes == no", "f(yes)", "yes if no else yes", "1"])
def test_bad_expressions_fail_at_load(registry, source):
    with pytest.raises(ValueError):
        compile_when(source, registry)


def test_predicates_are_evaluated_once_per_trace(registry):
    calls = []

    def counted(f, c):
        calls.append(1)
        return True

    registry.register("counted?")(counted)
    compile_when("counted and (counted or no)", registry)(FACTS, CTX, Trace())
    assert len(calls) == 1


def test_duplicate_predicate_names_are_refused(registry):
    with pytest.raises(ValueError):
        registry.register("again?")(_constant("yes", T))
