"""Signed, short-lived links to one cached explanation.

A token is ``<key>.<expires>.<signature>``: ``key`` is a random, opaque cache key (it names one
evaluation of one patient and says nothing about the patient), ``expires`` the Unix time after
which the link is dead, and ``signature`` an HMAC-SHA256 over both with the service's secret
(``EXPLAIN_SECRET``, else a random key made when the process starts). No patient data, not even
the patient id, is ever part of the URL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

MAX_LIFETIME_SECONDS = 3600  # links live minutes, never days, whatever the setting says
_TOKEN = re.compile(r"^([A-Za-z0-9_-]{16,64})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})$")


class InvalidToken(Exception):
    """Not a token this service signed (tampered, truncated, or from another key)."""


class ExpiredToken(Exception):
    """A genuine token whose lifetime is over."""


@dataclass(frozen=True)
class Claims:
    key: str
    expires: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


class TokenSigner:
    def __init__(self, secret: str | bytes | None, lifetime_seconds: int, clock: Callable[[], float] = time.time):
        if isinstance(secret, str):
            secret = secret.encode("utf-8")
        self.random_key = not secret
        self._secret = secret or secrets.token_bytes(32)
        self.lifetime = max(1, min(int(lifetime_seconds), MAX_LIFETIME_SECONDS))
        self._clock = clock

    @staticmethod
    def new_key() -> str:
        return secrets.token_urlsafe(18)

    def _signature(self, key: str, expires: int) -> str:
        mac = hmac.new(self._secret, f"nen-explain.v1.{key}.{expires}".encode("ascii"), hashlib.sha256)
        return _b64(mac.digest())

    def sign(self, key: str) -> tuple[str, int]:
        """The token for ``key`` and its expiry (Unix seconds)."""
        expires = int(self._clock()) + self.lifetime
        return f"{key}.{expires}.{self._signature(key, expires)}", expires

    def verify(self, token: str) -> Claims:
        match = _TOKEN.match(token or "")
        if match is None:
            raise InvalidToken("malformed")
        key, expires_text, signature = match.groups()
        expires = int(expires_text)
        if not hmac.compare_digest(signature, self._signature(key, expires)):
            raise InvalidToken("bad signature")
        if self._clock() >= expires:
            raise ExpiredToken("expired")
        return Claims(key, expires)
