"""CDS Hooks 2.0.1 protocol behaviour of the service: discovery, validation, errors, hygiene."""

from __future__ import annotations

import json

import pytest

from tests.conftest import SERVICE_IDS
from tests.support.fhir import SNOMED, cc, hook_request, ki67, nen_condition, service_request

PV = f"/cds-services/{SERVICE_IDS['patient-view']}"
ALLOWED_PREFETCH = ("?patient={{context.patientId}}",)


def test_discovery_lists_one_service_per_hook(client):
    response = client.get("/cds-services")
    assert response.status_code == 200
    services = response.get_json()["services"]
    assert sorted(s["hook"] for s in services) == ["order-select", "order-sign", "patient-view"]
    for service in services:
        for key in ("id", "hook", "title", "description", "prefetch", "usageRequirements"):
            assert service[key], key
        assert service["version"] == "2.0.1"
        assert service["hookVersion"] == "1.0"


def test_discovery_prefetch_uses_only_spec_query_forms(client):
    services = client.get("/cds-services").get_json()["services"]
    needed = {
        "Condition",
        "Observation",
        "Procedure",
        "MedicationRequest",
        "MedicationStatement",
        "MedicationAdministration",
        "DiagnosticReport",
        "AllergyIntolerance",
    }
    for service in services:
        types = set()
        for template in service["prefetch"].values():
            resource_type, _, query = template.partition("?")
            assert "?" + query in ALLOWED_PREFETCH, template  # type-level search by patient reference only
            types.add(resource_type)
        assert needed <= types


@pytest.mark.parametrize("hook", ["patient-view", "order-select", "order-sign"])
def test_each_hook_answers_with_cards_array(call_hook, hook):
    draft = service_request(cc(SNOMED, "443271005", "FDG PET/CT"), id="draft-1")
    status, body = call_hook(hook_request(hook, draft_orders=[draft]))
    assert status == 200
    assert body == {"cards": []}  # no NEN recorded: nothing to say, and no empty members


def test_unknown_extension_members_are_accepted(client):
    request = hook_request("patient-view")
    request["extension"] = {"com.example.whatever": {"a": 1}}
    request["context"]["extension"] = {"x": True}
    assert client.post(PV, json=request).status_code == 200


def _outcome(response, status):
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["diagnostics"]
    return body["issue"][0]


def test_malformed_json_is_400_operation_outcome(client):
    issue = _outcome(client.post(PV, data="{not json", content_type="application/json"), 400)
    assert "malformed JSON" in issue["diagnostics"]


@pytest.mark.parametrize("body", ["[]", "3", '"x"', "null"])
def test_json_that_is_not_an_object_is_400(client, body):
    _outcome(client.post(PV, data=body, content_type="application/json"), 400)


def test_empty_body_is_400(client):
    _outcome(client.post(PV, data="", content_type="application/json"), 400)


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda r: r.pop("hookInstance"), "hookInstance"),
        (lambda r: r["context"].pop("patientId"), "patientId"),
        (lambda r: r["context"].update(patientId="has spaces/and/slashes"), "patientId"),
        (
            lambda r: r.update(
                fhirAuthorization={
                    "access_token": "t",
                    "token_type": "Bearer",
                    "expires_in": 300,
                    "scope": "patient/*.read",
                    "subject": "cds",
                }
            ),
            "fhirServer",
        ),
        (lambda r: r.update(prefetch={"conditions": "not a resource"}), "prefetch"),
        (lambda r: r.update(context="patient"), "context"),
    ],
)
def test_schema_violations_are_400_naming_the_problem(client, mutate, where):
    request = hook_request("patient-view")
    mutate(request)
    issue = _outcome(client.post(PV, json=request), 400)
    assert where in issue["diagnostics"]


def test_order_select_requires_selections_and_draft_bundle(client):
    request = hook_request("order-select")
    del request["context"]["selections"]
    _outcome(client.post(f"/cds-services/{SERVICE_IDS['order-select']}", json=request), 400)
    request = hook_request("order-sign")
    request["context"]["draftOrders"] = {"resourceType": "ServiceRequest"}
    _outcome(client.post(f"/cds-services/{SERVICE_IDS['order-sign']}", json=request), 400)


def test_selections_must_be_type_slash_id(client):
    request = hook_request("order-select")
    request["context"]["selections"] = ["just-an-id"]
    _outcome(client.post(f"/cds-services/{SERVICE_IDS['order-select']}", json=request), 400)


def test_wrong_hook_for_service_is_400(client):
    request = hook_request("order-sign")
    issue = _outcome(client.post(PV, json=request), 400)
    assert "does not match" in issue["diagnostics"]


def test_unknown_service_is_404(client):
    _outcome(client.post("/cds-services/no-such-service", json=hook_request("patient-view")), 404)


def test_unknown_path_is_404_json(client):
    _outcome(client.get("/nowhere"), 404)


def test_wrong_method_is_405_with_allow(client):
    response = client.get(PV)
    _outcome(response, 405)
    assert "POST" in response.headers["Allow"]
    _outcome(client.post("/cds-services", json={}), 405)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
def test_non_json_content_type_is_415(client, content_type):
    body = json.dumps(hook_request("patient-view"))
    _outcome(client.post(PV, data=body, content_type=content_type), 415)


def test_missing_content_type_is_415(client):
    _outcome(client.post(PV, data=json.dumps(hook_request("patient-view"))), 415)


def test_body_over_limit_is_413(client, app):
    limit = app.config["SETTINGS"].max_body_bytes
    request = hook_request("patient-view")
    request["extension"] = {"padding": "x" * (limit + 10)}
    _outcome(client.post(PV, data=json.dumps(request), content_type="application/json"), 413)


def test_body_limit_is_configurable(tmp_path):
    from cds_service import create_app

    small = create_app({"CDS_AUTH": "off", "MAX_BODY_BYTES": 2000, "DATABASE_URL": f"sqlite:///{tmp_path}/f.db"})
    request = hook_request("patient-view", nen_condition("NEC"), ki67(70))
    response = small.test_client().post(PV, json=request)
    assert response.status_code == 413


def test_missing_prefetch_without_fhir_server_is_412(client):
    request = hook_request("patient-view")
    del request["prefetch"]["conditions"]
    issue = _outcome(client.post(PV, json=request), 412)
    assert "conditions" in issue["diagnostics"]


def test_null_prefetch_means_no_data_not_412(client):
    request = hook_request("patient-view")
    request["prefetch"] = {key: None for key in request["prefetch"]}
    response = client.post(PV, json=request)
    assert response.status_code == 200
    assert response.get_json() == {"cards": []}


def test_operation_outcome_prefetch_without_server_is_412(client):
    request = hook_request("patient-view")
    request["prefetch"]["observations"] = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "timeout"}],
    }
    _outcome(client.post(PV, json=request), 412)


def test_health_and_readiness(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["status"] == "ready"


def test_cors_preflight_allows_authorization_and_content_type(client):
    response = client.options(
        PV,
        headers={
            "Origin": "https://sandbox.cds-hooks.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert response.status_code in (200, 204)
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed
    assert response.headers["Access-Control-Allow-Origin"] in ("*", "https://sandbox.cds-hooks.org")


def test_cors_headers_on_errors_too(client):
    response = client.post("/cds-services/nope", json={}, headers={"Origin": "https://ehr.example"})
    assert response.status_code == 404
    assert response.headers.get("Access-Control-Allow-Origin")
