"""Typed settings, read once from the environment and overridable by ``create_app(config)``."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def _bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def _list(value: object) -> tuple[str, ...]:
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    return tuple(v.strip() for v in str(value).split(",") if v.strip())


@dataclass(frozen=True)
class Settings:
    """Every knob of the service. Environment variable = field name upper-cased."""

    cds_auth: str = "on"  # "on" verifies the EHR's JWT; "off" only for local demos
    cds_trusted_issuers: tuple[str, ...] = ()  # allowed `iss` values
    cds_jwks_file: str = ""  # pinned JWKS (JSON file) trusted for every issuer
    cds_jwks_url: str = ""  # JWKS URL trusted for every issuer
    cds_jku_allowlist: tuple[str, ...] = ()  # `jku` header values that may be fetched
    cds_issuer_config: str = ""  # JSON file: {"iss": {"jwks_file"|"jwks_url"|"jku": ...}}
    cds_clock_skew_seconds: int = 60
    cds_public_base_url: str = ""  # the URL EHRs call (for `aud` behind a proxy); else request URL
    database_url: str = ""  # SQLAlchemy URL for feedback; empty -> SQLite in a temp folder
    redis_url: str = ""  # JWT replay cache + explanation cache shared by replicas
    max_body_bytes: int = 5 * 1024 * 1024
    fhir_timeout_seconds: float = 2.0  # per FHIR call
    fhir_budget_seconds: float = 0.45  # all FHIR fallback calls of one hook together
    fhir_max_pages: int = 5  # `next` links followed per query
    fhir_max_workers: int = 8
    guideline_url: str = "https://doi.org/10.1530/ERC-22-0206"
    explain_token_seconds: int = 600  # lifetime of an explanation-page link
    explain_secret: str = ""  # HMAC key for explanation links; empty -> random per process
    demo_data: bool = False  # serve the demo patients under /demo/ (pages, requests, FHIR search)
    log_level: str = "INFO"
    # JWT key handling (cds_service.security): JWKS cache lifetime, the shortest interval between two
    # refetches of one JWKS URL (unknown `kid`), HTTP timeout, replay-cache bound, longest token accepted.
    cds_jwks_cache_seconds: int = 3600
    cds_jwks_refetch_min_seconds: int = 30
    cds_jwks_timeout_seconds: float = 3.0
    cds_replay_cache_size: int = 100_000
    cds_max_token_lifetime_seconds: int = 3600  # `exp` further ahead than this is refused; 0 = no limit
    # Feedback (cds_service.hooks.feedback): request size limit and the issued-card buffer bound.
    feedback_max_body_bytes: int = 1024 * 1024
    feedback_queue_size: int = 10_000
    # SMART on FHIR launch of the explanation page (cds_service.explain): link type "smart" on cards
    # when a client id is set; `iss` values the launch accepts (exact FHIR base URLs; none -> refused).
    smart_client_id: str = ""
    smart_client_secret: str = ""  # empty -> public client (PKCE only)
    smart_redirect_url: str = ""  # empty -> <service base>/explain/smart/callback
    smart_scope: str = "launch patient/*.read"
    smart_issuers: tuple[str, ...] = ()
    extra: Mapping[str, object] = field(default_factory=dict)

    @property
    def auth_enabled(self) -> bool:
        return self.cds_auth.strip().lower() != "off"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{Path(tempfile.gettempdir()) / 'nen-cds-feedback.sqlite3'}"

    @classmethod
    def load(cls, overrides: Mapping[str, object] | None = None) -> Settings:
        """Environment first, then ``overrides`` (keys in either case)."""
        values: dict[str, object] = {}
        known = {f.name: f for f in fields(cls) if f.name != "extra"}
        source: dict[str, object] = {k.lower(): v for k, v in os.environ.items() if k.lower() in known}
        extra: dict[str, object] = {}
        for key, value in (overrides or {}).items():
            if key.lower() in known:
                source[key.lower()] = value
            else:
                extra[key] = value
        for name, value in source.items():
            default = known[name].default
            if isinstance(default, bool):
                values[name] = _bool(value)
            elif isinstance(default, int):
                values[name] = int(value)  # type: ignore[arg-type]
            elif isinstance(default, float):
                values[name] = float(value)  # type: ignore[arg-type]
            elif isinstance(default, tuple):
                values[name] = _list(value)
            else:
                values[name] = str(value)
        return cls(**values, extra=extra)  # type: ignore[arg-type]
