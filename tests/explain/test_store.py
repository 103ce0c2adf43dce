"""The explanation cache: bounded, expiring, the same behaviour in process and in Redis."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest

from cds_service.explain.store import MemoryStore, RedisStore, StoreUnavailable, make_store
from cds_service.settings import Settings


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_memory_store_entries_expire_after_their_ttl():
    clock = Clock()
    store = MemoryStore(10, clock)
    store.put("a", {"x": 1}, 60)
    assert store.get("a") == {"x": 1}
    clock.now += 59.9
    assert store.get("a") == {"x": 1}
    clock.now += 0.2
    assert store.get("a") is None
    assert len(store) == 0


def test_memory_store_is_bounded_and_evicts_the_least_recently_used():
    store = MemoryStore(3)
    for key in "abc":
        store.put(key, {"k": key}, 60)
    assert store.get("a") == {"k": "a"}  # a is now the most recently used
    store.put("d", {"k": "d"}, 60)
    assert store.get("b") is None
    assert [store.get(k) is not None for k in "acd"] == [True, True, True]
    assert len(store) == 3


def test_memory_store_returns_copies_and_pop_is_single_use():
    store = MemoryStore(3)
    store.put("a", {"list": [1]}, 60)
    first = store.get("a")
    first["list"].append(2)
    assert store.get("a") == {"list": [1]}
    assert store.pop("a") == {"list": [1]}
    assert store.pop("a") is None


def test_settings_choose_the_store():
    assert isinstance(make_store(Settings()), MemoryStore)
    assert make_store(Settings(extra={"EXPLAIN_CACHE_ENTRIES": 7})).max_entries == 7
    assert isinstance(make_store(Settings(redis_url="redis://127.0.0.1:1/0")), RedisStore)


def test_an_unreachable_redis_is_reported_not_raised_as_a_crash():
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    store = RedisStore(f"redis://127.0.0.1:{port}/0")
    with pytest.raises(StoreUnavailable):
        store.put("a", {"x": 1}, 60)
    with pytest.raises(StoreUnavailable):
        store.get("a")


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (CI installs it in .ci/run)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            pytest.fail("redis-server did not start")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.services
def test_redis_store_round_trip_expiry_and_single_use_pop(redis_url):
    store = RedisStore(redis_url)
    store.put("a", {"x": [1, "é"]}, 60)
    assert store.get("a") == {"x": [1, "é"]}
    assert store.pop("a") == {"x": [1, "é"]}
    assert store.pop("a") is None
    store.put("b", {"x": 1}, 1)
    time.sleep(1.3)
    assert store.get("b") is None
