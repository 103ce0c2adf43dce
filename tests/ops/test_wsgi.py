"""The production entry point refuses to run without JWT verification unless told to."""

from __future__ import annotations

import importlib
import logging
import sys

import pytest

from tests.security.tokens import ISS, Signer, write_jwks


@pytest.fixture()
def fresh_env(monkeypatch, tmp_path):
    for name in ("CDS_AUTH", "CDS_ALLOW_INSECURE", "CDS_TRUSTED_ISSUERS", "CDS_JWKS_FILE", "CDS_ISSUER_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'wsgi.sqlite3'}")
    monkeypatch.delitem(sys.modules, "cds_service.wsgi", raising=False)
    return monkeypatch


def import_wsgi():
    sys.modules.pop("cds_service.wsgi", None)
    return importlib.import_module("cds_service.wsgi")


def test_auth_off_without_override_refuses_to_start(fresh_env):
    fresh_env.setenv("CDS_AUTH", "off")
    with pytest.raises(RuntimeError, match="CDS_ALLOW_INSECURE") as excinfo:
        import_wsgi()
    assert type(excinfo.value).__name__ == "InsecureConfiguration"


@pytest.mark.parametrize("value", ["0", "true", "yes", ""])
def test_only_the_exact_override_counts(fresh_env, value):
    fresh_env.setenv("CDS_AUTH", "off")
    fresh_env.setenv("CDS_ALLOW_INSECURE", value)
    with pytest.raises(RuntimeError):
        import_wsgi()


def test_auth_off_with_override_starts_and_warns(fresh_env, caplog):
    fresh_env.setenv("CDS_AUTH", "off")
    fresh_env.setenv("CDS_ALLOW_INSECURE", "1")
    with caplog.at_level(logging.WARNING, logger="cds_service"):
        module = import_wsgi()
    assert module.app.test_client().get("/cds-services").status_code == 200
    assert any("JWT verification is disabled" in r.getMessage() for r in caplog.records)


def test_auth_on_starts_and_protects(fresh_env, tmp_path):
    fresh_env.setenv("CDS_TRUSTED_ISSUERS", ISS)
    fresh_env.setenv("CDS_JWKS_FILE", str(write_jwks(tmp_path / "jwks.json", Signer("EC", "k"))))
    module = import_wsgi()
    assert module.app.test_client().get("/cds-services").status_code == 401
    assert module.app.test_client().get("/healthz").status_code == 200
