"""Which CDS Clients are trusted, and where each one's public keys come from.

Sources, all optional and combinable:

- ``CDS_TRUSTED_ISSUERS``: allowed ``iss`` values; each may use the global key sources below.
- ``CDS_JWKS_FILE`` / ``CDS_JWKS_URL``: a pinned JWKS (file or URL) trusted for every issuer.
- ``CDS_JKU_ALLOWLIST``: ``jku`` header values that may be fetched, for every issuer.
- ``CDS_ISSUER_CONFIG``: a JSON file ``{iss: {...}}``; each issuer listed there is trusted with::

      "jwks_file": "path"               pinned JWKS (relative to the config file's folder)
      "jwks_url": "https://..."          JWKS URL (out-of-band agreement)
      "jku_allowlist": ["https://..."]   jku header values allowed for this issuer ("jku" also accepted)
      "algorithms": ["ES384"]            optional subset of ES384, RS384, PS384
      "tenants": ["..."]                 optional: the `tenant` claim must be one of these

  Keys starting with "_" (at either level) are comments and ignored.

A token's ``jku`` is fetched only when that exact URL is allow-listed for the token's issuer. A
token whose ``jku`` is not allow-listed is still accepted when it verifies against the issuer's
pinned keys (file or URL): the untrusted URL is simply never contacted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cds_service.security.keys import ConfigurationError, FileKeySource, KeySources, UrlKeySource
from cds_service.settings import Settings

ALLOWED_ALGORITHMS = frozenset({"ES384", "RS384", "PS384"})

KeySource = FileKeySource | UrlKeySource


@dataclass(frozen=True)
class IssuerPolicy:
    iss: str
    pinned: tuple[KeySource, ...] = ()  # JWKS files and URLs agreed out of band
    jku_allowlist: frozenset[str] = frozenset()
    algorithms: frozenset[str] = ALLOWED_ALGORITHMS
    tenants: frozenset[str] | None = None  # None: any tenant (or none)
    _sources: KeySources | None = field(default=None, compare=False, repr=False)

    def jku_source(self, jku: str) -> UrlKeySource | None:
        if jku in self.jku_allowlist and self._sources is not None:
            return self._sources.url(jku)
        return None


def _strings(value: object, *, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,) if value.strip() else ()
    if isinstance(value, Iterable) and all(isinstance(v, str) for v in value):
        return tuple(v for v in value if v.strip())
    raise ConfigurationError(f"{where}: expected a string or a list of strings")


def load_issuer_file(path: str) -> dict[str, dict[str, Any]]:
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"CDS_ISSUER_CONFIG {path}: {exc}") from None
    if not isinstance(document, Mapping):
        raise ConfigurationError(f"CDS_ISSUER_CONFIG {path}: expected a JSON object keyed by issuer")
    issuers: dict[str, dict[str, Any]] = {}
    for iss, entry in document.items():
        if iss.startswith("_"):
            continue
        if not isinstance(entry, Mapping):
            raise ConfigurationError(f"CDS_ISSUER_CONFIG {path}: entry for {iss!r} must be an object")
        issuers[iss] = {k: v for k, v in entry.items() if not k.startswith("_")}
    return issuers


_ENTRY_KEYS = {"jwks_file", "jwks_url", "jku_allowlist", "jku", "algorithms", "tenants"}


def build_policies(settings: Settings, sources: KeySources) -> dict[str, IssuerPolicy]:
    """Every trusted issuer with its key sources; ConfigurationError when a setting cannot work."""
    global_pinned: list[KeySource] = []
    if settings.cds_jwks_file:
        global_pinned.append(sources.file(settings.cds_jwks_file))
    if settings.cds_jwks_url:
        global_pinned.append(sources.url(settings.cds_jwks_url))
    global_jku = frozenset(settings.cds_jku_allowlist)

    entries: dict[str, dict[str, Any]] = {iss: {} for iss in settings.cds_trusted_issuers}
    base = Path(".")
    if settings.cds_issuer_config:
        base = Path(settings.cds_issuer_config).resolve().parent
        for iss, entry in load_issuer_file(settings.cds_issuer_config).items():
            entries.setdefault(iss, {}).update(entry)

    policies: dict[str, IssuerPolicy] = {}
    for iss, entry in entries.items():
        where = f"issuer {iss!r}"
        unknown = set(entry) - _ENTRY_KEYS
        if unknown:
            raise ConfigurationError(f"{where}: unknown setting(s) {sorted(unknown)}")
        pinned = list(global_pinned)
        for file_name in _strings(entry.get("jwks_file"), where=f"{where}.jwks_file"):
            pinned.append(sources.file(base / file_name))
        for url in _strings(entry.get("jwks_url"), where=f"{where}.jwks_url"):
            pinned.append(sources.url(url))
        jku = global_jku | frozenset(_strings(entry.get("jku_allowlist"), where=f"{where}.jku_allowlist"))
        jku |= frozenset(_strings(entry.get("jku"), where=f"{where}.jku"))
        algorithms = frozenset(_strings(entry.get("algorithms"), where=f"{where}.algorithms")) or ALLOWED_ALGORITHMS
        if not algorithms <= ALLOWED_ALGORITHMS:
            raise ConfigurationError(
                f"{where}: algorithms {sorted(algorithms - ALLOWED_ALGORITHMS)} not allowed "
                f"(only {sorted(ALLOWED_ALGORITHMS)})"
            )
        tenants = _strings(entry.get("tenants"), where=f"{where}.tenants")
        if not pinned and not jku:
            raise ConfigurationError(
                f"{where}: no key source (set CDS_JWKS_FILE, CDS_JWKS_URL, CDS_JKU_ALLOWLIST or a "
                "jwks_file / jwks_url / jku_allowlist in CDS_ISSUER_CONFIG)"
            )
        policies[iss] = IssuerPolicy(
            iss=iss,
            pinned=tuple(pinned),
            jku_allowlist=jku,
            algorithms=algorithms,
            tenants=frozenset(tenants) if tenants else None,
            _sources=sources,
        )
    return policies
