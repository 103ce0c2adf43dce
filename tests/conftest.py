"""Shared fixtures: the app with auth off and embedded defaults, and its test client."""

from __future__ import annotations

import pytest

from cds_service import create_app

SERVICE_IDS = {
    "patient-view": "nanets-g3-nen-patient-view",
    "order-select": "nanets-g3-nen-order-select",
    "order-sign": "nanets-g3-nen-order-sign",
}


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    db = tmp_path_factory.mktemp("db") / "feedback.sqlite3"
    return create_app({"CDS_AUTH": "off", "DATABASE_URL": f"sqlite:///{db}", "TESTING": True})


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def call_hook(client):
    """POST a hook request built with tests.support.fhir.hook_request; returns (status, json)."""

    def call(request: dict) -> tuple[int, dict]:
        response = client.post(f"/cds-services/{SERVICE_IDS[request['hook']]}", json=request)
        return response.status_code, response.get_json()

    return call
