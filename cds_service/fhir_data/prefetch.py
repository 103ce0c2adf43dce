"""Prefetch completion, exactly as CDS Hooks 2.0.1 says ('Providing FHIR Resources').

For each prefetch key the service declared:
- absent: the client chose not to (or could not) satisfy it: fetch it from ``fhirServer``; with no
  ``fhirServer`` (or one that cannot be accessed) the service answers 412;
- ``null``: the client has no data for it: do not query again;
- an ``OperationOutcome``: the client's prefetch failed: fetch it, as for an absent key (412 when
  it cannot be fetched);
- a resource or searchset Bundle: use it. OperationOutcome entries reporting an error mark the key
  unreadable (the other entries are used); a ``next`` link (the client paginated) is followed on
  ``fhirServer``, else the key is marked incomplete.
Whatever could not be read is listed in ``record.unreadable`` (key, reason): the rules treat those
facts as unknown and the response names them in a warning card.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from cds_service.api.errors import PreconditionFailed
from cds_service.fhir_data.client import FhirClient, next_link, outcome_reports_error, same_origin
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
    """Replace ``{{context.x}}`` tokens with root-level primitive context values (URL-escaped).

    Escaping keeps a value from adding query parameters or a fragment (``&``, ``?``, ``#``); ``/``
    stays, for reference-valued tokens such as ``{{context.userId}}`` = ``Practitioner/123``.
    """
    out = template
    for name, value in context.items():
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            out = out.replace(f"{{{{context.{name}}}}}", quote(str(value), safe="/:"))
    return out


def _is_operation_outcome(value: Any) -> bool:
    if type(value) is dict:  # parsed JSON: skip the slow abstract-class check on the hot path
        return value.get("resourceType") == "OperationOutcome"
    return isinstance(value, Mapping) and value.get("resourceType") == "OperationOutcome"


def gather_record(
    request: Mapping[str, Any],
    templates: Mapping[str, str],
    settings: Settings,
    client_factory: ClientFactory = default_client_factory,
) -> PatientRecord:
    context = request.get("context") or {}
    prefetch = request.get("prefetch") or {}
    server = request.get("fhirServer") or None
    record = PatientRecord(patient_id=context.get("patientId"))
    missing: dict[str, str] = {}  # key -> query: absent, or the client's prefetch failed (412 if not fetched)
    more: dict[str, str] = {}  # key -> absolute URL of the next page of a paginated prefetch Bundle
    for key, template in templates.items():
        value = prefetch.get(key)
        if key in prefetch and value is None:
            continue
        if key not in prefetch or _is_operation_outcome(value):
            missing[key] = fill_template(template, context)
            continue
        if not isinstance(value, Mapping):  # the HTTP schema refuses this; direct callers may not
            record.unreadable.append((key, "the EHR sent something that is not a FHIR resource"))
            continue
        resources = bundle_resources(value)
        if any(_is_operation_outcome(r) and outcome_reports_error(r) for r in resources):
            record.unreadable.append((key, "the EHR reported an error for part of this data"))
        record.add_all(r for r in resources if not _is_operation_outcome(r))
        following = next_link(value) if value.get("resourceType") == "Bundle" else None
        if following:
            more[key] = following
    # Unknown keys the client sent anyway are still patient data: read them too.
    for key, value in prefetch.items():
        if key not in templates and isinstance(value, Mapping) and not _is_operation_outcome(value):
            record.add_all(r for r in bundle_resources(value) if not _is_operation_outcome(r))

    for key in [k for k, q in missing.items() if "{{" in q]:
        del missing[key]  # a token the context does not supply: the query cannot be built
        record.unreadable.append((key, "the request's context lacks a value this query needs"))

    if not server:
        if missing:
            raise PreconditionFailed(
                "prefetch data missing and no fhirServer to fetch it from: " + ", ".join(sorted(missing)),
                expression=[f"prefetch.{k}" for k in sorted(missing)],
            )
        for key in more:
            record.unreadable.append((key, "the EHR sent only the first page of this data and no FHIR server"))
        return record

    for key, url in list(more.items()):
        if not same_origin(url, server.rstrip("/") + "/"):
            del more[key]
            record.unreadable.append((key, "the next page of this data is on another server: not followed"))
    queries = {**missing, **more}
    if not queries:
        return record
    token = (request.get("fhirAuthorization") or {}).get("access_token")
    started = time.perf_counter()
    results = client_factory(server, token, settings).fetch_all(queries)
    if missing and all(r.inaccessible for r in results.values()):
        raise PreconditionFailed(
            "the FHIR server could not be accessed to fetch missing prefetch data: " + ", ".join(sorted(missing)),
            expression=[f"prefetch.{k}" for k in sorted(missing)],
        )
    for key, result in results.items():
        record.add_all(result.resources)
        if result.error:
            record.unreadable.append((key, result.error))
    log.info(
        "fhir fallback",
        extra={
            "resources": sum(len(r.resources) for r in results.values()),
            "unreadable": [k for k, _ in record.unreadable],
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        },
    )
    return record
