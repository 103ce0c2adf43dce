"""A small FHIR REST client for the prefetch fallback: pooled, parallel, time-boxed.

One ``requests.Session`` per process (connection pooling) and one bounded thread pool. Every
call has its own timeout and the whole fallback shares one budget, so the hook answers within
the spec's ~500 ms even when the FHIR server is slow; a call still running when the budget ends
finishes on its own timeout and its result is discarded. Access tokens are passed per call and
never logged or stored.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter

log = logging.getLogger(__name__)

_session_lock = threading.Lock()
_session: requests.Session | None = None
_pool: ThreadPoolExecutor | None = None


def _shared(max_workers: int) -> tuple[requests.Session, ThreadPoolExecutor]:
    global _session, _pool
    with _session_lock:
        if _session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=8, pool_maxsize=max(8, max_workers), max_retries=0)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            session.headers["Accept"] = "application/fhir+json"
            _session = session
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="fhir-fetch")
        return _session, _pool


class FhirUnavailable(Exception):
    """The FHIR server could not be reached at all (connection refused, DNS, TLS)."""


@dataclass
class QueryResult:
    key: str
    resources: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None  # why (part of) the data could not be read
    unreachable: bool = False


@dataclass
class FhirClient:
    base_url: str
    access_token: str | None = None
    timeout_seconds: float = 2.0
    budget_seconds: float = 0.45
    max_pages: int = 5
    max_workers: int = 8

    def _get(self, url: str, deadline: float) -> dict[str, Any]:
        session, _ = _shared(self.max_workers)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("time budget exhausted")
        headers = {"Authorization": f"Bearer {self.access_token}"} if self.access_token else {}
        timeout = min(self.timeout_seconds, remaining)
        try:
            response = session.get(url, headers=headers, timeout=(min(timeout, 1.0), timeout))
        except requests.exceptions.ConnectionError as exc:
            if isinstance(exc, requests.exceptions.ReadTimeout):
                raise TimeoutError("FHIR server too slow") from None
            raise FhirUnavailable(type(exc).__name__) from None
        except requests.exceptions.Timeout:
            raise TimeoutError("FHIR server too slow") from None
        if response.status_code == 404:
            return {}
        if response.status_code >= 400:
            raise RuntimeError(f"FHIR server answered HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            raise RuntimeError("FHIR server answered with something that is not JSON") from None
        if not isinstance(body, dict):
            raise RuntimeError("FHIR server answered with JSON that is not a resource")
        return body

    def _query(self, key: str, relative: str, deadline: float) -> QueryResult:
        result = QueryResult(key)
        url: str | None = urljoin(self.base_url.rstrip("/") + "/", relative)
        base = urlsplit(self.base_url)
        pages = 0
        try:
            while url and pages < self.max_pages:
                body = self._get(url, deadline)
                pages += 1
                if body.get("resourceType") == "Bundle":
                    for entry in body.get("entry") or []:
                        if isinstance(entry, Mapping) and isinstance(entry.get("resource"), dict):
                            result.resources.append(entry["resource"])
                    url = _next_link(body)
                    # Never follow a `next` link to another host: the token is for this server.
                    if url and urlsplit(url).netloc != base.netloc:
                        result.error = "next link to another host not followed"
                        url = None
                elif body:
                    result.resources.append(body)
                    url = None
                else:
                    url = None
            if url:
                result.error = f"stopped after {self.max_pages} pages"
        except FhirUnavailable:
            result.error, result.unreachable = "FHIR server unreachable", True
        except TimeoutError as exc:
            result.error = str(exc)
        except RuntimeError as exc:
            result.error = str(exc)
        return result

    def fetch_all(self, queries: Mapping[str, str]) -> dict[str, QueryResult]:
        """Run the queries in parallel within the budget; a key past the budget gets an error."""
        if not queries:
            return {}
        _, pool = _shared(self.max_workers)
        deadline = time.monotonic() + self.budget_seconds
        futures: dict[str, Future[QueryResult]] = {
            key: pool.submit(self._query, key, relative, deadline) for key, relative in queries.items()
        }
        wait(futures.values(), timeout=self.budget_seconds + 0.02, return_when=FIRST_EXCEPTION)
        results: dict[str, QueryResult] = {}
        for key, future in futures.items():
            if future.done() and future.exception() is None:
                results[key] = future.result()
            else:
                future.cancel()
                results[key] = QueryResult(key, error="not answered within the time budget")
        return results


def _next_link(bundle: Mapping[str, Any]) -> str | None:
    for link in bundle.get("link") or []:
        if isinstance(link, Mapping) and link.get("relation") == "next" and isinstance(link.get("url"), str):
            return link["url"]
    return None
