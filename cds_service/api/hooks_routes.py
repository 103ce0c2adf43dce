"""Discovery and hook endpoints. HTTP only: the clinical flow lives in cds_service.pipeline."""

from __future__ import annotations

import logging
import time

from flask import Blueprint, current_app, g, jsonify, request

from cds_service.api.errors import BadRequest, NotFound
from cds_service.api.requests_io import read_json_object
from cds_service.hooks.services import SERVICES, ServiceDefinition
from cds_service.hooks.validation import validate
from cds_service.pipeline import run_hook
from cds_service.rendering.cards import CardContext
from cds_service.settings import Settings

log = logging.getLogger("cds_service.hooks")
bp = Blueprint("hooks", __name__)


def settings() -> Settings:
    return current_app.config["SETTINGS"]


def service_base() -> str:
    return (settings().cds_public_base_url or request.host_url).rstrip("/")


def get_service(service_id: str) -> ServiceDefinition:
    service = SERVICES.get(service_id)
    if service is None:
        raise NotFound(f"no CDS Service with id {service_id!r}; see GET /cds-services")
    return service


@bp.get("/cds-services")
def discovery():
    return jsonify({"services": [s.discovery() for s in SERVICES.values()]})


@bp.post("/cds-services/<service_id>")
def call_hook(service_id: str):
    body = read_json_object(request, settings().max_body_bytes)
    response = jsonify(call_service(service_id, body))
    # Freeing the parsed request (~100 objects per resource) takes a few ms for a large record: let it
    # happen once the response is sent (the server closes the response then), not before.
    response.call_on_close(lambda: body)
    return response


def call_service(service_id: str, body: dict) -> dict:
    """Validate and answer one hook request (also used by the demo pages)."""
    started = time.perf_counter()
    service = get_service(service_id)
    validate(body, "request.schema.json")
    g.hook_instance = body["hookInstance"]  # for the request log line (cds_service.api.request_log)
    if body["hook"] != service.hook:
        raise BadRequest(
            f"hook {body['hook']!r} does not match service {service_id!r} ({service.hook})", expression=["hook"]
        )
    validate(body["context"], service.context_schema, where="context")
    card_context = CardContext(
        hook_instance=body["hookInstance"],
        service_base=service_base(),
        patient_id=body["context"].get("patientId"),
        guideline_url=settings().guideline_url,
    )
    result = run_hook(
        service, body, settings(), card_context, client_factory=current_app.extensions["nen_fhir_client_factory"]
    )
    explain = current_app.extensions.get("nen_explain")
    if explain is not None and result.body["cards"] and service.hook == "patient-view":
        explain.attach(result, body, card_context, service_base())
    feedback = current_app.extensions.get("nen_feedback")
    if feedback is not None:
        feedback.record_issued(service.id, body["hookInstance"], result.body["cards"])
    cards = result.body["cards"]
    log.info(
        "hook answered",
        extra={
            "hook_instance": body["hookInstance"],
            "service": service.id,
            "hook": service.hook,
            "status": 200,
            "cards": len(cards),
            "topics": [c["source"]["topic"]["code"] for c in cards if "topic" in c.get("source", {})],
            "resources": len(result.record),
            "unreadable": [k for k, _ in result.record.unreadable],
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        },
    )
    return result.body
