"""Prefetch completion, exactly as CDS Hooks 2.0.1 says ('Providing FHIR Resources').

For each prefetch key the service declared:
- absent: the client chose not to (or could not) satisfy it: fetch it from ``fhirServer``;
- ``null``: the client has no data for it: do not query again;
- an ``OperationOutcome``: the client's prefetch failed: fetch it;
- a resource or searchset Bundle: use it (OperationOutcome entries inside are noted).
If a key must be fetched and there is no ``fhirServer``, the service answers 412.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from cds_service.api.errors import PreconditionFailed
from cds_service.fhir_data.client import FhirClient
from cds_service.fhir_data.record import PatientRecord, bundle_resources
from cds_service.settings import Settings

log = logging.getLogger(__name__)

ClientFactory = Callable[[str, str | None, Settings], FhirClient]


def default_client_factory(base_url: str, token: str | None, settings: Settings) -> FhirClient:
    return FhirClient(
        base_url=base_url,
        access_token=token,
        timeout_seconds=settings.fhir_timeout_seconds,
        budget_seconds=settings.fhir_budget_seconds,
        max_pages=settings.fhir_max_pages,
        max_workers=settings.fhir_max_workers,
    )


def fill_template(template: str, context: Mapping[str, Any]) -> str:
    """Replace ``{{context.x}}`` tokens with root-level primitive context values."""
    out = template
    for name, value in context.items():
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            out = out.replace(f"{{{{context.{name}}}}}", str(value))
    return out


def _is_operation_outcome(value: Any) -> bool:
    return isinstance(value, Mapping) and value.get("resourceType") == "OperationOutcome"


def gather_record(
    request: Mapping[str, Any],
    templates: Mapping[str, str],
    settings: Settings,
    client_factory: ClientFactory = default_client_factory,
) -> PatientRecord:
    context = request.get("context") or {}
    prefetch = request.get("prefetch") or {}
    record = PatientRecord(patient_id=context.get("patientId"))
    to_fetch: dict[str, str] = {}
    for key, template in templates.items():
        if key not in prefetch:
            to_fetch[key] = fill_template(template, context)
            continue
        value = prefetch[key]
        if value is None:
            continue
        if _is_operation_outcome(value):
            to_fetch[key] = fill_template(template, context)
            continue
        resources = bundle_resources(value)
        failed = [r for r in resources if _is_operation_outcome(r)]
        if failed:
            record.unreadable.append((key, "the EHR reported an error for part of this data"))
        record.add_all(r for r in resources if not _is_operation_outcome(r))
    # Unknown keys the client sent anyway are still patient data: read them too.
    for key, value in prefetch.items():
        if key not in templates and isinstance(value, Mapping) and not _is_operation_outcome(value):
            record.add_all(r for r in bundle_resources(value) if not _is_operation_outcome(r))

    if not to_fetch:
        return record
    server = request.get("fhirServer")
    if not server:
        raise PreconditionFailed(
            "prefetch data missing and no fhirServer to fetch it from: " + ", ".join(sorted(to_fetch)),
            expression=[f"prefetch.{k}" for k in sorted(to_fetch)],
        )
    token = (request.get("fhirAuthorization") or {}).get("access_token")
    results = client_factory(server, token, settings).fetch_all(to_fetch)
    if results and all(r.unreachable for r in results.values()):
        raise PreconditionFailed("the FHIR server could not be reached to fetch missing prefetch data")
    for key, result in results.items():
        record.add_all(result.resources)
        if result.error:
            record.unreadable.append((key, result.error))
    if record.unreadable:
        log.info("fhir fallback incomplete", extra={"unreadable": [k for k, _ in record.unreadable]})
    return record
