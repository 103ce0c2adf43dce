"""One JSON request line per call: method, route, status, duration, hookInstance."""

from __future__ import annotations

import io
import json
import logging

import pytest

from cds_service import create_app
from cds_service.logging_setup import JsonFormatter, redact_values
from tests.support.fhir import hook_request, ki67, m_category, nen_condition

SERVICE = "nanets-g3-nen-patient-view"


@pytest.fixture()
def lines():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("cds_service")
    saved = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)

    def read() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    try:
        yield read
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved)


@pytest.fixture()
def client(tmp_path):
    return create_app({"CDS_AUTH": "off", "DATABASE_URL": f"sqlite:///{tmp_path / 'f.sqlite3'}"}).test_client()


def requests_logged(read) -> list[dict]:
    return [entry for entry in read() if entry["msg"] == "request"]


def test_hook_call_logs_one_request_line_with_hook_instance(client, lines):
    request = hook_request(
        "patient-view",
        nen_condition("NEC"),
        ki67(70),
        m_category(),
        hook_instance="b4e0d4c7-1111-4d3e-9a1b-7a2f1c3e5d6f",
    )
    assert client.post(f"/cds-services/{SERVICE}", json=request).status_code == 200
    [entry] = requests_logged(lines)
    assert entry["level"] == "INFO" and entry["logger"] == "cds_service.requests"
    assert entry["method"] == "POST"
    assert entry["path"] == "/cds-services/<service_id>"
    assert entry["service"] == SERVICE
    assert entry["status"] == 200
    assert isinstance(entry["duration_ms"], float) and entry["duration_ms"] >= 0
    assert entry["hook_instance"] == "b4e0d4c7-1111-4d3e-9a1b-7a2f1c3e5d6f"


def test_failing_call_is_logged_with_its_status(client, lines):
    request = hook_request("patient-view", hook_instance="0c1d2e3f-aaaa-4bbb-8ccc-123456789abc")
    request["hook"] = "order-sign"
    assert client.post(f"/cds-services/{SERVICE}", json=request).status_code == 400
    [entry] = requests_logged(lines)
    assert entry["status"] == 400
    assert entry["hook_instance"] == "0c1d2e3f-aaaa-4bbb-8ccc-123456789abc"


def test_no_hook_instance_on_other_endpoints(client, lines):
    assert client.get("/cds-services").status_code == 200
    [entry] = requests_logged(lines)
    assert entry["path"] == "/cds-services"
    assert "hook_instance" not in entry


def test_unsafe_hook_instance_is_not_logged(client, lines):
    request = hook_request("patient-view", hook_instance="Jane Doe 1957-03-14")
    client.post(f"/cds-services/{SERVICE}", json=request)
    [entry] = requests_logged(lines)
    assert "hook_instance" not in entry


def test_unmatched_paths_and_query_strings_are_not_logged(client, lines):
    client.get("/Patient/123?name=Doe")
    client.get("/cds-services?x=secret")
    entries = requests_logged(lines)
    assert [e["path"] for e in entries] == ["<unmatched>", "/cds-services"]
    assert "Doe" not in json.dumps(entries) and "secret" not in json.dumps(entries)


def test_probes_log_at_debug_only(client, lines):
    client.get("/healthz")
    [entry] = requests_logged(lines)
    assert entry["level"] == "DEBUG"


@pytest.mark.parametrize(
    ("text", "kept", "dropped"),
    [
        ("context.patientId: {'name': 'Doe'} is not of type 'string'", "context.patientId:", "Doe"),
        ("feedback: [{'card': 'c-1', 'userComment': 'Mrs Doe", "feedback:", "Doe"),
        ('hook "x" does not match service', "does not match", '"x"'),
        ("Bearer eyJhbGciOi.eyJpc3Mi.c2ln rejected", "rejected", "eyJ"),
    ],
)
def test_reason_texts_lose_quoted_values(text, kept, dropped):
    redacted = redact_values(text)
    assert kept in redacted
    assert dropped not in redacted


def test_hook_instance_that_is_not_an_id_never_reaches_the_log(client, lines):
    request = hook_request("patient-view", nen_condition("NEC"), hook_instance="Jane Doe 1957-03-14")
    client.post(f"/cds-services/{SERVICE}", json=request)
    text = json.dumps(lines())
    assert "Doe" not in text and "1957" not in text
