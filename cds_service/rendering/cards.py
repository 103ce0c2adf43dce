"""Word the guideline's decisions as CDS Hooks cards (logic decides, templates word)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from cds_service.facts.model import DraftOrder
from cds_service.guideline import GUIDELINE_DOI_URL, GUIDELINE_SYSTEM
from cds_service.guideline.evaluate import Decision, Evaluation, Scope
from cds_service.guideline.knowledge import Offer, Recommendation
from cds_service.rendering.activities import activities, build_resource

TEMPLATES_FILE = Path(__file__).resolve().parents[2] / "cards" / "templates.yaml"
_NS = uuid.UUID("6f1c4a52-3b7e-4d0e-9a51-5d1c2f0e7a10")
_INDICATOR_RANK = {"critical": 0, "warning": 1, "info": 2}
_PATHWAY_RANK = {"diagnosis": 0, "treatment": 1, "surveillance": 2}


@cache
def templates() -> dict[str, Any]:
    return yaml.safe_load(TEMPLATES_FILE.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class CardContext:
    hook_instance: str
    service_base: str  # e.g. http://127.0.0.1:8080 (for canonicals and links)
    patient_id: str | None
    guideline_url: str = GUIDELINE_DOI_URL
    explain_url: str | None = None  # absolute link to the explanation page for this evaluation
    smart_launch_url: str | None = None  # SMART app launch URL (links type "smart")

    def canonical(self, rec_id: str) -> str:
        return f"{self.service_base}/fhir/PlanDefinition/{rec_id}"


class _SafeDict(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _uuid(ctx: CardContext, *parts: str) -> str:
    return str(uuid.uuid5(_NS, "|".join((ctx.hook_instance, *parts))))


def _topic(code: str, display: str) -> dict[str, str]:
    if len(display) > 160:  # a Coding display is a label: cut at a word, and say so
        display = display[:157].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return {"system": GUIDELINE_SYSTEM, "code": code, "display": display}


def _links(ctx: CardContext) -> list[dict[str, str]]:
    t = templates()
    links = [{"label": t["guideline_link_label"], "url": ctx.guideline_url, "type": "absolute"}]
    if ctx.explain_url:
        links.append({"label": t["explain_link_label"], "url": ctx.explain_url, "type": "absolute"})
    if ctx.smart_launch_url:
        links.append({"label": t["explain_link_label"] + " (SMART app)", "url": ctx.smart_launch_url, "type": "smart"})
    return links


def level_words(level: str) -> str:
    return templates()["levels"][level]


def _footer(rec: Recommendation, ctx: CardContext) -> str:
    return templates()["footer"].format(
        level_words=level_words(rec.level), section=rec.section, id=rec.id, guideline_url=ctx.guideline_url
    )


def _create_actions(offer: Offer, rec: Recommendation, ctx: CardContext, condition_ref: str | None) -> list[dict]:
    actions = []
    for activity_id in offer.activities:
        resource = build_resource(
            activity_id,
            patient_id=ctx.patient_id,
            condition_ref=condition_ref,
            canonical=ctx.canonical(rec.id),
            tag={"system": GUIDELINE_SYSTEM, "code": rec.id},
        )
        label = activities()[activity_id].get("title", activity_id)
        actions.append({"type": "create", "description": f"Order {label}", "resource": resource})
    return actions


def _fill(text: str, decision: Decision) -> str:
    values: dict[str, str] = {}
    if decision.order is not None:
        values["order"] = decision.order.text or "this order"
    if decision.schedule is not None:
        s = decision.schedule
        values.update(
            due=s.due.isoformat(),
            last=s.last_study.isoformat() if s.last_study else "none since then",
            start=s.clock_start.isoformat(),
            months=str(s.due_months),
        )
    return text.format_map(_SafeDict(values))


def _indicator(decision: Decision) -> str:
    rec = decision.rec
    if rec.kind == "avoid":
        indicator = rec.indicator or "warning"
    elif rec.kind == "schedule":
        indicator = "warning" if decision.schedule and decision.schedule.overdue else "info"
    else:
        indicator = "info"
    # A lack-of-consensus item is never a hard warning.
    return "info" if rec.level == "lack-of-consensus" else indicator


def recommendation_card(
    decision: Decision,
    ctx: CardContext,
    condition_ref: str | None,
    extra_orders: Iterable[DraftOrder] = (),
    already: frozenset[str] = frozenset(),  # concepts done, on record or drafted: avoid alternatives not offered
) -> dict[str, Any]:
    rec = decision.rec
    indicator = _indicator(decision)
    detail = _fill(rec.detail, decision)
    suggestions: list[dict[str, Any]] = []
    if rec.is_avoid and decision.order is not None:
        drafts = [decision.order, *extra_orders]
        refs = [f"{o.resource_type}/{o.resource_id}" for o in drafts]
        deletes = [
            {"type": "delete", "description": f"Remove the draft order: {o.text or ref}", "resourceId": ref}
            for o, ref in zip(drafts, refs, strict=True)
        ]
        for offer in rec.alternatives if not rec.done_when & already else ():
            suggestions.append(
                {
                    "label": offer.label,
                    "uuid": _uuid(ctx, rec.id, "alt", offer.label),
                    "actions": [*deletes, *_create_actions(offer, rec, ctx, condition_ref)],
                }
            )
        suggestions.append(
            {
                "label": "Remove the draft order" + ("s" if len(drafts) > 1 else ""),
                "uuid": _uuid(ctx, rec.id, "delete"),
                "actions": deletes,
            }
        )
        detail = f"**Draft order:** {decision.order.text or refs[0]}\n\n{detail}"
    elif rec.kind != "schedule" or indicator == "warning":
        for offer in rec.offers:
            actions = _create_actions(offer, rec, ctx, condition_ref)
            suggestions.append({"label": offer.label, "uuid": _uuid(ctx, rec.id, offer.label), "actions": actions})
    card: dict[str, Any] = {
        "uuid": _uuid(ctx, rec.id, decision.order.resource_id if decision.order else ""),
        "summary": _fill(rec.summary, decision)[:139],
        "detail": f"{detail}\n\n{_footer(rec, ctx)}",
        "indicator": indicator,
        "source": {
            "label": templates()["source"]["label"],
            "url": ctx.guideline_url,
            "topic": _topic(rec.id, rec.statement),
        },
        "links": _links(ctx),
    }
    if suggestions:
        card["suggestions"] = suggestions
        card["selectionBehavior"] = "at-most-one" if rec.is_avoid else rec.selection
    if rec.is_avoid:
        t = templates()
        card["overrideReasons"] = [
            {"system": t["override_reason_system"], "code": r["code"], "display": r["display"]}
            for r in t["override_reasons"]
        ]
    return card


def _already(evaluation: Evaluation) -> frozenset[str]:
    """Concepts already done (studies), ordered on record or drafted in this session."""
    facts = evaluation.facts
    drafted = frozenset(c for o in evaluation.orders for c in o.concepts)
    return facts.orders_pending | {s.kind.value for s in facts.studies} | drafted


def _gap_cards(
    evaluation: Evaluation, ctx: CardContext, fired_ids: set[str], cards_by_id: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    t = templates()["gap"]
    out = []
    for gap, recs in evaluation.gaps():
        blocked = "\n".join(f"- `{r.id}`: {r.statement}" for r in recs)
        # A fired card that itself asks for the missing fact carries the list instead.
        supplier = next((rid for rid in fired_ids if gap.fact in _supplies(rid, evaluation)), None)
        if supplier:
            cards_by_id[supplier]["detail"] += f"\n\nWithout it the service also cannot decide:\n{blocked}"
            continue
        out.append(
            {
                "uuid": _uuid(ctx, "gap", gap.fact),
                "summary": t["summary"].format(description=gap.description)[:139],
                "detail": t["detail"].format(description=gap.description, blocked=blocked, supply=gap.supply),
                "indicator": "info",
                "source": {
                    "label": templates()["source"]["label"],
                    "url": ctx.guideline_url,
                    "topic": _topic(t["topic_prefix"] + gap.fact, f"Missing data: {gap.description}"),
                },
                "links": _links(ctx),
            }
        )
    return out


def _supplies(rec_id: str, evaluation: Evaluation) -> frozenset[str]:
    return next((d.rec.supplies for d in evaluation.fired if d.rec.id == rec_id), frozenset())


def _scope_card(ctx: CardContext, reason: str, sentence: str) -> dict[str, Any]:
    t = templates()["scope"]
    return {
        "uuid": _uuid(ctx, "scope"),
        "summary": t["summary"].format(reason=reason)[:139],
        "detail": t["detail"].format(reason_sentence=sentence),
        "indicator": "info",
        "source": {
            "label": templates()["source"]["label"],
            "url": ctx.guideline_url,
            "topic": _topic(t["topic"], "The guideline does not apply to this patient"),
        },
        "links": _links(ctx)[:1],
    }


def _notice_card(ctx: CardContext, key: str, items: list[str], **fmt: Any) -> dict[str, Any]:
    t = templates()[key]
    return {
        "uuid": _uuid(ctx, key),
        "summary": t["summary"].format(**fmt)[:139],
        "detail": t["detail"].format(items="\n".join(f"- {i}" for i in items)),
        "indicator": "warning" if key == "unreadable" else "info",
        "source": {
            "label": templates()["source"]["label"],
            "url": ctx.guideline_url,
            "topic": _topic(t["topic"], t["summary"].split(":")[0]),
        },
    }


def render_cards(evaluation: Evaluation, ctx: CardContext, unreadable: list[tuple[str, str]] = ()) -> list[dict]:
    facts = evaluation.facts
    cards: list[tuple[tuple[int, int, int], dict[str, Any]]] = []
    if evaluation.scope is Scope.LOW_GRADE and evaluation.hook == "patient-view":
        card = _scope_card(
            ctx,
            f"{facts.grade.value} well-differentiated NET",
            f"This patient's tumor is recorded as a {facts.grade.value} well-differentiated NET.",
        )
        return [card]
    condition_ref = facts.neoplasm.condition_id if facts.neoplasm else None
    order_index = {rec_id: i for i, rec_id in enumerate(d.rec.id for d in evaluation.decisions)}
    by_id: dict[str, dict[str, Any]] = {}
    grouped: dict[str, list[Decision]] = {}
    for d in evaluation.fired:
        grouped.setdefault(d.rec.id, []).append(d)
    for rec_id, decisions in grouped.items():
        first = decisions[0]
        extra = [d.order for d in decisions[1:] if d.order is not None]
        card = recommendation_card(first, ctx, condition_ref, extra, _already(evaluation))
        by_id[rec_id] = card
        key = (_INDICATOR_RANK[card["indicator"]], _PATHWAY_RANK[first.rec.pathway], order_index[rec_id])
        cards.append((key, card))
    for card in _gap_cards(evaluation, ctx, set(by_id), by_id):
        cards.append(((_INDICATOR_RANK["info"], -1, 0), card))
    if unreadable:
        items = [f"`{key}`: {reason}" for key, reason in unreadable]
        cards.append(((_INDICATOR_RANK["warning"], -1, 0), _notice_card(ctx, "unreadable", items)))
    problems = [i for i in facts.ignored if not i.routine]  # retracted records are not data problems
    if problems and evaluation.scope is Scope.IN_SCOPE:
        items = [f"`{i.reference}`: {i.reason}" for i in problems[:20]]
        notice = _notice_card(ctx, "ignored", items, count=len(problems))
        cards.append(((_INDICATOR_RANK["info"], 3, 0), notice))
    cards.sort(key=lambda kc: kc[0])
    return [c for _, c in cards]
