"""Start-up checks: every catalog id unique, every template, value set and activity resolves."""

from __future__ import annotations

from cds_service.facts.valuesets import registry
from cds_service.guideline.evaluate import parameters
from cds_service.guideline.knowledge import knowledge
from cds_service.rendering.activities import activities
from cds_service.rendering.cards import templates


def check_knowledge_base() -> None:
    values = registry()
    acts = activities()
    params = parameters()
    templates()
    for rec in knowledge().values():
        for offer in (*rec.offers, *rec.alternatives):
            for activity in offer.activities:
                if activity not in acts:
                    raise ValueError(f"{rec.id}: unknown ActivityDefinition {activity!r}")
        for concept in rec.orders | rec.done_when:
            if concept not in values:
                raise ValueError(f"{rec.id}: unknown value set {concept!r}")
        if rec.kind == "schedule" and (rec.schedule or rec.id) not in params["schedules"]:
            raise ValueError(f"{rec.id}: no schedule parameters")
