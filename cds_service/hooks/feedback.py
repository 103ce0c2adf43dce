"""Card feedback (CDS Hooks 2.0.1 "Feedback") and the record of issued cards, with a summary per topic.

- ``POST /cds-services/{id}/feedback``: ``{"feedback": [...]}`` validated with
  ``schemas/feedback.schema.json``; each item stored once (same service, card uuid, outcome and
  outcomeTimestamp = same item: a unique constraint plus insert-or-ignore, so a client that resends
  is harmless). Answers 200 with ``{}``. The clinician's free-text ``userComment`` is not stored (it
  may hold patient details): only whether there was one.
- ``record_issued(service_id, hook_instance, cards)``: called by the hook route after each answer;
  queues each card's uuid with its topic (the recommendation id) in a bounded in-memory queue
  written by a background thread in batches (it gathers rows for up to ``LINGER_SECONDS`` so that one
  transaction serves many hook calls; ``flush()`` cuts that short). It never blocks the hook: when the
  queue is full the rows are dropped and counted (feedback on those cards then counts as "unknown card").
- ``GET /cds-services/{id}/feedback/summary``: per topic, cards issued, accepted and overridden
  counts, override reasons with counts; feedback on cards this service has no record of is counted
  apart under ``unknownCards``.

Storage: SQLAlchemy Core on ``settings.effective_database_url`` (SQLite by default, PostgreSQL with
``DATABASE_URL=postgresql+psycopg://...``; ``postgresql://`` is read as psycopg too). Tables are
created when missing. Readiness check ``database``: ``SELECT 1``.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import re
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, request
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    and_,
    create_engine,
    event,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, ProgrammingError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from cds_service.api.errors import BadRequest, NotFound, ServiceError
from cds_service.api.requests_io import read_json_object
from cds_service.hooks.services import SERVICES
from cds_service.hooks.validation import validate
from cds_service.settings import Settings

log = logging.getLogger("cds_service.feedback")

metadata = MetaData()

issued_cards = Table(
    "nen_issued_card",
    metadata,
    Column("card_uuid", String(100), primary_key=True),
    Column("service_id", String(100), nullable=False),
    Column("topic_code", String(200)),
    Column("topic_display", String(500)),
    Column("hook_instance", String(200)),
    Column("issued_at", DateTime(timezone=True), nullable=False),
)
Index("ix_nen_issued_card_service", issued_cards.c.service_id)

card_feedback = Table(
    "nen_card_feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("service_id", String(100), nullable=False),
    Column("card_uuid", String(100), nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("outcome_timestamp", String(40), nullable=False),  # canonical UTC, microseconds
    Column("accepted_suggestions", Integer, nullable=False),
    Column("override_system", String(500)),
    Column("override_code", String(200)),
    Column("override_display", String(500)),
    Column("has_comment", Boolean, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("service_id", "card_uuid", "outcome", "outcome_timestamp", name="uq_nen_card_feedback_item"),
)
Index("ix_nen_card_feedback_service", card_feedback.c.service_id)

_TIMESTAMP = re.compile(r"(\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})")
BATCH_ROWS = 500
LINGER_SECONDS = 0.5  # the writer waits this long for more issued cards before writing a batch


class StoreUnavailable(ServiceError):
    status = 503
    code = "transient"


def canonical_timestamp(value: str) -> str:
    """RFC 3339 date-time -> ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC (same instant, same string)."""
    match = _TIMESTAMP.fullmatch(value)
    if match is None:
        raise ValueError("not an RFC 3339 date-time")
    whole, fraction, zone = match.groups()
    fraction = (fraction or "0")[:6].ljust(6, "0")
    zone = "+00:00" if zone in ("Z", "z") else zone
    instant = datetime.fromisoformat(f"{whole.upper()}.{fraction}{zone}").astimezone(UTC)
    return instant.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def feedback_rows(service_id: str, items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Validated feedback items -> table rows (duplicates inside one request collapsed)."""
    received = datetime.now(UTC)
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    for index, item in enumerate(items):
        try:
            stamp = canonical_timestamp(item["outcomeTimestamp"])
        except ValueError:
            where = f"feedback.{index}.outcomeTimestamp"
            raise BadRequest(f"{where}: not an RFC 3339 date-time", expression=[where]) from None
        override = item.get("overrideReason") or {}
        reason = override.get("reason") or {}
        row = {
            "service_id": service_id,
            "card_uuid": item["card"],
            "outcome": item["outcome"],
            "outcome_timestamp": stamp,
            "accepted_suggestions": len(item.get("acceptedSuggestions") or []),
            "override_system": reason.get("system"),
            "override_code": reason.get("code"),
            "override_display": reason.get("display"),
            "has_comment": bool(override.get("userComment")),
            "received_at": received,
        }
        rows.setdefault((row["card_uuid"], row["outcome"], stamp), row)
    return list(rows.values())


def issued_rows(service_id: str, hook_instance: str, cards: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    issued = datetime.now(UTC)
    rows = []
    for card in cards:
        uuid = card.get("uuid")
        if not isinstance(uuid, str) or not uuid:
            continue  # no uuid: the client cannot send feedback on it
        topic = (card.get("source") or {}).get("topic") or {}
        display = topic.get("display")
        rows.append(
            {
                "card_uuid": uuid[:100],
                "service_id": service_id,
                "topic_code": topic.get("code"),
                "topic_display": display[:500] if isinstance(display, str) and display else None,
                "hook_instance": hook_instance[:200] if isinstance(hook_instance, str) else None,
                "issued_at": issued,
            }
        )
    return rows


def _engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True, pool_size=5, max_overflow=5, pool_recycle=1800)
    database = parsed.database or ""
    if database in ("", ":memory:"):
        return create_engine(parsed, poolclass=StaticPool, connect_args={"check_same_thread": False})
    Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, connect_args={"timeout": 15, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):  # readers do not wait for the writer thread
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


def _insert_ignore(engine: Engine, table: Table, rows: list[dict[str, Any]]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING on SQLite and PostgreSQL; row by row elsewhere."""
    if not rows:
        return
    dialect = engine.dialect.name
    with engine.begin() as conn:
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            conn.execute(pg_insert(table).on_conflict_do_nothing(), rows)
            return
        if dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            conn.execute(sqlite_insert(table).on_conflict_do_nothing(), rows)
            return
    for row in rows:  # other databases: one transaction per row, duplicates ignored
        try:
            with engine.begin() as conn:
                conn.execute(insert(table), [row])
        except IntegrityError:
            continue


class FeedbackStore:
    def __init__(self, database_url: str, *, queue_size: int = 10_000):
        import queue

        self._queue_module = queue
        self.engine = _engine(database_url)
        self.queue_size = max(1, queue_size)
        self.linger_seconds = LINGER_SECONDS
        self._queue: queue.Queue[list[dict[str, Any]] | None] = queue.Queue(maxsize=self.queue_size)
        self._schema_ready = False
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self.dropped = 0
        self.write_errors = 0
        self._last_drop_warning = 0.0
        atexit.register(self.flush, 2.0)

    # -- schema and health -------------------------------------------------------------------
    def ensure_schema(self) -> None:
        if self._schema_ready:
            return
        with self._lock:
            if self._schema_ready:
                return
            try:
                metadata.create_all(self.engine)
            except (IntegrityError, ProgrammingError):
                # Two replicas creating the tables at once: the loser sees a duplicate; look again.
                time.sleep(0.2)
                metadata.create_all(self.engine)
            self._schema_ready = True

    def ping(self) -> None:
        self.ensure_schema()
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    # -- issued cards (hot path: never blocks) ------------------------------------------------
    def record_issued(self, service_id: str, hook_instance: str, cards: Iterable[Mapping[str, Any]]) -> None:
        rows = issued_rows(service_id, hook_instance, cards)
        if not rows:
            return
        self._ensure_worker()
        try:
            self._queue.put_nowait(rows)
        except self._queue_module.Full:
            self.dropped += len(rows)
            now = time.monotonic()
            if now - self._last_drop_warning > 60:
                self._last_drop_warning = now
                log.warning("issued-card queue full: rows dropped", extra={"count": self.dropped})

    def _ensure_worker(self) -> None:
        if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
            return
        with self._lock:
            if self._pid != os.getpid():  # forked (gunicorn --preload): fresh queue and connections
                self._pid = os.getpid()
                self._queue = self._queue_module.Queue(maxsize=self.queue_size)
                self.engine.dispose(close=False)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="nen-feedback-writer", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            batches = [self._queue.get()]
            rows = list(batches[0] or ())
            # Linger a little to gather the cards of the next hook calls too: one transaction for many
            # calls costs the request threads (GIL) far less than one per call. flush() cuts it short.
            deadline = time.monotonic() + self.linger_seconds
            while len(rows) < BATCH_ROWS and batches[-1] is not None:
                wait = deadline - time.monotonic()
                try:
                    batches.append(self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait())
                except self._queue_module.Empty:
                    break
                rows.extend(batches[-1] or ())
            try:
                self.ensure_schema()
                _insert_ignore(self.engine, issued_cards, rows)
            except SQLAlchemyError as exc:
                self.write_errors += len(rows)
                log.warning("issued cards not stored", extra={"error": type(exc).__name__, "count": len(rows)})
            except Exception as exc:  # the writer thread must survive anything
                self.write_errors += len(rows)
                log.error("issued-card writer error", extra={"error": type(exc).__name__})
            finally:
                for _ in batches:
                    self._queue.task_done()

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every queued issued-card row is written (tests, shutdown). True when empty."""
        deadline = time.monotonic() + timeout
        if self._queue.unfinished_tasks:
            with contextlib.suppress(self._queue_module.Full):  # full: the writer has a whole batch anyway
                self._queue.put_nowait(None)  # the writer stops lingering and writes what it holds now
        while self._queue.unfinished_tasks:
            if time.monotonic() > deadline or self._thread is None or not self._thread.is_alive():
                return False
            time.sleep(0.005)
        return True

    # -- feedback ------------------------------------------------------------------------------
    def store_feedback(self, service_id: str, items: Sequence[Mapping[str, Any]]) -> int:
        rows = feedback_rows(service_id, items)
        try:
            self.ensure_schema()
            _insert_ignore(self.engine, card_feedback, rows)
        except SQLAlchemyError as exc:
            log.warning("feedback not stored", extra={"error": type(exc).__name__, "service": service_id})
            raise StoreUnavailable("feedback store unavailable; retry later") from None
        return len(rows)

    def summary(self, service_id: str) -> dict[str, Any]:
        f, i = card_feedback, issued_cards
        known = i.c.card_uuid.is_not(None).label("known")
        feedback_query = (
            select(
                known,
                i.c.topic_code,
                func.max(i.c.topic_display),
                f.c.outcome,
                f.c.override_system,
                f.c.override_code,
                func.max(f.c.override_display),
                func.count(),
            )
            .select_from(f.outerjoin(i, and_(i.c.card_uuid == f.c.card_uuid, i.c.service_id == f.c.service_id)))
            .where(f.c.service_id == service_id)
            .group_by(known, i.c.topic_code, f.c.outcome, f.c.override_system, f.c.override_code)
        )
        issued_query = (
            select(i.c.topic_code, func.max(i.c.topic_display), func.count())
            .where(i.c.service_id == service_id)
            .group_by(i.c.topic_code)
        )
        try:
            self.ensure_schema()
            with self.engine.connect() as conn:
                feedback_counts = conn.execute(feedback_query).all()
                issued_counts = conn.execute(issued_query).all()
        except SQLAlchemyError as exc:
            log.warning("feedback summary failed", extra={"error": type(exc).__name__, "service": service_id})
            raise StoreUnavailable("feedback store unavailable; retry later") from None

        def tally() -> dict[str, Any]:
            return {"accepted": 0, "overridden": 0, "overriddenWithoutReason": 0, "overrideReasons": []}

        topics: dict[str | None, dict[str, Any]] = {}
        for code, display, count in issued_counts:
            topics[code] = {"code": code, "display": display, "issued": count, **tally()}
        unknown = tally()
        for is_known, code, display, outcome, system, reason_code, reason_display, count in feedback_counts:
            if is_known:
                entry = topics.setdefault(code, {"code": code, "display": display, "issued": 0, **tally()})
            else:
                entry = unknown
            entry[outcome] += count
            if outcome != "overridden":
                continue
            if reason_code is None:
                entry["overriddenWithoutReason"] += count
            else:
                entry["overrideReasons"].append(
                    {"system": system, "code": reason_code, "display": reason_display, "count": count}
                )
        for entry in [*topics.values(), unknown]:
            entry["overrideReasons"].sort(key=lambda r: (-r["count"], r["system"] or "", r["code"]))
        ordered = sorted(topics.values(), key=lambda t: (t["code"] is None, t["code"] or ""))
        return {
            "service": service_id,
            "topics": [{k: v for k, v in t.items() if v is not None} for t in ordered],
            "unknownCards": unknown,
        }

    def close(self) -> None:
        self.flush(2.0)
        self.engine.dispose()


# -- HTTP -----------------------------------------------------------------------------------------
bp = Blueprint("feedback", __name__)


def _store() -> FeedbackStore:
    return current_app.extensions["nen_feedback"]


def _known_service(service_id: str) -> None:
    if service_id not in SERVICES:
        raise NotFound(f"no CDS Service with id {service_id!r}; see GET /cds-services")


@bp.post("/cds-services/<service_id>/feedback")
def post_feedback(service_id: str):
    _known_service(service_id)
    settings: Settings = current_app.config["SETTINGS"]
    body = read_json_object(request, min(settings.feedback_max_body_bytes, settings.max_body_bytes))
    validate(body, "feedback.schema.json")
    count = _store().store_feedback(service_id, body["feedback"])
    log.info("feedback stored", extra={"service": service_id, "count": count})
    return jsonify({})


@bp.get("/cds-services/<service_id>/feedback/summary")
def feedback_summary(service_id: str):
    _known_service(service_id)
    return jsonify(_store().summary(service_id))


def init_app(app: Flask, settings: Settings) -> None:
    store = FeedbackStore(settings.effective_database_url, queue_size=settings.feedback_queue_size)
    try:
        store.ensure_schema()
    except SQLAlchemyError as exc:  # the service still starts; /readyz reports the database
        log.warning("feedback database not reachable at start", extra={"error": type(exc).__name__})
    app.extensions["nen_feedback"] = store
    app.extensions["nen_ready_checks"]["database"] = store.ping
    app.register_blueprint(bp)
