"""Short-term storage of the JWT ids already used (best practices: "jti ... short-term storage").

``first_use(iss, jti, ttl)`` records the pair and answers True the first time, False after. Entries
live as long as the token could still be accepted (its remaining lifetime plus clock skew).
In one process: a bounded in-memory map. Across replicas: Redis ``SET key 1 NX EX ttl`` (set
``REDIS_URL``), so a token used on one replica is refused on every other.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from typing import Protocol

log = logging.getLogger("cds_service.security")


class ReplayCacheUnavailable(RuntimeError):
    """The shared replay cache cannot answer: the token is refused (fail closed)."""


class ReplayCache(Protocol):
    def first_use(self, iss: str, jti: str, ttl_seconds: int) -> bool: ...

    def ping(self) -> None: ...


def _key(iss: str, jti: str) -> str:
    # Hash: jti and iss come from the caller; the key stays short and free of odd characters.
    return hashlib.sha256(f"{iss}\n{jti}".encode()).hexdigest()


class MemoryReplayCache:
    """Per-process cache; expired entries are dropped first, then the oldest when full."""

    def __init__(self, max_entries: int = 100_000, clock=time.monotonic):
        self.max_entries = max(1, max_entries)
        self._clock = clock
        self._entries: OrderedDict[str, float] = OrderedDict()  # key -> expiry, in insertion order
        self._lock = threading.Lock()
        self._warned = False

    def first_use(self, iss: str, jti: str, ttl_seconds: int) -> bool:
        key = _key(iss, jti)
        now = self._clock()
        with self._lock:
            expiry = self._entries.get(key)
            if expiry is not None and expiry > now:
                return False
            self._entries.pop(key, None)
            self._evict(now)
            self._entries[key] = now + max(1, ttl_seconds)
            return True

    def _evict(self, now: float) -> None:
        if len(self._entries) < self.max_entries:
            return
        for key in [k for k, expiry in self._entries.items() if expiry <= now]:
            del self._entries[key]
        while len(self._entries) >= self.max_entries:
            self._entries.popitem(last=False)
            if not self._warned:
                self._warned = True
                log.warning("JWT replay cache full: oldest ids dropped early; raise CDS_REPLAY_CACHE_SIZE or use Redis")

    def __len__(self) -> int:
        return len(self._entries)

    def ping(self) -> None:
        return None


class RedisReplayCache:
    """Shared by every replica pointing at the same Redis."""

    prefix = "nen-cds:jti:"

    def __init__(self, url: str, *, timeout: float = 0.5):
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        self._errors = (redis.RedisError, OSError)

    def first_use(self, iss: str, jti: str, ttl_seconds: int) -> bool:
        try:
            return bool(self._redis.set(self.prefix + _key(iss, jti), b"1", nx=True, ex=max(1, ttl_seconds)))
        except self._errors as exc:
            raise ReplayCacheUnavailable(type(exc).__name__) from None

    def ping(self) -> None:
        self._redis.ping()


def make_replay_cache(redis_url: str, max_entries: int) -> ReplayCache:
    if redis_url:
        return RedisReplayCache(redis_url)
    return MemoryReplayCache(max_entries)
