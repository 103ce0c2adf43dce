"""JWT authentication of CDS Clients on every ``/cds-services...`` call (CDS Hooks "Trusting CDS Clients").

``init_app`` installs a ``before_request`` that verifies ``Authorization: Bearer <JWT>`` for
discovery, hook calls, feedback and the feedback summary. Exempt: CORS preflight (OPTIONS),
``/healthz``, ``/readyz``, ``/fhir/...`` (published knowledge, no PHI) and ``/explain...`` (its own
signed link). Any failure answers 401 with an OperationOutcome saying only "unauthorized" and
``WWW-Authenticate: Bearer``; the reason is logged at INFO with the token's ``iss``/``jti`` only.

``aud`` must be the exact URL invoked: ``CDS_PUBLIC_BASE_URL`` + path when set (behind a proxy or
TLS terminator), else the URL the request reached. With ``CDS_AUTH=off`` nothing is checked (a
warning is logged by ``create_app``; ``cds_service.wsgi`` refuses that unless CDS_ALLOW_INSECURE=1).
"""

from __future__ import annotations

import logging

from flask import Flask, Response, g, request

from cds_service.api import request_log
from cds_service.api.errors import Unauthorized
from cds_service.security.jwt_verify import TokenRejected, TokenVerifier
from cds_service.security.keys import KeySources
from cds_service.security.replay import make_replay_cache
from cds_service.security.trust import build_policies
from cds_service.settings import Settings

log = logging.getLogger("cds_service.security")

PROTECTED_ROOT = "/cds-services"


def is_protected(path: str, method: str) -> bool:
    if method == "OPTIONS":
        return False
    normalized = "/" + path.lstrip("/")
    return normalized == PROTECTED_ROOT or normalized.startswith(PROTECTED_ROOT + "/")


def expected_audience(settings: Settings) -> str:
    base = settings.cds_public_base_url.rstrip("/")
    return base + request.path if base else request.base_url


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        return None
    return token


def build_verifier(settings: Settings) -> TokenVerifier:
    sources = KeySources(
        ttl=settings.cds_jwks_cache_seconds,
        min_refetch=settings.cds_jwks_refetch_min_seconds,
        timeout=settings.cds_jwks_timeout_seconds,
    )
    policies = build_policies(settings, sources)
    if not policies:
        log.error(
            "JWT verification is on but no issuer is trusted (CDS_TRUSTED_ISSUERS / CDS_ISSUER_CONFIG): "
            "every /cds-services call will be refused"
        )
    return TokenVerifier(
        policies,
        make_replay_cache(settings.redis_url, settings.cds_replay_cache_size),
        clock_skew=settings.cds_clock_skew_seconds,
        max_lifetime=settings.cds_max_token_lifetime_seconds,
    )


def init_app(app: Flask, settings: Settings) -> None:
    request_log.init_app(app)
    if not settings.auth_enabled:
        return
    verifier = build_verifier(settings)
    app.extensions["nen_auth"] = verifier
    if settings.redis_url:
        app.extensions["nen_ready_checks"]["replay_cache"] = verifier.replay.ping

    @app.before_request
    def require_client_jwt() -> None:
        if not is_protected(request.path, request.method):
            return
        token = bearer_token()
        try:
            if token is None:
                raise TokenRejected("no bearer token")
            g.cds_client = verifier.verify(token, expected_audience(settings))
        except TokenRejected as exc:
            log.info(
                "JWT rejected",
                extra={"reason": exc.reason, "iss": exc.iss, "jti": exc.jti, "method": request.method},
            )
            raise Unauthorized("unauthorized") from None

    @app.after_request
    def bearer_challenge(response: Response) -> Response:
        if response.status_code == 401 and is_protected(request.path, request.method):
            response.headers["WWW-Authenticate"] = "Bearer"
        return response
