"""FhirClient on its own, against the real test FHIR server (and a few pure unit tests)."""

from __future__ import annotations

import time

import pytest

from cds_service.fhir_data.client import FhirClient, same_origin
from tests.fhir_data.helpers import fhir_gets, wait_fetch_threads_idle
from tests.support import fhir as F


def make_client(server, **kw) -> FhirClient:
    """A client with a roomy budget (3 s) unless the test sets one: a busy machine must not fail it."""
    return FhirClient(base_url=server.base_url, access_token=server.token, **{"budget_seconds": 3.0, **kw})


@pytest.mark.fhir_server
def test_fetch_all_reads_each_query_with_the_token(fhir_server):
    condition, ki67 = F.nen_condition("NEC", id="cond-a"), F.ki67(30, id="obs-a")
    fhir_server.seed(F.patient(), condition, ki67)

    results = make_client(fhir_server).fetch_all(
        {"c": "Condition?patient=pt-1", "o": "Observation?patient=pt-1", "p": "Patient/pt-1"}
    )

    assert {k: (r.error, [x["id"] for x in r.resources]) for k, r in results.items()} == {
        "c": (None, ["cond-a"]),
        "o": (None, ["obs-a"]),
        "p": (None, ["pt-1"]),
    }
    assert results["c"].resources[0]["code"] == condition["code"]
    assert {g["authorization"] for g in fhir_gets(fhir_server)} == {f"Bearer {fhir_server.token}"}


@pytest.mark.fhir_server
def test_base_url_with_trailing_slash_and_no_queries(fhir_server):
    client = FhirClient(base_url=fhir_server.base_url + "/", access_token=fhir_server.token, budget_seconds=3.0)
    assert client.fetch_all({}) == {}
    fhir_server.seed(F.patient())
    assert client.fetch_all({"p": "Patient/pt-1"})["p"].resources[0]["id"] == "pt-1"


@pytest.mark.fhir_server
def test_read_not_found_is_no_data_but_search_not_found_is_an_error(fhir_server):
    fhir_server.configure(fault={"status": 404, "match": "/Condition"})
    results = make_client(fhir_server).fetch_all({"read": "Patient/nobody", "search": "Condition?patient=pt-1"})
    assert (results["read"].resources, results["read"].error) == ([], None)
    assert results["search"].resources == []
    assert "404" in results["search"].error


@pytest.mark.fhir_server
def test_without_token_the_server_refuses_and_the_result_says_denied(fhir_server):
    anonymous = FhirClient(base_url=fhir_server.base_url, budget_seconds=3.0)
    result = anonymous.fetch_all({"c": "Condition?patient=pt-1"})["c"]
    assert result.denied and result.inaccessible and not result.unreachable
    assert [g["authorization"] for g in fhir_gets(fhir_server)] == [None]


@pytest.mark.fhir_server
def test_budget_bounds_the_call_and_the_threads(fhir_server):
    fhir_server.set_delay(1500)
    started = time.perf_counter()
    results = make_client(fhir_server, budget_seconds=0.2).fetch_all(
        {"c": "Condition?patient=pt-1", "o": "Observation?patient=pt-1"}
    )
    assert time.perf_counter() - started < 0.7  # the server would take 1.5 s
    assert all(r.error and not r.resources and not r.inaccessible for r in results.values())
    assert wait_fetch_threads_idle(timeout=0.4) == []


@pytest.mark.fhir_server
def test_more_queries_than_workers_still_run_at_once(fhir_server):
    fhir_server.seed(F.patient())
    fhir_server.set_delay(400)
    queries = {f"q{i}": "Patient/pt-1" for i in range(6)}
    results = make_client(fhir_server, max_workers=2, budget_seconds=3).fetch_all(queries)
    assert {k: r.error for k, r in results.items()} == dict.fromkeys(queries)
    arrivals = [g["time"] for g in fhir_gets(fhir_server)]
    assert max(arrivals) - min(arrivals) < 300  # two at a time, they would come 400 ms apart


@pytest.mark.fhir_server
def test_absolute_query_on_another_origin_is_not_requested(fhir_server):
    port = fhir_server.base_url.rsplit(":", 1)[1]
    results = make_client(fhir_server).fetch_all(
        {"other": f"http://localhost:{port}/Condition?patient=pt-1", "proto": "//localhost:1/Condition"}
    )
    assert all("another server" in r.error for r in results.values())
    assert fhir_gets(fhir_server) == []


@pytest.mark.fhir_server
def test_answer_too_large_is_refused(fhir_server):
    fhir_server.seed(F.patient(), *[F.ki67(30, id=f"obs-{i}") for i in range(10)])
    result = make_client(fhir_server, max_response_bytes=2000).fetch_all({"o": "Observation?patient=pt-1"})["o"]
    assert "too large" in result.error
    assert result.resources == []


@pytest.mark.fhir_server
def test_cookies_are_not_kept_between_calls(fhir_server):
    fhir_server.seed(F.patient())
    fhir_server.configure(fault={"status": 500, "match": "/Observation", "headers": {"Set-Cookie": "sid=abc; Path=/"}})
    client = make_client(fhir_server)
    client.fetch_all({"o": "Observation?patient=pt-1"})
    client.fetch_all({"p": "Patient/pt-1"})
    assert [g["cookie"] for g in fhir_gets(fhir_server)] == [None, None]


@pytest.mark.fhir_server
def test_outcome_entries_in_a_fetched_bundle(fhir_server):
    body = (
        '{"resourceType": "Bundle", "type": "searchset", "entry": ['
        '{"resource": {"resourceType": "Condition", "id": "c1"}},'
        '{"resource": {"resourceType": "OperationOutcome", "issue": [{"severity": "SEVERITY", "code": "x"}]},'
        ' "search": {"mode": "outcome"}}]}'
    )
    client = make_client(fhir_server)
    for severity, error in (("error", True), ("warning", False)):
        fault = {"status": 200, "contentType": "application/fhir+json", "body": body.replace("SEVERITY", severity)}
        fhir_server.configure(fault=fault)
        result = client.fetch_all({"c": "Condition?patient=pt-1"})["c"]
        assert [r["id"] for r in result.resources] == ["c1"]  # the outcome itself is not data
        assert bool(result.error) is error


def test_token_is_not_in_repr():
    client = FhirClient(base_url="https://ehr.example/fhir", access_token="s3cr3t-token")
    assert "s3cr3t" not in repr(client) and "s3cr3t" not in str(client)


@pytest.mark.parametrize(
    ("url", "base", "same"),
    [
        ("https://ehr.example/fhir/Condition?page=2", "https://ehr.example/fhir/", True),
        ("https://EHR.example:443/other", "https://ehr.example/fhir/", True),
        ("http://ehr.example/fhir/Condition", "https://ehr.example/fhir/", False),  # no downgrade
        ("https://ehr.example:8443/fhir/Condition", "https://ehr.example/fhir/", False),
        ("https://ehr.example.evil.test/fhir", "https://ehr.example/fhir/", False),
        ("http://localhost:8080/x", "http://127.0.0.1:8080/", False),
        ("https://ehr.example:99999/x", "https://ehr.example/", False),
    ],
)
def test_same_origin(url, base, same):
    assert same_origin(url, base) is same
