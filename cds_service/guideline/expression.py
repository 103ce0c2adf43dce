"""``when`` expressions of the knowledge base: predicate names joined by and / or / not.

They read close to the catalog's words (``is_g3_net and is_metastatic and not on_ssa``) and
are parsed once at start-up, so a misspelt predicate fails the service at load, not mid-request.
Evaluation is three-valued (Kleene): an unknown operand leaves the result unknown unless the
known operands already decide it, and the unknown predicates are reported with their ``needs``.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field

from cds_service.facts.model import PatientFacts
from cds_service.guideline.logic import PredicateRegistry, RuleContext, Tri, tri_and, tri_not, tri_or


@dataclass
class Trace:
    """What one evaluation looked at: each predicate's answer, in order."""

    answers: dict[str, Tri] = field(default_factory=dict)

    def unknown(self) -> list[str]:
        return [name for name, value in self.answers.items() if value is None]


Evaluator = Callable[[PatientFacts, RuleContext, Trace], Tri]


def compile_when(source: str, registry: PredicateRegistry) -> Evaluator:
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"when-expression {source!r}: {exc.msg}") from None
    return _compile(tree.body, source, registry)


def _compile(node: ast.AST, source: str, registry: PredicateRegistry) -> Evaluator:
    if isinstance(node, ast.BoolOp):
        parts = [_compile(v, source, registry) for v in node.values]
        combine = tri_and if isinstance(node.op, ast.And) else tri_or
        decisive = not isinstance(node.op, ast.And)

        def boolop(f: PatientFacts, c: RuleContext, t: Trace) -> Tri:
            values: list[Tri] = []
            for part in parts:  # short-circuit on a decisive value, like Python, for a clean trace
                value = part(f, c, t)
                values.append(value)
                if value is decisive:
                    break
            return combine(values)

        return boolop
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        inner = _compile(node.operand, source, registry)
        return lambda f, c, t: tri_not(inner(f, c, t))
    if isinstance(node, ast.Name):
        if node.id not in registry:
            raise ValueError(f"when-expression {source!r}: unknown predicate {node.id!r}")
        pred = registry[node.id]

        def name(f: PatientFacts, c: RuleContext, t: Trace) -> Tri:
            if pred.name not in t.answers:
                t.answers[pred.name] = pred.fn(f, c)
            return t.answers[pred.name]

        return name
    raise ValueError(f"when-expression {source!r}: only predicate names, and, or, not, parentheses")
