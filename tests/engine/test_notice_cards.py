"""Data-quality notices: a resource that could not be used is named; a retracted record is not a problem."""

from __future__ import annotations

from tests.support.fhir import LOINC, cc, hook_request, ki67, nen_condition, observation

IGNORED = "data-quality.ignored-resources"


def topics(body: dict) -> list[str]:
    return [c["source"]["topic"]["code"] for c in body["cards"]]


def test_unusable_ki67_is_named_in_a_notice(call_hook):
    bad = observation(cc(LOINC, "29593-1"), id="ki67-bad", valueQuantity={"value": 45, "unit": "mg"})
    status, body = call_hook(hook_request("patient-view", nen_condition("NEC"), bad))
    assert status == 200
    assert IGNORED in topics(body)
    notice = next(c for c in body["cards"] if c["source"]["topic"]["code"] == IGNORED)
    assert "Observation/ki67-bad" in notice["detail"]
    assert notice["indicator"] == "info"


def test_entered_in_error_record_gives_no_notice(call_hook):
    retracted = ki67(45, id="ki67-retracted", status="entered-in-error")
    status, body = call_hook(hook_request("patient-view", nen_condition("NEC"), ki67(60), retracted))
    assert status == 200
    assert IGNORED not in topics(body)
    assert topics(body)  # the NEC still gets its guidance
