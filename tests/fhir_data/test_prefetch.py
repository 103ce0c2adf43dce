"""gather_record and fill_template details that need no FHIR server."""

from __future__ import annotations

import pytest

from cds_service.api.errors import PreconditionFailed
from cds_service.fhir_data.prefetch import fill_template, gather_record
from cds_service.settings import Settings
from tests.fhir_data.helpers import fallback_request
from tests.support import fhir as F


def test_fill_template_replaces_root_primitives_and_escapes_them():
    context = {"patientId": "pt-1", "userId": "Practitioner/7", "n": 3, "flag": True, "nested": {"id": "x"}}
    assert fill_template("Condition?patient={{context.patientId}}", context) == "Condition?patient=pt-1"
    assert fill_template("{{context.userId}}", context) == "Practitioner/7"
    assert fill_template("X?n={{context.n}}", context) == "X?n=3"
    assert fill_template("X?f={{context.flag}}&g={{context.nested}}", context) == (
        "X?f={{context.flag}}&g={{context.nested}}"
    )
    # A value cannot add parameters or cut the query short.
    assert fill_template("Condition?patient={{context.patientId}}", {"patientId": "1&_count=1#x"}) == (
        "Condition?patient=1%26_count%3D1%23x"
    )


def test_template_needing_missing_context_is_unreadable_not_sent():
    request = fallback_request(None, F.nen_condition("NEC"))
    templates = {"conditions": "Condition?patient={{context.patientId}}", "enc": "Encounter/{{context.encounterId}}"}
    record = gather_record(request, templates, Settings())
    assert [key for key, _ in record.unreadable] == ["enc"]
    assert len(record.of_type("Condition")) == 1


def test_null_and_empty_bundle_need_no_server():
    request = fallback_request(None, replace={"conditions": None})
    record = gather_record(request, {"conditions": "Condition?patient={{context.patientId}}"}, Settings())
    assert len(record) == 0 and record.unreadable == []


def test_absent_key_without_server_raises_412_naming_it():
    request = fallback_request(None, missing=["conditions"])
    with pytest.raises(PreconditionFailed) as raised:
        gather_record(request, {"conditions": "Condition?patient={{context.patientId}}"}, Settings())
    assert raised.value.expression == ["prefetch.conditions"]


def test_unknown_prefetch_keys_are_read_but_their_outcomes_are_not():
    extra = F.bundle(F.ki67(40, id="obs-extra"), {"resourceType": "OperationOutcome", "issue": []}, type="searchset")
    request = fallback_request(None, replace={"somethingElse": extra})
    record = gather_record(request, {}, Settings())
    assert [r["id"] for r in record] == ["obs-extra"]
