"""Verification of the CDS Client's JWT (CDS Hooks 2.0.1 "Trusting CDS Clients", best practices "JWT").

Order of checks, cheapest and safest first, so that an untrusted caller can never make the service
fetch a URL or fill the replay cache:

1. header: ``alg`` in ES384/RS384/PS384 (never ``none``, never HMAC), ``kid`` present, ``typ`` JWT if given;
2. ``iss`` (read unverified) is an allow-listed issuer, and the issuer accepts this ``alg``;
3. the key: by ``kid`` from the token's ``jku`` (only if that exact URL is allow-listed for the issuer)
   or from the issuer's pinned JWKS; an unknown ``kid`` triggers one rate-limited refetch of URL sets;
4. signature, then claims: ``aud`` = the URL invoked, ``exp``/``iat``/``jti`` required, ``exp``,
   ``iat`` and ``nbf`` checked with the allowed clock skew, ``exp`` not too far ahead, ``tenant``
   allow-listed when the issuer lists tenants;
5. ``jti`` not seen before (replay cache), then remembered until the token expires.

Every failure raises TokenRejected with a reason for the log; the caller answers 401 without it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import jwt

from cds_service.security.keys import KeyProblem, UrlKeySource, public_key
from cds_service.security.replay import ReplayCache, ReplayCacheUnavailable
from cds_service.security.trust import ALLOWED_ALGORITHMS, IssuerPolicy

MAX_TOKEN_CHARS = 16_384
MAX_CLAIM_CHARS = 512


class TokenRejected(Exception):
    def __init__(self, reason: str, *, iss: str | None = None, jti: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.iss = iss
        self.jti = jti


@dataclass(frozen=True)
class VerifiedClient:
    iss: str
    jti: str
    kid: str
    tenant: str | None
    expires_at: int


def _short(value: object) -> str | None:
    """A claim value safe to log: strings only, trimmed."""
    return value[:MAX_CLAIM_CHARS] if isinstance(value, str) else None


class TokenVerifier:
    def __init__(
        self,
        policies: dict[str, IssuerPolicy],
        replay: ReplayCache,
        *,
        clock_skew: int = 60,
        max_lifetime: int = 3600,
        clock=time.time,
    ):
        self.policies = policies
        self.replay = replay
        self.clock_skew = max(0, clock_skew)
        self.max_lifetime = max_lifetime
        self._clock = clock

    def verify(self, token: str, audience: str) -> VerifiedClient:
        if not token or len(token) > MAX_TOKEN_CHARS:
            raise TokenRejected("token missing or too long")
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise TokenRejected(f"malformed token: {type(exc).__name__}") from None
        iss, jti = _short(unverified.get("iss")), _short(unverified.get("jti"))

        def reject(reason: str) -> TokenRejected:
            return TokenRejected(reason, iss=iss, jti=jti)

        alg = header.get("alg")
        if alg not in ALLOWED_ALGORITHMS:
            raise reject(f"algorithm {str(alg)[:20]} not allowed")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise reject("kid header missing")
        typ = header.get("typ")
        if typ is not None and (not isinstance(typ, str) or typ.upper() != "JWT"):
            raise reject("typ header is not JWT")
        if iss is None:
            raise reject("iss missing")
        policy = self.policies.get(iss)
        if policy is None:
            raise reject("issuer not trusted")
        if alg not in policy.algorithms:
            raise reject(f"algorithm {alg} not allowed for this issuer")

        key = self._find_key(policy, header, kid, alg, reject)
        now = self._clock()
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=[alg],
                audience=audience,
                issuer=iss,
                leeway=self.clock_skew,
                options={
                    "require": ["iss", "aud", "exp", "iat", "jti"],
                    "verify_signature": True,
                    "verify_exp": True,
                    "verify_iat": True,
                    "verify_nbf": True,
                    "verify_aud": True,
                    "verify_iss": True,
                },
            )
        except jwt.PyJWTError as exc:
            raise reject(f"token invalid: {type(exc).__name__}") from None

        jti_claim = claims["jti"]
        if not isinstance(jti_claim, str) or not jti_claim or len(jti_claim) > MAX_CLAIM_CHARS:
            raise reject("jti missing or not a string")
        exp = int(claims["exp"])
        if self.max_lifetime > 0 and exp > now + self.max_lifetime + self.clock_skew:
            raise reject("exp too far in the future")
        tenant = claims.get("tenant")
        if policy.tenants is not None and tenant not in policy.tenants:
            raise reject("tenant not trusted")
        try:
            first = self.replay.first_use(iss, jti_claim, int(exp - now) + self.clock_skew)
        except ReplayCacheUnavailable as exc:
            raise reject(f"replay cache unavailable: {exc}") from None
        if not first:
            raise reject("jti replayed")
        return VerifiedClient(
            iss=iss, jti=jti_claim, kid=kid, tenant=tenant if isinstance(tenant, str) else None, expires_at=exp
        )

    def _find_key(self, policy: IssuerPolicy, header: dict[str, Any], kid: str, alg: str, reject) -> Any:
        jku = header.get("jku")
        sources = list(policy.pinned)
        if jku is not None:
            jku_source = policy.jku_source(jku) if isinstance(jku, str) else None
            if jku_source is not None:
                sources = [jku_source]
            elif not sources:
                raise reject("jku not allow-listed")
        for refresh in (False, True):
            for source in sources:
                if refresh and not isinstance(source, UrlKeySource):
                    continue  # a pinned file has nothing to refetch
                try:
                    jwk = source.key_set(refresh=refresh).get(kid)
                except KeyProblem:
                    continue
                if jwk is None:
                    continue
                try:
                    return public_key(jwk, alg)
                except KeyProblem as exc:
                    raise reject(f"key {kid[:64]} unusable: {exc}") from None
        raise reject("unknown kid")
