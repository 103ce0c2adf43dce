"""Helpers for the prefetch-completion tests."""

from __future__ import annotations

import socket
import sys
import threading
import time
from typing import Any

from cds_service.fhir_data.client import THREAD_PREFIX
from cds_service.guideline import GUIDELINE_SYSTEM
from tests.conftest import SERVICE_IDS
from tests.support.fhir import hook_request
from tests.support.fhir_server import FhirServer

ALL_KEYS = (
    "conditions",
    "observations",
    "procedures",
    "medicationRequests",
    "medicationStatements",
    "medicationAdministrations",
    "diagnosticReports",
    "serviceRequests",
    "imagingStudies",
    "allergies",
)


def authorization(token: str) -> dict[str, Any]:
    return {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "user/*.read",
        "subject": "nen-cds",
    }


def fallback_request(
    server: FhirServer | str | None,
    *resources: dict[str, Any],
    missing: tuple[str, ...] | list[str] = (),
    replace: dict[str, Any] | None = None,
    token: str | None = None,
    hook: str = "patient-view",
    **kw: Any,
) -> dict[str, Any]:
    """A hook request whose prefetch lacks ``missing`` keys and has ``replace`` values instead of others.

    ``server`` is the test server (its URL and token are used), a bare base URL, or None (no
    fhirServer, no fhirAuthorization).
    """
    request = hook_request(hook, *resources, **kw)
    for key in missing:
        del request["prefetch"][key]
    request["prefetch"].update(replace or {})
    if server is not None:
        request["fhirServer"] = server if isinstance(server, str) else server.base_url
        chosen = token or (server.token if isinstance(server, FhirServer) else "some-token")
        request["fhirAuthorization"] = authorization(chosen)
    return request


_warm: set[int] = set()


def warm_up(client) -> None:
    """One full-prefetch call per app, so lazy loading (value sets, rules) is not timed by a test."""
    app_id = id(client.application)
    if app_id not in _warm:
        response = client.post(f"/cds-services/{SERVICE_IDS['patient-view']}", json=hook_request("patient-view"))
        assert response.status_code == 200, response.get_json()
        _warm.add(app_id)


def post_hook(client, request: dict[str, Any]) -> tuple[int, dict[str, Any], float]:
    """POST through the Flask test client; returns (status, json, seconds)."""
    started = time.perf_counter()
    response = client.post(f"/cds-services/{SERVICE_IDS[request['hook']]}", json=request)
    return response.status_code, response.get_json(), time.perf_counter() - started


def unreadable_cards(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        c
        for c in body.get("cards", [])
        if c.get("source", {}).get("topic", {}).get("code") == "data-gap.unreadable"
        and c.get("source", {}).get("topic", {}).get("system") == GUIDELINE_SYSTEM
    ]


def named_keys(card: dict[str, Any]) -> set[str]:
    """The prefetch keys a data-gap.unreadable card names (each item is '`key`: reason')."""
    return {key for key in ALL_KEYS if f"`{key}`" in card["detail"]}


def fhir_gets(server: FhirServer, resource_type: str | None = None) -> list[dict[str, Any]]:
    """The GET requests the server saw (optionally for one resource type's search)."""
    out = [r for r in server.requests() if r["method"] == "GET"]
    if resource_type:
        out = [r for r in out if r["url"].split("?")[0].strip("/") == resource_type]
    return out


def free_port() -> int:
    """A 127.0.0.1 port with nothing listening on it (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def busy_fetch_threads() -> list[str]:
    """fhir-fetch pool threads that are inside a FHIR query now (idle pool threads are not counted)."""
    frames = sys._current_frames()
    busy = []
    for thread in threading.enumerate():
        if not thread.name.startswith(THREAD_PREFIX):
            continue
        frame = frames.get(thread.ident)  # type: ignore[arg-type]
        while frame is not None:
            if frame.f_code.co_name == "_query" and frame.f_code.co_filename.endswith("client.py"):
                busy.append(thread.name)
                break
            frame = frame.f_back
    return busy


def wait_fetch_threads_idle(timeout: float) -> list[str]:
    """Poll until no fetch thread is busy or ``timeout`` passes; returns those still busy."""
    deadline = time.monotonic() + timeout
    while True:
        busy = busy_fetch_threads()
        if not busy or time.monotonic() > deadline:
            return busy
        time.sleep(0.02)
