"""One structured log line per request: method, route, status, duration, hookInstance. Nothing else.

The route is logged as its template (``/cds-services/<service_id>``, ``/explain/<token>``), never
the concrete path: paths can carry signed tokens or, for unmatched URLs, anything a caller typed.
The query string, headers and body are never logged. Liveness and readiness probes log at DEBUG.
"""

from __future__ import annotations

import logging
import re
import time

from flask import Flask, Response, g, request

from cds_service.hooks.services import SERVICES

log = logging.getLogger("cds_service.requests")

_SAFE_ID = re.compile(r"[A-Za-z0-9._:-]{1,100}")
_PROBES = frozenset({"/healthz", "/readyz"})


def init_app(app: Flask) -> None:
    if app.extensions.get("nen_request_log"):
        return
    app.extensions["nen_request_log"] = True
    app.before_request(_start)
    app.after_request(_log_request)


def _start() -> None:
    g.nen_request_started = time.perf_counter()


def _log_request(response: Response) -> Response:
    started = g.get("nen_request_started")
    rule = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
    entry: dict[str, object] = {
        "method": request.method,
        "path": rule,
        "status": response.status_code,
        "duration_ms": round((time.perf_counter() - started) * 1000, 2) if started is not None else None,
    }
    service_id = (request.view_args or {}).get("service_id")
    if service_id in SERVICES:
        entry["service"] = service_id
    hook_instance = g.get("hook_instance")
    if isinstance(hook_instance, str) and _SAFE_ID.fullmatch(hook_instance):
        entry["hook_instance"] = hook_instance
    client = g.get("cds_client")
    if client is not None:
        entry["iss"] = client.iss
    level = logging.DEBUG if rule in _PROBES else logging.INFO
    log.log(level, "request", extra=entry)
    return response
