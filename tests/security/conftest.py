from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_proxy_for_loopback(monkeypatch):
    """The local JWKS server must be reached directly even where an HTTP proxy is configured."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
