"""Keeps the benchmark harness working (bench/): data generator, floor app, report. No timing assertions."""

from __future__ import annotations

import json
from datetime import date

import orjson
import pytest

from bench import floor_app
from bench.bundles import SERVICE_IDS, build_requests, draft_orders, patient_resources
from bench.run import (
    NOTES_MARKER,
    LoadResult,
    Measurement,
    Mode,
    Report,
    RequestBody,
    generate_load,
    kept_notes,
    markdown,
    percentile,
    targets,
)
from cds_service.fhir_data.prefetch import gather_record
from cds_service.hooks.services import PATIENT_PREFETCH
from cds_service.settings import Settings

ANCHOR = date(2026, 11, 28)
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
HISTOLOGY_EXT = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-histology-morphology-behavior"


@pytest.fixture(scope="module")
def requests_50():
    return build_requests(50, anchor=ANCHOR)


def test_bundle_has_the_exact_size_and_is_deterministic():
    first = patient_resources(50, anchor=ANCHOR)
    assert len(first) == 50
    assert orjson.dumps(first) == orjson.dumps(patient_resources(50, anchor=ANCHOR))
    assert orjson.dumps(first) != orjson.dumps(patient_resources(50, anchor=ANCHOR, seed=7))
    assert len({(r["resourceType"], r["id"]) for r in first}) == 50  # ids unique


def test_bundle_describes_a_g3_nen_patient_in_the_inputs_forms():
    resources = patient_resources(50, anchor=ANCHOR)
    [primary] = [
        r
        for r in resources
        if r["resourceType"] == "Condition" and any(e["url"] == HISTOLOGY_EXT for e in r.get("extension", []))
    ]
    histology = primary["extension"][0]["valueCodeableConcept"]["coding"][0]
    assert (histology["system"], histology["code"]) == (ICDO3, "8246/3")
    ki67 = [
        r
        for r in resources
        if r["resourceType"] == "Observation" and r["code"]["coding"][0]["code"] == "29593-1" and r["status"] == "final"
    ]
    assert ki67 and all(r["valueQuantity"]["value"] > 20 for r in ki67)
    assert all(r["subject" if "subject" in r else "patient"]["reference"] == "Patient/bench-pt-1" for r in resources)


def test_requests_fill_every_prefetch_key_with_all_resources(requests_50):
    assert set(requests_50) == {"patient-view", "order-select", "order-sign"}
    for request in requests_50.values():
        assert set(request["prefetch"]) == set(PATIENT_PREFETCH)
        assert sum(len(b["entry"]) for b in request["prefetch"].values()) == 50
        record = gather_record(request, PATIENT_PREFETCH, Settings.load({"CDS_AUTH": "off"}))
        assert len(record) == 50 and not record.unreadable
    drafts = requests_50["order-sign"]["context"]["draftOrders"]["entry"]
    assert [e["resource"]["id"] for e in drafts] == [d["id"] for d in draft_orders(ANCHOR)]
    assert all(e["resource"]["status"] == "draft" for e in drafts)
    selections = requests_50["order-select"]["context"]["selections"]
    assert selections and all(s.split("/")[1] in {d["id"] for d in draft_orders(ANCHOR)} for s in selections)


def test_the_service_answers_every_hook_on_the_50_resource_bundle(client, requests_50):
    for hook, request in requests_50.items():
        response = client.post(f"/cds-services/{SERVICE_IDS[hook]}", json=request)
        assert response.status_code == 200, (hook, response.data[:300])
        assert isinstance(response.get_json()["cards"], list)


def test_request_body_gets_a_fresh_hook_instance(requests_50):
    body = RequestBody(requests_50["patient-view"])
    one, two = orjson.loads(body()), orjson.loads(body())
    assert one["hookInstance"] != two["hookInstance"]
    assert len(body()) == body.size
    assert one["prefetch"] == requests_50["patient-view"]["prefetch"]


@pytest.mark.parametrize("size", [12, 15, 21, 22, 5000])
def test_floor_body_is_json_of_the_requested_size(size):
    body = floor_app.static_body(size)
    assert len(body) == size
    assert json.loads(body)["cards"] == []


def test_floor_app_answers_with_the_size_given_per_request(monkeypatch):
    monkeypatch.setenv("FLOOR_BODY_BYTES", "40")
    monkeypatch.setenv("FLOOR_BODY_BYTES_BY_KEY", json.dumps({"svc?bench=300": 300}))
    floor = floor_app.create_floor_app().test_client()
    assert len(floor.post("/cds-services/svc?bench=300", data=b"{}").data) == 300
    assert len(floor.post("/cds-services/svc?bench=50", data=b"{}").data) == 40


def test_load_generator_refuses_other_hosts():
    with pytest.raises(ValueError, match=r"127\.0\.0\.1"):
        generate_load("http://example.org/", lambda: b"{}", concurrency=1, duration=0.1, max_requests=1, warmup=0)


def test_percentile_interpolates():
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([5.0], 99) == 5.0


def _measurement(
    size: int, concurrency: int, service_ms: float, floor_ms: float, cpu_ms: float = float("nan")
) -> Measurement:
    service = LoadResult([service_ms] * 10, 0, 10 * service_ms / 1000, server_cpu_s=10 * cpu_ms / 1000)
    floor = LoadResult([floor_ms] * 10, 0, 1.0, server_cpu_s=0.01)  # 1 ms of CPU per floor request
    return Measurement("patient-view", size, concurrency, 1000, 12, 0, service, floor)


def test_report_judges_the_targets_from_the_measurements():
    report = Report("quick", Mode(1, 1, 10, 0), "python -m bench.run", {"CPUs (nproc)": "2"}, 2, 4, "0 / 0 / 0")
    report.measurements = [
        _measurement(300, 1, 5.0, 2.0),
        _measurement(300, 4, 8.0, 2.0),  # p50 8 ms but 4x the floor; 125 req/s
        _measurement(2000, 1, 22.0, 2.0),  # net 3 -> 20 ms: exponent 1.0
        _measurement(2000, 4, 160.0, 2.0),
    ]
    report.service_hwm_kib = {101: 100 * 1024, 102: 120 * 1024}
    verdicts = {t.name.split(" (")[0]: t.met for t in targets(report)}
    assert verdicts["p50 <= 10 ms"] is True
    assert verdicts["p50 <= 3x floor p50"] is False
    assert verdicts[">= 150 hooks/s"] is False
    assert verdicts["p99 <= 150 ms"] is False
    assert verdicts["<= 150 MB RSS per worker"] is True
    assert verdicts["cost grows at most linearly"] is True
    text = markdown(report)
    assert "## patient-view" in text and "**not met**" in text


def test_linearity_is_judged_on_server_cpu_time_when_measured():
    report = Report("full", Mode(1, 1, 10, 0), "python -m bench.run", {}, 2, 4, "0 / 0 / 0")
    # latency grows linearly (net 3 -> 20 ms) but server CPU time per request grows 11 -> 201 ms: superlinear
    report.measurements = [_measurement(300, 1, 5.0, 2.0, cpu_ms=11.0), _measurement(2000, 1, 22.0, 2.0, cpu_ms=201.0)]
    [growth] = [t for t in targets(report) if t.name.startswith("cost grows")]
    assert "net CPU" in growth.name
    assert growth.met is False


def test_hand_written_notes_survive_a_rewrite_of_the_report(tmp_path):
    report = tmp_path / "RESULTS.md"
    assert kept_notes(report) == ""  # no report yet
    report.write_text("# old figures\n")
    assert kept_notes(report) == ""  # nothing hand-written
    report.write_text(f"# old figures\n{NOTES_MARKER}\n## Analysis\nwhy p99 is missed\n")
    notes = kept_notes(report)
    assert notes.startswith(f"\n{NOTES_MARKER}") and "why p99 is missed" in notes and "old figures" not in notes
