"""Key sources, trust configuration and the replay cache, without HTTP."""

from __future__ import annotations

import json
import time

import pytest

from cds_service.security.keys import (
    ConfigurationError,
    FileKeySource,
    KeyRejected,
    KeySources,
    UrlKeySource,
    parse_jwks,
    public_key,
)
from cds_service.security.replay import MemoryReplayCache
from cds_service.security.trust import build_policies
from cds_service.settings import Settings
from tests.security.tokens import ISS, Signer, auth_app, jwks_server, write_jwks


def sources() -> KeySources:
    return KeySources(ttl=3600, min_refetch=30, timeout=2)


# -- JWK parsing ----------------------------------------------------------------------------------------
def test_parse_jwks_keeps_only_public_signature_keys():
    ec = Signer("EC", "ec")
    private = {**ec.jwk(), "d": "secret-part"}
    document = {
        "keys": [
            private,
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
            {**Signer("EC", "enc").jwk(), "use": "enc"},
            {k: v for k, v in Signer("EC").jwk().items() if k != "kid"},
            "not a key",
        ]
    }
    keys = parse_jwks(document, where="test")
    assert set(keys) == {"ec"}
    assert "d" not in keys["ec"]


@pytest.mark.parametrize("document", [[], {"keys": "x"}, {"nokeys": []}, "text"])
def test_parse_jwks_rejects_what_is_not_a_key_set(document):
    with pytest.raises(ValueError):
        parse_jwks(document, where="test")


def test_public_key_checks_algorithm_against_key():
    ec, rsa = Signer("EC", "e").jwk(), Signer("RSA", "r").jwk()
    assert public_key(ec, "ES384") is not None
    assert public_key(rsa, "PS384") is not None
    for jwk, alg in (
        (ec, "RS384"),
        (rsa, "ES384"),
        ({**ec, "alg": "ES256"}, "ES384"),
        (Signer("EC256").jwk(), "ES384"),
    ):
        with pytest.raises(KeyRejected):
            public_key(jwk, alg)


def test_public_key_refuses_short_rsa_keys():
    from cryptography.hazmat.primitives.asymmetric import rsa
    from jwt.algorithms import RSAAlgorithm

    small = json.loads(RSAAlgorithm.to_jwk(rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()))
    with pytest.raises(KeyRejected, match="2048"):
        public_key(small, "RS384")


# -- sources --------------------------------------------------------------------------------------------
def test_file_source_reloads_after_a_change_and_fails_fast_when_missing(tmp_path):
    first, second = Signer("EC", "first"), Signer("EC", "second")
    path = write_jwks(tmp_path / "jwks.json", first)
    source = FileKeySource(path)
    assert set(source.key_set()) == {"first"}
    write_jwks(path, first, second)
    later = time.time() + 5
    import os

    os.utime(path, (later, later))
    assert set(source.key_set()) == {"first", "second"}
    with pytest.raises(ConfigurationError):
        FileKeySource(tmp_path / "missing.json")


def test_url_source_keeps_the_last_good_set_when_the_server_fails(monkeypatch):
    signer = Signer("EC", "k")
    with jwks_server(signer) as server:
        source = UrlKeySource(server.url, ttl=0, min_refetch=0, timeout=2)
        assert "k" in source.key_set()
        server.jwks = {"broken": True}  # the server now answers nonsense
        assert "k" in source.key_set()  # stale but still the last good copy
        assert server.hits == 2


def test_url_source_without_any_copy_raises():
    from cds_service.security.keys import KeyFetchError

    source = UrlKeySource("http://127.0.0.1:9/jwks.json", timeout=0.5)
    with pytest.raises(KeyFetchError):
        source.key_set()


def test_one_cache_per_url_across_issuers():
    shared = sources()
    assert shared.url("https://a.example.org/jwks") is shared.url("https://a.example.org/jwks")


# -- trust configuration --------------------------------------------------------------------------------
def test_issuer_without_key_source_stops_the_start():
    with pytest.raises(ConfigurationError, match="no key source"):
        build_policies(Settings.load({"CDS_TRUSTED_ISSUERS": ISS}), sources())


def test_symmetric_algorithm_in_config_stops_the_start(tmp_path):
    config = tmp_path / "issuers.json"
    config.write_text(json.dumps({ISS: {"jku_allowlist": "https://k.example.org/j", "algorithms": ["HS256"]}}))
    with pytest.raises(ConfigurationError, match="HS256"):
        build_policies(Settings.load({"CDS_ISSUER_CONFIG": str(config)}), sources())


def test_unknown_setting_in_config_stops_the_start(tmp_path):
    config = tmp_path / "issuers.json"
    config.write_text(json.dumps({ISS: {"jku_allowlist": ["https://k.example.org/j"], "jwks_uri": "x"}}))
    with pytest.raises(ConfigurationError, match="jwks_uri"):
        build_policies(Settings.load({"CDS_ISSUER_CONFIG": str(config)}), sources())


def test_create_app_refuses_a_broken_trust_configuration(tmp_path):
    with pytest.raises(ConfigurationError):
        auth_app(tmp_path, CDS_TRUSTED_ISSUERS=ISS, CDS_JWKS_FILE=str(tmp_path / "missing.json"))


def test_issuer_config_merges_with_global_settings(tmp_path):
    pinned = write_jwks(tmp_path / "pinned.json", Signer("EC", "a"))
    config = tmp_path / "issuers.json"
    config.write_text(
        json.dumps(
            {
                "_comment": "ignored",
                ISS: {"jku": "https://keys.ehr.example.org/jwks", "_note": "ignored"},
                "https://other.example.org": {"jwks_file": "pinned.json", "tenants": ["t1"]},
            }
        )
    )
    settings = Settings.load({"CDS_ISSUER_CONFIG": str(config), "CDS_JKU_ALLOWLIST": "https://global.example.org/j"})
    policies = build_policies(settings, sources())
    assert set(policies) == {ISS, "https://other.example.org"}
    assert policies[ISS].jku_allowlist == {"https://keys.ehr.example.org/jwks", "https://global.example.org/j"}
    other = policies["https://other.example.org"]
    assert [s.path for s in other.pinned] == [pinned.resolve()]
    assert other.tenants == {"t1"}


# -- replay cache ---------------------------------------------------------------------------------------
def test_memory_replay_cache_remembers_until_expiry():
    now = [1000.0]
    cache = MemoryReplayCache(10, clock=lambda: now[0])
    assert cache.first_use(ISS, "a", 60)
    assert not cache.first_use(ISS, "a", 60)
    assert cache.first_use("https://other.example.org", "a", 60)  # jti is per issuer
    now[0] += 61
    assert cache.first_use(ISS, "a", 60)  # expired: the token itself can no longer pass exp


def test_memory_replay_cache_is_bounded():
    now = [0.0]
    cache = MemoryReplayCache(100, clock=lambda: now[0])
    for i in range(1000):
        assert cache.first_use(ISS, f"jti-{i}", 3600)
    assert len(cache) <= 100
    assert not cache.first_use(ISS, "jti-999", 3600)  # recent ones are still remembered


def test_memory_replay_cache_drops_expired_entries_first():
    now = [0.0]
    cache = MemoryReplayCache(3, clock=lambda: now[0])
    cache.first_use(ISS, "long", 3600)
    cache.first_use(ISS, "short-1", 10)
    cache.first_use(ISS, "short-2", 10)
    now[0] = 20
    cache.first_use(ISS, "new", 3600)
    assert not cache.first_use(ISS, "long", 3600)  # kept: the expired ones made room
