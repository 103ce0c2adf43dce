"""Two replicas (two apps) sharing one PostgreSQL and one Redis, as in docker/compose.yaml and k8s."""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid

import jwt
import pytest
import redis
from sqlalchemy import func, select

from cds_service.guideline import GUIDELINE_SYSTEM
from cds_service.hooks.feedback import FeedbackStore, card_feedback, issued_cards
from tests.security.tokens import ISS, Signer, auth_app, bearer

pytestmark = [pytest.mark.services, pytest.mark.xdist_group("services")]

SERVICE = "nanets-g3-nen-patient-view"
FEEDBACK = f"/cds-services/{SERVICE}/feedback"
SUMMARY = f"{FEEDBACK}/summary"


@pytest.fixture()
def signer():
    return Signer("EC", "replica-key")


@pytest.fixture()
def replicas(tmp_path, signer, database_url, redis_url):
    apps = []
    for name in ("one", "two"):
        folder = tmp_path / name
        folder.mkdir()
        apps.append(auth_app(folder, signer, DATABASE_URL=database_url, REDIS_URL=redis_url))
    yield apps
    for app in apps:
        app.extensions["nen_feedback"].close()


def card(topic: str) -> dict:
    return {
        "uuid": str(uuid.uuid4()),
        "source": {"label": "NANETS", "topic": {"system": GUIDELINE_SYSTEM, "code": topic}},
    }


def test_both_replicas_ready_with_database_and_replay_cache(replicas):
    for app in replicas:
        body = app.test_client().get("/readyz").get_json()
        assert body["checks"]["database"] == "ok"
        assert body["checks"]["replay_cache"] == "ok"


def test_jwt_replayed_against_the_second_replica_is_rejected(replicas, signer, redis_url, caplog):
    one, two = (app.test_client() for app in replicas)
    token = signer.token()
    assert one.get("/cds-services", headers=bearer(token)).status_code == 200
    with caplog.at_level(logging.INFO, logger="cds_service.security"):
        response = two.get("/cds-services", headers=bearer(token))
    assert response.status_code == 401
    assert any(getattr(r, "reason", "") == "jti replayed" for r in caplog.records)
    # A fresh token works on the second replica: only the reuse was refused.
    assert two.get("/cds-services", headers=bearer(signer.token())).status_code == 200
    # The shared entry expires with the token (remaining lifetime + clock skew), not later.
    jti = jwt.decode(token, options={"verify_signature": False})["jti"]
    key = "nen-cds:jti:" + hashlib.sha256(f"{ISS}\n{jti}".encode()).hexdigest()
    ttl = redis.Redis.from_url(redis_url).ttl(key)
    assert 0 < ttl <= 300 + 60


def test_simultaneous_use_on_both_replicas_lets_exactly_one_through(replicas, signer):
    clients = [app.test_client() for app in replicas]
    for _ in range(5):
        token = signer.token()
        statuses: list[int] = []
        barrier = threading.Barrier(4)

        def use(client, token=token, statuses=statuses, barrier=barrier):
            barrier.wait()
            statuses.append(client.get("/cds-services", headers=bearer(token)).status_code)

        threads = [threading.Thread(target=use, args=(clients[i % 2],)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        assert sorted(statuses) == [200, 401, 401, 401]


def test_feedback_posted_to_one_replica_is_counted_by_the_other(replicas, signer):
    one, two = replicas
    accepted_card, overridden_card = card("REC-A"), card("REC-B")
    one.extensions["nen_feedback"].record_issued(SERVICE, "hook-1", [accepted_card, overridden_card])
    assert one.extensions["nen_feedback"].flush()
    items = [
        {
            "card": accepted_card["uuid"],
            "outcome": "accepted",
            "acceptedSuggestions": [{"id": "s-1"}],
            "outcomeTimestamp": "2026-10-01T10:00:00Z",
        },
        {
            "card": overridden_card["uuid"],
            "outcome": "overridden",
            "overrideReason": {"reason": {"system": "urn:reasons", "code": "declined", "display": "Patient declined"}},
            "outcomeTimestamp": "2026-10-01T10:05:00Z",
        },
    ]
    client_one, client_two = one.test_client(), two.test_client()
    assert (
        client_one.post(FEEDBACK, json={"feedback": items}, headers=bearer(signer.token(FEEDBACK))).status_code == 200
    )
    # The EHR resends the same feedback to the other replica: still counted once.
    assert (
        client_two.post(FEEDBACK, json={"feedback": items}, headers=bearer(signer.token(FEEDBACK))).status_code == 200
    )

    summary = client_two.get(SUMMARY, headers=bearer(signer.token(SUMMARY))).get_json()
    topics = {t["code"]: t for t in summary["topics"]}
    assert (topics["REC-A"]["issued"], topics["REC-A"]["accepted"], topics["REC-A"]["overridden"]) == (1, 1, 0)
    assert topics["REC-B"]["overridden"] == 1
    assert topics["REC-B"]["overrideReasons"] == [
        {"system": "urn:reasons", "code": "declined", "display": "Patient declined", "count": 1}
    ]
    assert summary["unknownCards"]["accepted"] == summary["unknownCards"]["overridden"] == 0


def test_feedback_store_on_postgresql(database_url):
    # Two stores creating the schema on the same database, as two replicas starting together.
    stores = [FeedbackStore(database_url), FeedbackStore(database_url)]
    errors: list[BaseException] = []

    def start(store):
        try:
            store.ensure_schema()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    first, second = stores
    assert first.engine.dialect.name == "postgresql"
    first.ping()

    issued = card("REC-A")
    first.record_issued(SERVICE, "h", [issued])
    second.record_issued(SERVICE, "h", [issued])  # recorded twice, kept once
    assert first.flush() and second.flush()
    item = {"card": issued["uuid"], "outcome": "overridden", "outcomeTimestamp": "2026-10-01T10:00:00Z"}
    same_instant = {**item, "outcomeTimestamp": "2026-10-01T12:00:00+02:00"}
    first.store_feedback(SERVICE, [item, item])
    second.store_feedback(SERVICE, [same_instant])
    with first.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(card_feedback)).scalar_one() == 1
        assert conn.execute(select(func.count()).select_from(issued_cards)).scalar_one() == 1
    summary = second.summary(SERVICE)
    assert summary["topics"][0]["code"] == "REC-A"
    assert summary["topics"][0]["overriddenWithoutReason"] == 1
    for store in stores:
        store.close()


def test_postgresql_url_without_driver_uses_psycopg(postgres):
    store = FeedbackStore(postgres.url.replace("postgresql+psycopg://", "postgresql://"))
    try:
        assert store.engine.dialect.driver == "psycopg"
        store.ping()
    finally:
        store.close()
