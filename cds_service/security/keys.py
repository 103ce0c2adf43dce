"""Public keys of trusted CDS Clients: pinned JWKS files and JWKS URLs with a rotating cache.

Only the public members of a JWK are ever used (a JWKS that carries a private key by mistake
still verifies with the public half). A key is usable for a token only when its type fits the
token's algorithm: EC P-384 for ES384, RSA of 2048 bits or more for RS384/PS384. A JWK that states
``alg`` must state the token's ``alg``; one whose ``use`` is not ``sig`` is ignored.

URL key sets are fetched with ``requests`` (short timeout, no redirects, size-capped), cached for
``ttl`` seconds, refetched early at most once per ``min_refetch`` seconds when a token names an
unknown ``kid`` (key rotation), and the last good set is kept if a refetch fails.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import requests
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

log = logging.getLogger("cds_service.security")

MAX_JWKS_BYTES = 256 * 1024
MIN_RSA_BITS = 2048
_PUBLIC_MEMBERS = ("kty", "kid", "alg", "use", "crv", "x", "y", "n", "e")


class KeyProblem(Exception):
    """Base for key problems met while verifying a token."""


class KeyFetchError(KeyProblem):
    """A JWKS URL could not be fetched or parsed and no earlier copy is cached."""


class KeyRejected(KeyProblem):
    """The JWK does not fit the token's algorithm."""


class ConfigurationError(ValueError):
    """Trust configuration that cannot work (raised at start-up, never per request)."""


def parse_jwks(document: object, *, where: str) -> dict[str, dict[str, Any]]:
    """``{"keys": [...]}`` -> {kid: public JWK}. Keys without kid, or not for signatures, are skipped."""
    if not isinstance(document, Mapping) or not isinstance(document.get("keys"), list):
        raise ValueError(f"{where}: not a JWK Set (an object with a 'keys' array)")
    keys: dict[str, dict[str, Any]] = {}
    for jwk in document["keys"]:
        if not isinstance(jwk, Mapping) or jwk.get("kty") not in ("EC", "RSA"):
            continue  # symmetric ("oct") and other key types are never trusted
        kid = jwk.get("kid")
        if not isinstance(kid, str) or not kid or jwk.get("use", "sig") != "sig":
            continue
        keys[kid] = {k: jwk[k] for k in _PUBLIC_MEMBERS if k in jwk}
    return keys


def public_key(jwk: Mapping[str, Any], alg: str) -> Any:
    """The cryptography public key of ``jwk`` for a token signed with ``alg``, or KeyRejected."""
    if "alg" in jwk and jwk["alg"] != alg:
        raise KeyRejected(f"key is for {jwk['alg']}, token uses {alg}")
    try:
        if alg == "ES384":
            if jwk.get("kty") != "EC" or jwk.get("crv") != "P-384":
                raise KeyRejected("ES384 needs an EC P-384 key")
            key = ECAlgorithm.from_jwk(dict(jwk))
            if not isinstance(key, ec.EllipticCurvePublicKey):
                raise KeyRejected("not an EC public key")
            return key
        if alg in ("RS384", "PS384"):
            if jwk.get("kty") != "RSA":
                raise KeyRejected(f"{alg} needs an RSA key")
            key = RSAAlgorithm.from_jwk(dict(jwk))
            if not isinstance(key, rsa.RSAPublicKey):
                raise KeyRejected("not an RSA public key")
            if key.key_size < MIN_RSA_BITS:
                raise KeyRejected(f"RSA key under {MIN_RSA_BITS} bits")
            return key
    except KeyRejected:
        raise
    except Exception as exc:  # malformed coordinates, modulus etc.
        raise KeyRejected(f"unusable JWK: {type(exc).__name__}") from None
    raise KeyRejected(f"algorithm {alg} not supported")


class FileKeySource:
    """A pinned JWKS file, read at start-up (errors stop the start) and re-read when it changes."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self.description = f"file {self.path}"
        self._lock = threading.Lock()
        self._mtime = -1.0
        self._keys: dict[str, dict[str, Any]] = {}
        try:
            self._load()
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"JWKS file {self.path}: {exc}") from None

    def _load(self) -> None:
        mtime = self.path.stat().st_mtime
        if mtime == self._mtime:
            return
        keys = parse_jwks(json.loads(self.path.read_text(encoding="utf-8")), where=str(self.path))
        self._keys, self._mtime = keys, mtime

    def key_set(self, *, refresh: bool = False) -> dict[str, dict[str, Any]]:
        with self._lock:
            try:
                self._load()
            except (OSError, ValueError) as exc:  # keep the last good copy while a file is being replaced
                log.warning("pinned JWKS unreadable, keeping the last copy", extra={"error": type(exc).__name__})
        return self._keys


class UrlKeySource:
    """A JWKS URL with a TTL cache and a rate-limited refetch for unknown key ids."""

    def __init__(
        self,
        url: str,
        *,
        ttl: float = 3600,
        min_refetch: float = 30,
        timeout: float = 3.0,
        session: requests.Session | None = None,
    ):
        self.url = url
        self.description = f"url {url}"
        self.ttl = ttl
        self.min_refetch = min_refetch
        self.timeout = timeout
        self._session = session or requests.Session()
        self._lock = threading.Lock()
        self._keys: dict[str, dict[str, Any]] | None = None
        self._fetched_at = 0.0  # last successful fetch (monotonic)
        self._attempted_at = -float("inf")  # last attempt, successful or not
        self.fetch_count = 0

    def key_set(self, *, refresh: bool = False) -> dict[str, dict[str, Any]]:
        with self._lock:
            now = time.monotonic()
            stale = self._keys is None or now - self._fetched_at >= self.ttl
            if (stale or refresh) and now - self._attempted_at >= self.min_refetch:
                self._fetch(now)
            if self._keys is None:
                raise KeyFetchError(f"no keys from {self.url}")
            return self._keys

    def _fetch(self, now: float) -> None:
        self._attempted_at = now
        self.fetch_count += 1
        try:
            response = self._session.get(
                self.url,
                timeout=self.timeout,
                allow_redirects=False,
                headers={"Accept": "application/json, application/jwk-set+json"},
                stream=True,
            )
            with response:
                if response.status_code != 200:
                    raise KeyFetchError(f"HTTP {response.status_code}")
                raw = response.raw.read(MAX_JWKS_BYTES + 1, decode_content=True)
            if len(raw) > MAX_JWKS_BYTES:
                raise KeyFetchError("JWKS too large")
            keys = parse_jwks(json.loads(raw), where=self.url)
        except (requests.RequestException, ValueError, KeyFetchError) as exc:
            log.warning(
                "JWKS fetch failed",
                extra={"reason": f"{self.url}: {type(exc).__name__}", "error": type(exc).__name__},
            )
            return  # keep the last good set, if any
        self._keys, self._fetched_at = keys, now


class KeySources:
    """One UrlKeySource per URL, shared by every issuer that names it (one cache, one rate limit)."""

    def __init__(self, *, ttl: float, min_refetch: float, timeout: float):
        self._options = {"ttl": ttl, "min_refetch": min_refetch, "timeout": timeout}
        self._session = requests.Session()
        self._urls: dict[str, UrlKeySource] = {}
        self._files: dict[Path, FileKeySource] = {}
        self._lock = threading.Lock()

    def url(self, url: str) -> UrlKeySource:
        with self._lock:
            source = self._urls.get(url)
            if source is None:
                source = self._urls[url] = UrlKeySource(url, session=self._session, **self._options)
            return source

    def file(self, path: str | os.PathLike[str]) -> FileKeySource:
        resolved = Path(path).resolve()
        with self._lock:
            source = self._files.get(resolved)
            if source is None:
                source = self._files[resolved] = FileKeySource(resolved)
            return source
