"""Systemic therapy (INPUTS.md rows 'Systemic therapy history', 'Intolerance').

Exposures come from MedicationRequest, MedicationAdministration and MedicationStatement: the
agent is the agent value set (one per ingredient, see the ``systemic-agent`` union) holding any
coding of ``medicationCodeableConcept`` or of the referenced Medication (contained or in the
record, ``code`` and ``ingredient.itemCodeableConcept``); when no coding is recognised, the same
value sets' text patterns read the texts (a product such as 'Lutathera 7.4 GBq' names its
ingredient). Dates: ``dosageInstruction.timing`` bounds / events, else ``authoredOn``;
``effective[x]``.

Regimens (lines) are built from exposures that were actually started (not drafts, proposals or
plans): an exposure joins the current line when its start is within ``JOIN_WINDOW_DAYS`` of the
line's start, or when it continues agents already in the line; a new line starts when a new agent
set begins after a progression or after the window, or after a gap of more than ``GAP_DAYS``
without any exposure (even with the same agents: a re-challenge). Lines are numbered 1..n.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cache

from cds_service.facts.extract import fhir
from cds_service.facts.extract.context import MEDICATION_TYPES, Context, Item
from cds_service.facts.model import TherapyExposure, TherapyLine

JOIN_WINDOW_DAYS = 21  # agents started within one cycle of the line's start belong to the regimen
GAP_DAYS = 90  # no exposure for three months: what follows is a new line (re-challenge)
_INACTIVE_ALLERGY = frozenset({"inactive", "resolved"})
_SKIP = {
    "MedicationRequest": frozenset({"cancelled", "entered-in-error"}),
    "MedicationAdministration": frozenset({"not-done", "entered-in-error"}),
    "MedicationStatement": frozenset({"not-taken", "entered-in-error"}),
}
_ACTIVE = {
    "MedicationRequest": frozenset({"active", "on-hold", "draft"}),
    "MedicationAdministration": frozenset({"in-progress", "on-hold"}),
    "MedicationStatement": frozenset({"active", "intended", "on-hold"}),
}
_NOT_STARTED = {
    "MedicationRequest": frozenset({"draft"}),
    "MedicationAdministration": frozenset(),
    "MedicationStatement": frozenset({"intended"}),
}
_NOT_STARTED_INTENT = frozenset({"proposal", "plan"})


@dataclass(slots=True)
class Exposure:
    agents: frozenset[str]
    start: date | None
    end: date | None
    active: bool
    started: bool
    ref: str
    order: int


@dataclass
class TherapyResult:
    exposures: tuple[TherapyExposure, ...] = ()
    lines: tuple[TherapyLine, ...] = ()
    intolerances: frozenset[str] = frozenset()


def agent_names(ctx: Context) -> frozenset[str]:
    return _as_set(ctx.index.members("systemic-agent"))


@cache
def _as_set(names: tuple[str, ...]) -> frozenset[str]:
    return frozenset(names)


def agents_of(ctx: Context, item: Item, agents: frozenset[str]) -> frozenset[str]:
    coded = item.names & agents
    if coded:
        return coded
    return ctx.index.names_in_text(item.words, agents)


def extract_therapy(ctx: Context, progression: Iterable[date]) -> TherapyResult:
    agents = agent_names(ctx)
    exposures: list[Exposure] = []
    for rtype in MEDICATION_TYPES:
        for item in ctx.type(rtype):
            state = item.status
            if state in _SKIP[rtype]:
                continue
            names = agents_of(ctx, item, agents)
            if not names:
                continue
            start, end = _dates(item)
            intent = item.resource.get("intent")
            started = state not in _NOT_STARTED[rtype] and not (
                rtype == "MedicationRequest" and isinstance(intent, str) and intent in _NOT_STARTED_INTENT
            )
            exposures.append(Exposure(names, start, end, state in _ACTIVE[rtype], started, item.ref, item.order))
    exposures.sort(key=lambda e: (e.start is not None, e.start or date.min, e.order))
    out = TherapyResult()
    out.exposures = tuple(
        TherapyExposure(agent, e.start, e.end, e.active, e.ref) for e in exposures for agent in sorted(e.agents)
    )
    if out.exposures:
        ctx.source("exposures", *(e.ref for e in exposures))
    out.lines = build_lines([e for e in exposures if e.started and e.start], sorted(set(progression)))
    if out.lines:
        ctx.source("lines", *(e.ref for e in exposures if e.started and e.start))
    out.intolerances = _intolerances(ctx, agents)
    return out


def build_lines(exposures: list[Exposure], progression: list[date]) -> tuple[TherapyLine, ...]:
    groups: list[dict] = []
    for e in exposures:
        if e.start is None:
            continue
        cur = groups[-1] if groups else None
        if cur is not None:
            gap = (e.start - cur["last"]).days > GAP_DAYS
            new_agents = not e.agents <= cur["agents"]
            progressed = any(cur["start"] < p <= e.start for p in progression)
            late = (e.start - cur["start"]).days > JOIN_WINDOW_DAYS
            if not gap and not (new_agents and (progressed or late)):
                cur["agents"] |= e.agents
                cur["last"] = max(cur["last"], e.end or e.start)
                cur["active"] = cur["active"] or e.active
                continue
        groups.append({"agents": set(e.agents), "start": e.start, "last": e.end or e.start, "active": e.active})
    return tuple(
        TherapyLine(n, frozenset(g["agents"]), g["start"], g["last"], g["active"]) for n, g in enumerate(groups, 1)
    )


def _dates(item: Item) -> tuple[date | None, date | None]:
    resource = item.resource
    if item.rtype == "MedicationRequest":
        starts: list[date] = []
        ends: list[date] = []
        for dosage in fhir.maps(resource.get("dosageInstruction")):
            timing = dosage.get("timing")
            if not fhir.is_map(timing):
                continue
            event = timing.get("event")
            if event is not None:
                events = [d for d in map(fhir.parse_date, fhir.as_list(event)) if d]
                starts.extend(events)
                ends.extend(events)
            repeat = timing.get("repeat")
            if fhir.is_map(repeat):
                bounds = repeat.get("boundsPeriod")
                first, last = fhir.period_start(bounds), fhir.period_end(bounds)
                if first:
                    starts.append(first)
                if last:
                    ends.append(last)
        start = min(starts) if starts else fhir.parse_date(resource.get("authoredOn"))
        end = max(ends) if ends else None
        return start, end if end is None or start is None or end >= start else None
    start, end = fhir.dated(resource, "effective")
    if item.rtype == "MedicationStatement" and start is None:
        start = fhir.parse_date(resource.get("dateAsserted"))
    period = resource.get("effectivePeriod")
    if fhir.is_map(period) and not fhir.period_end(period):
        end = None  # ongoing
    return start, end


def _intolerances(ctx: Context, agents: frozenset[str]) -> frozenset[str]:
    found: set[str] = set()
    refs: list[str] = []
    for item in ctx.type("AllergyIntolerance"):
        if fhir.concept_code(item.resource.get("clinicalStatus")) & _INACTIVE_ALLERGY:
            continue
        names = agents_of(ctx, item, agents)
        if names:
            found |= names
            refs.append(item.ref)
    if found:
        ctx.source("intolerances", *refs)
    return frozenset(found)
