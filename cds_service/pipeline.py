"""The whole flow of one hook call, in a few lines and free of Flask:

request (validated) -> FHIR data (prefetch, else the FHIR server) -> patient facts
-> guideline rules -> cards -> response.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from cds_service.facts.build import build_facts
from cds_service.facts.model import PatientFacts
from cds_service.facts.orders import read_draft_orders
from cds_service.fhir_data.prefetch import ClientFactory, default_client_factory, gather_record
from cds_service.fhir_data.record import PatientRecord
from cds_service.guideline.evaluate import Evaluation, evaluate
from cds_service.hooks.response import hook_response
from cds_service.hooks.services import ServiceDefinition
from cds_service.rendering.cards import CardContext, render_cards
from cds_service.settings import Settings


@dataclass
class HookResult:
    body: dict[str, Any]
    record: PatientRecord
    facts: PatientFacts
    evaluation: Evaluation


def run_hook(
    service: ServiceDefinition,
    request: dict[str, Any],
    settings: Settings,
    card_context: CardContext,
    *,
    today: date | None = None,
    client_factory: ClientFactory = default_client_factory,
) -> HookResult:
    record = gather_record(request, service.prefetch, settings, client_factory)
    facts = build_facts(record, today=today or date.today())
    context = request["context"]
    orders = read_draft_orders(record_context=record, context=context, hook=service.hook)
    evaluation = evaluate(service.hook, facts, orders)
    cards = render_cards(evaluation, card_context, record.unreadable)
    return HookResult(hook_response(cards), record, facts, evaluation)


def evaluate_bundle(
    bundle: dict[str, Any],
    hook: str = "patient-view",
    *,
    today: date | None = None,
    context: dict[str, Any] | None = None,
) -> tuple[PatientFacts, Evaluation]:
    """Facts and decisions for a FHIR Bundle (CLI, explanation page, tests): no HTTP at all."""
    record = PatientRecord(patient_id=(context or {}).get("patientId"))
    record.add(bundle)
    if record.patient_id is None:
        patients = record.of_type("Patient")
        record.patient_id = patients[0].get("id") if patients else None
    return evaluate_record(record, hook, today=today, context=context)


def evaluate_record(
    record: PatientRecord,
    hook: str = "patient-view",
    *,
    today: date | None = None,
    context: dict[str, Any] | None = None,
) -> tuple[PatientFacts, Evaluation]:
    """Facts and decisions for a record already gathered (the explanation page's SMART launch)."""
    facts = build_facts(record, today=today or date.today())
    orders = read_draft_orders(record_context=record, context=context or {}, hook=hook)
    return facts, evaluate(hook, facts, orders)
