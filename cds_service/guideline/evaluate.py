"""Evaluate the knowledge base for one patient (and the hook's draft orders). Pure: no HTTP.

patient-view: every non-avoid recommendation is checked against the facts.
order-select / order-sign: every avoid recommendation is checked against each draft order that
matches its ``orders`` concepts (on order-select only the drafts named in ``selections``).
The result is a list of decisions (fired, silent, unknown) with their traces: cards are worded
from the fired ones, data-gap cards from the unknown ones, and the explanation page shows all.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from cds_service.facts.model import DataGap, Differentiation, DraftOrder, Grade, PatientFacts
from cds_service.guideline.expression import Trace
from cds_service.guideline.knowledge import Recommendation, knowledge
from cds_service.guideline.logic import PREDICATES, RuleContext
from cds_service.guideline.order_predicates import CURRENT_INTERVAL, repeat_imaging_interval
from cds_service.guideline.schedules import ScheduleStatus, schedule_status

PARAMETERS_FILE = Path(__file__).resolve().parent / "parameters.yaml"


@cache
def parameters() -> dict[str, Any]:
    raw = yaml.safe_load(PARAMETERS_FILE.read_text(encoding="utf-8"))
    params = {k: v["value"] for k, v in raw.items() if isinstance(v, dict) and "value" in v}
    params["schedules"] = raw.get("schedules", {})
    return params


class Outcome(StrEnum):
    FIRES = "fires"
    SILENT = "silent"
    UNKNOWN = "unknown"  # the decision needs a fact the record does not hold


class Scope(StrEnum):
    IN_SCOPE = "in-scope"
    NO_NEN = "no-nen"  # no neuroendocrine neoplasm recorded: nothing to say
    LOW_GRADE = "low-grade"  # G1/G2 well-differentiated NET: the guideline does not apply


@dataclass(frozen=True, slots=True)
class Decision:
    rec: Recommendation
    outcome: Outcome
    answers: dict[str, bool | None]
    missing: tuple[str, ...] = ()  # fact names when UNKNOWN
    order: DraftOrder | None = None  # avoid: the draft the card speaks to
    schedule: ScheduleStatus | None = None
    reason: str = ""  # plain words: why it fired or stayed silent


@dataclass
class Evaluation:
    hook: str
    facts: PatientFacts
    scope: Scope
    decisions: list[Decision] = field(default_factory=list)
    orders: tuple[DraftOrder, ...] = ()

    @property
    def fired(self) -> list[Decision]:
        return [d for d in self.decisions if d.outcome is Outcome.FIRES]

    @property
    def unknown(self) -> list[Decision]:
        return [d for d in self.decisions if d.outcome is Outcome.UNKNOWN]

    def gaps(self) -> list[tuple[DataGap, list[Recommendation]]]:
        """Each missing fact with the recommendations it blocks (facts' own gaps first)."""
        described = {g.fact: g for g in self.facts.data_gaps}
        blocked: dict[str, list[Recommendation]] = {}
        for d in self.unknown:
            for fact in d.missing:
                blocked.setdefault(fact, []).append(d.rec)
        out = []
        for fact, recs in blocked.items():
            gap = described.get(fact) or DataGap(fact, fact.replace("-", " "), "a coded FHIR resource for it")
            out.append((gap, recs))
        return out


def scope_of(facts: PatientFacts) -> Scope:
    n = facts.neoplasm
    if n is None:
        return Scope.NO_NEN
    if n.differentiation is Differentiation.NET and facts.grade in (Grade.G1, Grade.G2):
        return Scope.LOW_GRADE
    return Scope.IN_SCOPE


def _missing(trace: Trace, facts: PatientFacts) -> tuple[str, ...]:
    """The facts behind the unknown answers. A predicate that needs several facts (a G3 NET needs
    differentiation and grade) names only those the record actually lacks, when the facts layer says."""
    lacking = {g.fact for g in facts.data_gaps}
    needs: list[str] = []
    for name in trace.unknown():
        declared = PREDICATES[name].needs or (name,)
        for fact in [n for n in declared if n in lacking] or declared:
            if fact not in needs:
                needs.append(fact)
    return tuple(needs)


def _already_done_or_ordered(rec: Recommendation, facts: PatientFacts) -> str:
    hits = sorted(rec.done_when & (facts.orders_pending | {s.kind.value for s in facts.studies}))
    return f"already done or ordered: {', '.join(hits)}" if hits else ""


def _without_excluded_offers(rec: Recommendation, facts: PatientFacts, ctx: RuleContext) -> tuple[Recommendation, str]:
    """Leave out the offers whose ``unless`` holds (e.g. a regimen already given); unknown keeps the offer."""
    if not any(o.unless_evaluator for o in rec.offers):
        return rec, ""
    kept = [o for o in rec.offers if not (o.unless_evaluator and o.unless_evaluator(facts, ctx, Trace()) is True)]
    left_out = "; ".join(f"{o.label} ({o.unless})" for o in rec.offers if o not in kept)
    return (dataclasses.replace(rec, offers=tuple(kept)), left_out) if left_out else (rec, "")


def _decide(rec: Recommendation, facts: PatientFacts, ctx: RuleContext) -> Decision:
    trace = Trace()
    value = rec.evaluator(facts, ctx, trace)
    answers = dict(trace.answers)
    if value is None:
        return Decision(rec, Outcome.UNKNOWN, answers, _missing(trace, facts), ctx.order, reason="data missing")
    if value is False:
        return Decision(rec, Outcome.SILENT, answers, order=ctx.order, reason="conditions not met")
    if rec.kind == "schedule":
        status = schedule_status(facts, ctx.params["schedules"][rec.schedule or rec.id], ctx.today)
        if status is None:
            spec = ctx.params["schedules"][rec.schedule or rec.id]
            return Decision(rec, Outcome.UNKNOWN, answers, (spec["clock"].replace("_", "-"),), reason="no start date")
        if status.finished:
            return Decision(rec, Outcome.SILENT, answers, schedule=status, reason="schedule completed")
        return Decision(
            rec,
            Outcome.FIRES,
            answers,
            schedule=status,
            reason="overdue" if status.overdue else f"next due {status.due.isoformat()}",
        )
    if not rec.is_avoid:
        done = _already_done_or_ordered(rec, facts)
        if done:
            return Decision(rec, Outcome.SILENT, answers, reason=done)
        rec, left_out = _without_excluded_offers(rec, facts, ctx)
        if left_out and not rec.offers:
            return Decision(rec, Outcome.SILENT, answers, reason=f"every suggestion left out: {left_out}")
        if left_out:
            return Decision(rec, Outcome.FIRES, answers, reason=f"conditions met; left out: {left_out}")
    if rec.is_avoid and rec.schedule == CURRENT_INTERVAL:  # a repeat check worded with the running interval
        status = repeat_imaging_interval(facts, ctx)[1]
        return Decision(rec, Outcome.FIRES, answers, order=ctx.order, schedule=status, reason="repeat before due")
    return Decision(rec, Outcome.FIRES, answers, order=ctx.order, reason="conditions met")


def evaluate(
    hook: str, facts: PatientFacts, orders: tuple[DraftOrder, ...] = (), today: date | None = None
) -> Evaluation:
    params = {**parameters(), "_today": today or facts.today}
    scope = scope_of(facts)
    result = Evaluation(hook, facts, scope, orders=orders)
    if scope is not Scope.IN_SCOPE:
        return result
    recs = knowledge().values()
    if hook == "patient-view":
        ctx = RuleContext(hook, params, orders)
        result.decisions = [_decide(r, facts, ctx) for r in recs if not r.is_avoid]
        return result
    for rec in (r for r in recs if r.is_avoid):
        for order in orders:
            if order.selected and rec.orders & order.concepts:
                result.decisions.append(_decide(rec, facts, RuleContext(hook, params, orders, order)))
    return result
