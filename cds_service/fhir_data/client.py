"""A small FHIR REST client for the prefetch fallback: pooled, parallel, time-boxed.

One ``requests.Session`` per process (connection pooling) and one thread pool. All the queries of
one hook run at once and share one budget, so the hook answers within the spec's ~500 ms even when
the FHIR server is slow. Each HTTP call is bounded by what is left of the budget (connect, each read
and the whole body), so a fetch thread is free again shortly after the budget ends.

What the token may reach: only the FHIR server it was issued for. A URL (a ``next`` link, a
prefetch continuation) on another origin is not requested, redirects are not followed, cookies are
never kept, and ``.netrc`` credentials are never added. Tokens are passed per call and never logged;
error texts name the problem, never a URL (it holds the patient id) or a header.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from http.cookiejar import DefaultCookiePolicy
from typing import Any
from urllib.parse import urljoin, urlsplit

import orjson
import requests
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase

log = logging.getLogger(__name__)

THREAD_PREFIX = "fhir-fetch"
USER_AGENT = "nen-cds-fhir-client/1"

_session_lock = threading.Lock()
_session: requests.Session | None = None
_pool: ThreadPoolExecutor | None = None
_pool_size = 0


def _session_for_calls() -> requests.Session:
    global _session
    with _session_lock:
        if _session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=8, pool_maxsize=32, max_retries=0)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            session.headers["Accept"] = "application/fhir+json"
            session.headers["User-Agent"] = USER_AGENT
            # No state between calls: a cookie set for one user's token must never serve another's.
            session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
            _session = session
        return _session


def _submit_all(tasks: Mapping[str, tuple[Any, ...]], workers: int) -> dict[str, Future[QueryResult]]:
    """Submit ``fn(*args)`` per key to the process-wide pool, grown (never shrunk) to ``workers``."""
    global _pool, _pool_size
    with _session_lock:
        if _pool is None or workers > _pool_size:
            old = _pool
            _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=THREAD_PREFIX)
            _pool_size = workers
            if old is not None:
                old.shutdown(wait=False)  # its running calls end on their own deadline
        return {key: _pool.submit(*task) for key, task in tasks.items()}


class _Bearer(AuthBase):
    """Sets the Authorization header (or none); as an explicit auth it also keeps .netrc out."""

    def __init__(self, token: str | None):
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers.pop("Authorization", None)
        if self._token:
            request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:  # never show the token
        return "_Bearer(<redacted>)"


class FhirUnavailable(Exception):
    """The FHIR server could not be reached at all (connection refused, DNS, TLS, dropped)."""


class FhirAccessDenied(Exception):
    """The FHIR server refused the access token (HTTP 401 or 403)."""


class FhirError(Exception):
    """The FHIR server answered, but not with data the service can use."""


@dataclass
class QueryResult:
    key: str
    resources: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None  # why (part of) the data could not be read; no URL, no PHI
    unreachable: bool = False  # the server could not be reached
    denied: bool = False  # the server refused the token

    @property
    def inaccessible(self) -> bool:
        """The FHIR server could not be accessed for this query (spec: then 412, if nothing else)."""
        return self.unreachable or self.denied


def same_origin(url: str, base: str) -> bool:
    """Scheme, host and port equal (default ports filled in): where a token may be sent."""

    def origin(u: str) -> tuple[str, str, int | None]:
        parts = urlsplit(u)
        scheme = parts.scheme.lower()
        try:
            port = parts.port or {"http": 80, "https": 443}.get(scheme)
        except ValueError:
            port = -1
        return scheme, (parts.hostname or "").lower(), port

    return origin(url) == origin(base)


def _is_read(relative: str) -> bool:
    """``Type/id`` (a FHIR read) rather than a search: a 404 then means 'no such resource'."""
    if "?" in relative or "://" in relative:
        return False
    parts = [p for p in relative.split("/") if p]
    return len(parts) == 2 and not parts[1].startswith("_")


def outcome_reports_error(resource: Mapping[str, Any]) -> bool:
    """An OperationOutcome that reports a failure (error/fatal, or severity not stated)."""
    issues = resource.get("issue")
    if not isinstance(issues, list) or not issues:
        return True
    return any(not isinstance(i, Mapping) or i.get("severity") not in ("information", "warning") for i in issues)


@dataclass
class FhirClient:
    base_url: str
    access_token: str | None = None
    timeout_seconds: float = 2.0
    budget_seconds: float = 0.45
    max_pages: int = 5
    max_workers: int = 8
    max_response_bytes: int = 20 * 1024 * 1024

    def __repr__(self) -> str:  # the dataclass repr would show the token
        return f"FhirClient(base_url={self.base_url!r}, budget_seconds={self.budget_seconds})"

    def _get(self, url: str, deadline: float, *, read: bool = False) -> dict[str, Any] | None:
        """One GET; None when a read (not a search) finds nothing (404/410). Raises on anything unusable."""
        session = _session_for_calls()
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("not answered within the time budget")
        timeout = min(self.timeout_seconds, remaining)
        try:
            response = session.get(
                url,
                auth=_Bearer(self.access_token),
                timeout=(min(timeout, 1.0), timeout),
                allow_redirects=False,
                stream=True,
            )
        except requests.exceptions.Timeout:
            raise TimeoutError("the FHIR server did not answer in time") from None
        except requests.exceptions.ConnectionError as exc:
            raise FhirUnavailable(type(exc).__name__) from None
        except requests.exceptions.RequestException as exc:
            raise FhirError(f"request failed ({type(exc).__name__})") from None
        with response:
            status = response.status_code
            if status in (401, 403):
                raise FhirAccessDenied(f"the FHIR server refused access (HTTP {status})")
            if status in (404, 410) and read:
                return None
            if 300 <= status < 400:
                raise FhirError(f"the FHIR server answered with a redirect (HTTP {status}), not followed")
            if status >= 400:
                raise FhirError(f"the FHIR server answered HTTP {status}")
            body = self._read_body(response, deadline)
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise FhirError("the FHIR server answered with something that is not JSON") from None
        if not isinstance(parsed, dict) or not isinstance(parsed.get("resourceType"), str):
            raise FhirError("the FHIR server answered with JSON that is not a FHIR resource")
        return parsed

    def _read_body(self, response: requests.Response, deadline: float) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_response_bytes:
            raise FhirError("the FHIR server's answer is too large")
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(chunk_size=64 * 1024):
                size += len(chunk)
                if size > self.max_response_bytes:
                    raise FhirError("the FHIR server's answer is too large")
                if time.monotonic() > deadline:
                    raise TimeoutError("the FHIR server did not answer in time")
                chunks.append(chunk)
        except requests.exceptions.Timeout:
            raise TimeoutError("the FHIR server did not answer in time") from None
        except requests.exceptions.RequestException as exc:
            # A dropped or garbled transfer: the server answered, the body is unusable.
            raise FhirError(f"the FHIR server's answer broke off ({type(exc).__name__})") from None
        return b"".join(chunks)

    def _query(self, key: str, relative: str, deadline: float) -> QueryResult:
        result = QueryResult(key)
        try:
            self._run(result, relative, deadline)
        except FhirUnavailable:
            result.error, result.unreachable = "the FHIR server could not be reached", True
        except FhirAccessDenied as exc:
            result.error, result.denied = str(exc), True
        except (TimeoutError, FhirError) as exc:
            result.error = str(exc)
        except Exception as exc:  # never let one query take the others (or the hook) down
            log.warning("fhir query failed", extra={"error": type(exc).__name__})
            result.error = "the FHIR server's answer could not be processed"
        return result

    def _run(self, result: QueryResult, relative: str, deadline: float) -> None:
        base = self.base_url.rstrip("/") + "/"
        url: str | None = urljoin(base, relative)
        seen: set[str] = set()
        pages = 0
        while url:
            if not same_origin(url, base):
                result.error = "a link to another server was not followed (the access token stays with its server)"
                return
            if url in seen:
                return  # a server that links a page to itself: the data is complete
            if pages >= self.max_pages:
                result.error = f"more than {self.max_pages} pages: only the first {self.max_pages} were read"
                return
            seen.add(url)
            body = self._get(url, deadline, read=pages == 0 and _is_read(relative))
            pages += 1
            if body is None:
                return
            if body.get("resourceType") == "OperationOutcome":
                if outcome_reports_error(body):
                    raise FhirError("the FHIR server reported an error for this data")
                return
            if body.get("resourceType") != "Bundle":
                result.resources.append(body)
                return
            entries = body.get("entry", [])
            if not isinstance(entries, list):
                raise FhirError("the FHIR server answered with a Bundle that is not valid")
            for entry in entries:
                resource = entry.get("resource") if isinstance(entry, Mapping) else None
                if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
                    result.error = "part of the FHIR server's answer is not a FHIR resource"
                    continue
                if resource["resourceType"] == "OperationOutcome":
                    if outcome_reports_error(resource):
                        result.error = "the FHIR server reported an error for part of this data"
                    continue
                result.resources.append(resource)
            next_url = next_link(body)
            url = urljoin(url, next_url) if next_url else None

    def fetch_all(self, queries: Mapping[str, str]) -> dict[str, QueryResult]:
        """Run all queries at once within the budget; a key past the budget gets an error.

        A query is a URL relative to ``base_url`` (or an absolute URL on the same server).
        """
        if not queries:
            return {}
        deadline = time.monotonic() + self.budget_seconds
        # All of one hook's queries run at once: their number is fixed by the service's prefetch
        # templates, so the pool never needs more than max(max_workers, templates) threads.
        tasks = {key: (self._query, key, query, deadline) for key, query in queries.items()}
        futures = _submit_all(tasks, max(self.max_workers, len(queries)))
        wait(futures.values(), timeout=self.budget_seconds + 0.05)
        results: dict[str, QueryResult] = {}
        for key, future in futures.items():
            if future.done() and not future.cancelled() and future.exception() is None:
                results[key] = future.result()
            else:
                future.cancel()
                results[key] = QueryResult(key, error="not answered within the time budget")
        return results


def next_link(bundle: Mapping[str, Any]) -> str | None:
    links = bundle.get("link")
    for link in links if isinstance(links, list) else []:
        if isinstance(link, Mapping) and link.get("relation") == "next" and isinstance(link.get("url"), str):
            return link["url"]
    return None
