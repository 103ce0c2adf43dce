"""Feedback endpoint, issued-card record and summary (CDS Hooks 2.0.1 "Feedback")."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from sqlalchemy import func, select

from cds_service import create_app
from cds_service.guideline import GUIDELINE_SYSTEM
from cds_service.hooks import feedback as feedback_module
from cds_service.hooks.feedback import FeedbackStore, canonical_timestamp, card_feedback, issued_cards

SERVICE = "nanets-g3-nen-patient-view"
OTHER_SERVICE = "nanets-g3-nen-order-sign"
URL = f"/cds-services/{SERVICE}/feedback"
SUMMARY = f"/cds-services/{SERVICE}/feedback/summary"
REASONS = "https://nen-cds.org/fhir/CodeSystem/override-reason"


@pytest.fixture()
def app(tmp_path):
    return create_app({"CDS_AUTH": "off", "DATABASE_URL": f"sqlite:///{tmp_path / 'fb.sqlite3'}"})


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def store(app) -> FeedbackStore:
    return app.extensions["nen_feedback"]


def card(topic: str | None, display: str | None = None) -> dict:
    source: dict = {"label": "NANETS 2023"}
    if topic:
        source["topic"] = {"system": GUIDELINE_SYSTEM, "code": topic, **({"display": display} if display else {})}
    return {"uuid": str(uuid.uuid4()), "summary": "s", "indicator": "info", "source": source}


def accepted(card_uuid: str, at: str = "2026-10-01T10:00:00Z") -> dict:
    return {"card": card_uuid, "outcome": "accepted", "acceptedSuggestions": [{"id": "s-1"}], "outcomeTimestamp": at}


def overridden(card_uuid: str, reason: str | None = None, at: str = "2026-10-01T10:00:00Z", **extra) -> dict:
    item = {"card": card_uuid, "outcome": "overridden", "outcomeTimestamp": at}
    if reason:
        item["overrideReason"] = {"reason": {"system": REASONS, "code": reason, "display": f"{reason} shown"}, **extra}
    return item


def stored(store: FeedbackStore, table=card_feedback) -> int:
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


# -- POST /feedback -------------------------------------------------------------------------------------
def test_spec_examples_are_accepted(client, store):
    examples = [
        {
            "feedback": [
                {
                    "card": "4e0a3a1e-3283-4575-ab82-028d55fe2719",
                    "outcome": "accepted",
                    "acceptedSuggestions": [{"id": "e56e1945-20b3-4393-8503-a1a20fd73152"}],
                    "outcomeTimestamp": "2021-12-11T10:05:31Z",
                }
            ]
        },
        {
            "feedback": [
                {
                    "card": "f6b95768-b1c8-40dc-8385-bf3504b82ffb",
                    "outcome": "overridden",
                    "outcomeTimestamp": "2020-12-11T00:00:00Z",
                }
            ]
        },
        {
            "feedback": [
                {
                    "card": "9368d37b-283f-44a0-93ea-547cebab93ed",
                    "outcome": "overridden",
                    "overrideReason": {
                        "reason": {
                            "code": "d7ecf885",
                            "system": "https://example.com/cds-hooks/override-reason-system",
                        },
                        "userComment": "A comment entered by the clinician.",
                    },
                    "outcomeTimestamp": "2020-12-11T00:00:00Z",
                }
            ]
        },
    ]
    for body in examples:
        response = client.post(URL, json=body)
        assert response.status_code == 200, response.get_json()
        assert response.get_json() == {}
    assert stored(store) == 3


def test_user_comment_is_not_stored(client, store):
    body = {"feedback": [overridden("c-1", "not-indicated", userComment="Mrs Example declined, see note")]}
    assert client.post(URL, json=body).status_code == 200
    with store.engine.connect() as conn:
        row = conn.execute(select(card_feedback)).mappings().one()
    assert row["has_comment"] is True
    assert "Example" not in " ".join(str(v) for v in row.values())


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({}, "feedback"),
        ({"feedback": []}, "feedback"),
        ({"feedback": "x"}, "feedback"),
        ({"feedback": [{"outcome": "accepted", "outcomeTimestamp": "2026-01-01T00:00:00Z"}]}, "card"),
        ({"feedback": [{"card": "c", "outcome": "rejected", "outcomeTimestamp": "2026-01-01T00:00:00Z"}]}, "outcome"),
        (
            {"feedback": [{"card": "c", "outcome": "accepted", "outcomeTimestamp": "2026-01-01T00:00:00Z"}]},
            "acceptedSuggestions",
        ),
        ({"feedback": [{"card": "c", "outcome": "overridden"}]}, "outcomeTimestamp"),
        ({"feedback": [{"card": "c", "outcome": "overridden", "outcomeTimestamp": "yesterday"}]}, "outcomeTimestamp"),
        (
            {"feedback": [{"card": "c", "outcome": "overridden", "outcomeTimestamp": "2026-01-01T00:00:00"}]},
            "outcomeTimestamp",
        ),
        (
            {"feedback": [{"card": "c", "outcome": "overridden", "outcomeTimestamp": "2026-13-45T00:00:00Z"}]},
            "outcomeTimestamp",
        ),
        ({"feedback": [{**overridden("c"), "overrideReason": {"reason": {"code": "x"}}}]}, "overrideReason"),
        ({"feedback": [{"card": "", "outcome": "overridden", "outcomeTimestamp": "2026-01-01T00:00:00Z"}]}, "card"),
    ],
)
def test_invalid_feedback_is_400_and_nothing_is_stored(client, store, body, where):
    response = client.post(URL, json=body)
    assert response.status_code == 400
    outcome = response.get_json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert where in outcome["issue"][0]["diagnostics"]
    assert stored(store) == 0


def test_one_bad_item_rejects_the_whole_request(client, store):
    body = {
        "feedback": [
            overridden("good"),
            {"card": "bad", "outcome": "overridden", "outcomeTimestamp": "2026-02-30T00:00:00Z"},
        ]
    }
    assert client.post(URL, json=body).status_code == 400
    assert stored(store) == 0


def test_same_item_is_stored_once(client, store):
    body = {"feedback": [accepted("c-1"), accepted("c-1")]}
    for _ in range(3):
        assert client.post(URL, json=body).status_code == 200
    # The same instant written differently is the same item.
    assert client.post(URL, json={"feedback": [accepted("c-1", "2026-10-01T12:00:00.000+02:00")]}).status_code == 200
    assert stored(store) == 1
    # Another outcome, another time or another card are other items.
    more = [overridden("c-1"), accepted("c-1", "2026-10-01T10:00:01Z"), accepted("c-2")]
    assert client.post(URL, json={"feedback": more}).status_code == 200
    assert stored(store) == 4


def test_canonical_timestamp():
    assert canonical_timestamp("1985-04-12T23:20:50.52Z") == "1985-04-12T23:20:50.520000Z"
    assert canonical_timestamp("2026-10-01T12:00:00+02:00") == canonical_timestamp("2026-10-01T10:00:00Z")
    with pytest.raises(ValueError):
        canonical_timestamp("2026-10-01")


@pytest.mark.parametrize("path", [URL, SUMMARY])
def test_unknown_service_is_404(client, path):
    bad = path.replace(SERVICE, "no-such-service")
    response = client.post(bad, json={"feedback": [accepted("c")]}) if path == URL else client.get(bad)
    assert response.status_code == 404
    assert response.get_json()["resourceType"] == "OperationOutcome"


def test_wrong_content_type_is_415(client, store):
    response = client.post(URL, data='{"feedback": []}', content_type="text/plain")
    assert response.status_code == 415
    assert stored(store) == 0


def test_malformed_json_is_400(client):
    assert client.post(URL, data="{not json", content_type="application/json").status_code == 400


def test_huge_body_is_413(client, store):
    body = {"feedback": [accepted("c")], "padding": "x" * (1024 * 1024 + 10)}  # over the 1 MiB default
    response = client.post(URL, json=body)
    assert response.status_code == 413
    assert response.get_json()["resourceType"] == "OperationOutcome"
    assert stored(store) == 0


def test_too_many_items_is_400(client, store):
    items = [overridden(f"card-{i}") for i in range(1001)]
    assert client.post(URL, json={"feedback": items}).status_code == 400
    assert stored(store) == 0


def test_feedback_body_limit_is_configurable(tmp_path):
    app = create_app(
        {"CDS_AUTH": "off", "DATABASE_URL": f"sqlite:///{tmp_path / 'f.sqlite3'}", "FEEDBACK_MAX_BODY_BYTES": 200}
    )
    client = app.test_client()
    assert client.post(URL, json={"feedback": [accepted("c")]}).status_code == 200
    assert client.post(URL, json={"feedback": [accepted(f"c{i}") for i in range(5)]}).status_code == 413


def test_get_on_feedback_is_405(client):
    assert client.get(URL).status_code == 405


# -- issued cards and summary ---------------------------------------------------------------------------
def test_summary_counts_per_topic_and_unknown_cards(client, store):
    a1, a2, b1, untopical = card("REC-A", "Topic A"), card("REC-A", "Topic A"), card("REC-B"), card(None)
    store.record_issued(SERVICE, "hook-1", [a1, b1, untopical])
    store.record_issued(SERVICE, "hook-2", [a2, {"summary": "a card without uuid"}])
    store.record_issued(OTHER_SERVICE, "hook-3", [card("REC-A")])  # another service: not in this summary
    assert store.flush()
    items = [
        accepted(a1["uuid"]),
        accepted(a2["uuid"]),
        accepted(a2["uuid"], "2026-10-02T09:00:00Z"),  # a second acceptance later: counted again
        overridden(a1["uuid"], "patient-declined", at="2026-10-03T00:00:00Z"),
        overridden(b1["uuid"], "patient-declined"),
        overridden(b1["uuid"], "not-applicable", at="2026-10-04T00:00:00Z"),
        overridden(b1["uuid"], at="2026-10-05T00:00:00Z"),
        overridden(untopical["uuid"]),
        accepted("never-issued-1"),
        overridden("never-issued-2", "patient-declined"),
        overridden("never-issued-3"),
    ]
    assert client.post(URL, json={"feedback": items}).status_code == 200
    # Feedback sent to another service does not count here.
    other = f"/cds-services/{OTHER_SERVICE}/feedback"
    assert client.post(other, json={"feedback": [accepted(a1["uuid"], "2026-11-01T00:00:00Z")]}).status_code == 200

    summary = client.get(SUMMARY).get_json()
    assert summary["service"] == SERVICE
    topics = {t.get("code"): t for t in summary["topics"]}
    assert set(topics) == {"REC-A", "REC-B", None}
    a, b = topics["REC-A"], topics["REC-B"]
    assert (a["issued"], a["accepted"], a["overridden"]) == (2, 3, 1)
    assert a["display"] == "Topic A"
    assert a["overrideReasons"] == [
        {"system": REASONS, "code": "patient-declined", "display": "patient-declined shown", "count": 1}
    ]
    assert (b["issued"], b["accepted"], b["overridden"], b["overriddenWithoutReason"]) == (1, 0, 3, 1)
    assert {(r["code"], r["count"]) for r in b["overrideReasons"]} == {("patient-declined", 1), ("not-applicable", 1)}
    assert (topics[None]["issued"], topics[None]["overridden"]) == (1, 1)
    unknown = summary["unknownCards"]
    assert (unknown["accepted"], unknown["overridden"], unknown["overriddenWithoutReason"]) == (1, 2, 1)
    assert [(r["code"], r["count"]) for r in unknown["overrideReasons"]] == [("patient-declined", 1)]


def test_empty_summary(client):
    summary = client.get(SUMMARY).get_json()
    assert summary["topics"] == []
    assert summary["unknownCards"]["accepted"] == summary["unknownCards"]["overridden"] == 0


def test_issued_card_recorded_once(store):
    c = card("REC-A")
    store.record_issued(SERVICE, "h", [c])
    store.record_issued(SERVICE, "h", [c])
    assert store.flush()
    assert stored(store, issued_cards) == 1


def test_record_issued_never_blocks_and_drops_when_full(tmp_path, monkeypatch):
    gate = threading.Event()
    real_insert = feedback_module._insert_ignore

    def slow_insert(engine, table, rows):
        gate.wait(10)  # the database hangs
        real_insert(engine, table, rows)

    monkeypatch.setattr(feedback_module, "_insert_ignore", slow_insert)
    store = FeedbackStore(f"sqlite:///{tmp_path / 's.sqlite3'}", queue_size=5)
    started = time.perf_counter()
    for i in range(50):
        store.record_issued(SERVICE, f"h{i}", [card("REC-A")])
    elapsed = time.perf_counter() - started
    assert elapsed < 0.5  # 50 calls while the writer is stuck
    assert 0 < store.dropped < 50  # the queue (5 batches) and the writer's batch were kept, the rest dropped
    gate.set()
    assert store.flush()
    assert stored(store, issued_cards) == 50 - store.dropped
    store.close()


def test_writer_survives_a_database_error(tmp_path, monkeypatch):
    calls = []
    real_insert = feedback_module._insert_ignore

    def flaky_insert(engine, table, rows):
        calls.append(len(rows))
        if len(calls) == 1:
            from sqlalchemy.exc import OperationalError

            raise OperationalError("INSERT", {}, Exception("database is locked"))
        real_insert(engine, table, rows)

    monkeypatch.setattr(feedback_module, "_insert_ignore", flaky_insert)
    store = FeedbackStore(f"sqlite:///{tmp_path / 's.sqlite3'}")
    store.record_issued(SERVICE, "h1", [card("REC-A")])
    assert store.flush()
    store.record_issued(SERVICE, "h2", [card("REC-A")])
    assert store.flush()
    assert store.write_errors == 1
    assert stored(store, issued_cards) == 1
    store.close()


def test_hook_route_hands_issued_cards_to_the_store(client, store, monkeypatch):
    from tests.support.fhir import hook_request, ki67, m_category, nen_condition

    seen = []
    monkeypatch.setattr(store, "record_issued", lambda *args: seen.append(args))
    request = hook_request("patient-view", nen_condition("NEC"), ki67(70), m_category())
    assert client.post(f"/cds-services/{SERVICE}", json=request).status_code == 200
    assert len(seen) == 1
    assert seen[0][:2] == (SERVICE, request["hookInstance"])


# -- readiness and database failures ----------------------------------------------------------------------
def test_readiness_reports_the_database(client):
    body = client.get("/readyz").get_json()
    assert body["checks"]["database"] == "ok"


def test_database_down_not_ready_and_503(tmp_path):
    app = create_app({"CDS_AUTH": "off", "DATABASE_URL": "postgresql://nobody:x@127.0.0.1:9/none"})
    client = app.test_client()
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["checks"]["database"].startswith("failed")
    assert "nobody" not in ready.get_data(as_text=True)  # no connection details leak
    response = client.post(URL, json={"feedback": [accepted("c")]})
    assert response.status_code == 503
    assert response.get_json()["resourceType"] == "OperationOutcome"
    assert client.get(SUMMARY).status_code == 503


def test_cards_from_a_hook_call_are_counted_by_topic(client, store):
    from collections import Counter

    from tests.support.fhir import hook_request, ki67, m_category, nen_condition

    request = hook_request(
        "patient-view", nen_condition("NEC"), ki67(70), m_category(), hook_instance=str(uuid.uuid4())
    )
    response = client.post(f"/cds-services/{SERVICE}", json=request)
    assert response.status_code == 200
    cards = response.get_json()["cards"]
    assert cards, "this patient should get cards"
    assert store.flush()
    expected = Counter(c["source"]["topic"]["code"] for c in cards if c.get("uuid"))
    first = next(c for c in cards if c.get("uuid"))
    feedback = {"feedback": [overridden(first["uuid"], "not-applicable")]}
    assert client.post(URL, json=feedback).status_code == 200

    summary = client.get(SUMMARY).get_json()
    assert {t["code"]: t["issued"] for t in summary["topics"]} == dict(expected)
    topic = next(t for t in summary["topics"] if t["code"] == first["source"]["topic"]["code"])
    assert topic["overridden"] == 1
    assert summary["unknownCards"]["overridden"] == 0
