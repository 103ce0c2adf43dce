"""A short-lived cache for explanations (and SMART launch state): in process, or Redis.

Values are stored as JSON (orjson), so both stores behave alike and nothing mutable is shared between requests;
the in-process store can also keep a builder (``put_lazy``) whose result goes through JSON when it is read.
Entries hold no names, identifiers or birth dates (see ``summary.explanation``).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

import orjson
import redis

from cds_service.settings import Settings

DEFAULT_MAX_ENTRIES = 500
PREFIX = "nen:explain:"


class StoreUnavailable(Exception):
    """The cache could not be reached (Redis down): the caller degrades, never fails the hook."""


class Store(Protocol):
    def put(self, key: str, value: dict[str, Any], ttl_seconds: int) -> None: ...

    def get(self, key: str) -> dict[str, Any] | None: ...

    def pop(self, key: str) -> dict[str, Any] | None: ...


class MemoryStore:
    """Bounded LRU with per-entry expiry; safe across the threads of one process."""

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES, clock: Callable[[], float] = time.monotonic):
        self.max_entries = max(1, max_entries)
        self._clock = clock
        self._lock = threading.Lock()
        self._data: OrderedDict[str, tuple[float, bytes | Callable[[], dict[str, Any]]]] = OrderedDict()

    def put(self, key: str, value: dict[str, Any], ttl_seconds: int) -> None:
        self._insert(key, orjson.dumps(value), ttl_seconds)

    def put_lazy(self, key: str, build: Callable[[], dict[str, Any]], ttl_seconds: int) -> None:
        """Like ``put``, but keep ``build`` (over immutable inputs) and call it only when the entry is read:
        most entries are never read. What a read returns went through JSON, exactly as with ``put``."""
        self._insert(key, build, ttl_seconds)

    def _insert(self, key: str, value: bytes | Callable[[], dict[str, Any]], ttl_seconds: int) -> None:
        with self._lock:
            self._data[key] = (self._clock() + ttl_seconds, value)
            self._data.move_to_end(key)
            if len(self._data) > self.max_entries:
                # Expired entries go first (reads never return them; purging only when full keeps a put
                # O(1)), then the least recently used.
                self._purge()
                while len(self._data) > self.max_entries:
                    self._data.popitem(last=False)

    def _live(self, key: str, remove: bool) -> dict[str, Any] | None:
        with self._lock:
            item = self._data.get(key)
            if item is None:
                return None
            if item[0] <= self._clock():
                del self._data[key]
                return None
            if remove:
                del self._data[key]
            else:
                self._data.move_to_end(key)
        value = item[1]
        return orjson.loads(value if isinstance(value, bytes) else orjson.dumps(value()))

    def get(self, key: str) -> dict[str, Any] | None:
        return self._live(key, remove=False)

    def pop(self, key: str) -> dict[str, Any] | None:
        return self._live(key, remove=True)

    def _purge(self) -> None:
        now = self._clock()
        for key in [k for k, (expires, _) in self._data.items() if expires <= now]:
            del self._data[key]

    def __len__(self) -> int:
        with self._lock:
            self._purge()
            return len(self._data)


class RedisStore:
    """Shared by every worker and replica (set ``REDIS_URL`` and ``EXPLAIN_SECRET`` together)."""

    def __init__(self, url: str):
        self._redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)

    def put(self, key: str, value: dict[str, Any], ttl_seconds: int) -> None:
        try:
            self._redis.set(PREFIX + key, orjson.dumps(value), ex=ttl_seconds)
        except redis.RedisError as exc:
            raise StoreUnavailable(type(exc).__name__) from None

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            raw = self._redis.get(PREFIX + key)
        except redis.RedisError as exc:
            raise StoreUnavailable(type(exc).__name__) from None
        return None if raw is None else orjson.loads(raw)

    def pop(self, key: str) -> dict[str, Any] | None:
        try:
            raw = self._redis.getdel(PREFIX + key)
        except redis.RedisError as exc:
            raise StoreUnavailable(type(exc).__name__) from None
        return None if raw is None else orjson.loads(raw)


def make_store(settings: Settings) -> Store:
    if settings.redis_url:
        return RedisStore(settings.redis_url)
    max_entries = int(settings.extra.get("EXPLAIN_CACHE_ENTRIES", DEFAULT_MAX_ENTRIES))  # type: ignore[call-overload]
    return MemoryStore(max_entries)
