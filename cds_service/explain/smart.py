"""SMART App Launch (EHR launch) for the explanation page: discovery, authorize, token exchange.

The EHR opens ``/explain/smart/launch?iss=<FHIR base>&launch=<opaque>``. The service accepts only
``iss`` values it was configured with (``SMART_ISSUERS``: it will not fetch from a URL a link
handed it), reads ``<iss>/.well-known/smart-configuration``, and sends the browser to the EHR's
authorize endpoint with ``launch``, ``aud`` and a PKCE challenge. The EHR redirects back with a
code; the service exchanges it for an access token (never logged, never stored), reads the
patient's data with the prefetch queries of the patient-view service, evaluates and shows the
explanation page. Plain ``requests``: nothing here depends on an EHR vendor's SDK.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests

TIMEOUT_SECONDS = 5.0


class SmartError(Exception):
    """A launch that cannot go on; ``message`` is safe to show the user (no token, no PHI)."""

    def __init__(self, message: str, status: int = 502):
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class SmartEndpoints:
    authorize: str
    token: str


def normalize_iss(iss: str) -> str:
    return iss.strip().rstrip("/")


def _http_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def discover(iss: str, timeout: float = TIMEOUT_SECONDS) -> SmartEndpoints:
    url = normalize_iss(iss) + "/.well-known/smart-configuration"
    try:
        response = requests.get(url, headers={"Accept": "application/json"}, timeout=timeout)
    except requests.RequestException:
        raise SmartError("The EHR's SMART configuration could not be reached.") from None
    if response.status_code != 200:
        raise SmartError(f"The EHR's SMART configuration answered HTTP {response.status_code}.")
    try:
        config = response.json()
    except ValueError:
        raise SmartError("The EHR's SMART configuration is not JSON.") from None
    if not isinstance(config, dict):
        raise SmartError("The EHR's SMART configuration is not a JSON object.")
    authorize, token = config.get("authorization_endpoint"), config.get("token_endpoint")
    if not (_http_url(authorize) and _http_url(token)):
        raise SmartError("The EHR's SMART configuration names no authorization and token endpoints.")
    return SmartEndpoints(authorize, token)


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def authorize_url(
    endpoints: SmartEndpoints,
    *,
    client_id: str,
    redirect_uri: str,
    scope: str,
    state: str,
    launch: str,
    aud: str,
    code_challenge: str,
) -> str:
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "launch": launch,
            "scope": scope,
            "state": state,
            "aud": aud,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
    )
    separator = "&" if urlsplit(endpoints.authorize).query else "?"
    return f"{endpoints.authorize}{separator}{query}"


def exchange_code(
    token_endpoint: str,
    *,
    code: str,
    redirect_uri: str,
    client_id: str,
    client_secret: str,
    code_verifier: str,
    timeout: float = TIMEOUT_SECONDS,
) -> dict[str, Any]:
    """The token response: ``access_token`` and ``patient`` are required for this page."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": code_verifier,
    }
    auth = None
    if client_secret:  # confidential client: HTTP Basic (SMART "client-confidential-symmetric")
        auth = (client_id, client_secret)
    else:
        form["client_id"] = client_id
    try:
        response = requests.post(
            token_endpoint, data=form, auth=auth, headers={"Accept": "application/json"}, timeout=timeout
        )
    except requests.RequestException:
        raise SmartError("The EHR's token endpoint could not be reached.") from None
    if response.status_code != 200:
        raise SmartError(f"The EHR refused the authorization code (HTTP {response.status_code}).")
    try:
        body = response.json()
    except ValueError:
        raise SmartError("The EHR's token endpoint did not answer JSON.") from None
    if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
        raise SmartError("The EHR's token response has no access token.")
    if not isinstance(body.get("patient"), str) or not body["patient"]:
        raise SmartError("The EHR did not say which patient is open (no patient in the launch context).")
    return body
