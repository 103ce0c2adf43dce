"""Fixtures for the prefetch-completion tests: the real test FHIR server (see tests/support/fhir_server.py).

``client`` (tests/conftest.py) is the app with its default settings (a 0.45 s FHIR budget): the
timing tests use it. ``roomy_client`` is the same app with a 3 s budget, for tests about *what*
is fetched, so that a loaded machine cannot turn a slow answer into a spurious 'unreadable'.
"""

import pytest

from cds_service import create_app
from tests.support.fhir_server import _fhir_server_session, fhir_server, fhir_server_url  # noqa: F401

ROOMY_BUDGET_SECONDS = 3.0


@pytest.fixture(scope="session")
def roomy_app(tmp_path_factory):
    db = tmp_path_factory.mktemp("db-roomy") / "feedback.sqlite3"
    return create_app(
        {
            "CDS_AUTH": "off",
            "DATABASE_URL": f"sqlite:///{db}",
            "TESTING": True,
            "FHIR_BUDGET_SECONDS": ROOMY_BUDGET_SECONDS,
        }
    )


@pytest.fixture()
def roomy_client(roomy_app):
    return roomy_app.test_client()


@pytest.fixture()
def roomy_settings(roomy_app):
    return roomy_app.config["SETTINGS"]
