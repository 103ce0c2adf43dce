"""orders.py: context.draftOrders into DraftOrder values (codes, text, medication forms, selections, junk)."""

from __future__ import annotations

from typing import Any

import pytest

from cds_service.facts.orders import read_draft_orders
from cds_service.fhir_data.record import PatientRecord
from tests.orders.scenario import draft_med, draft_service
from tests.support import fhir as F

RECORD = PatientRecord(patient_id=F.PATIENT_ID)


def read(*entries: Any, hook: str = "order-sign", selections: list[str] | None = None, record: PatientRecord = RECORD):
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": list(entries)}
    context: dict[str, Any] = {"patientId": F.PATIENT_ID, "draftOrders": bundle}
    if selections is not None:
        context["selections"] = selections
    return {
        f"{o.resource_type}/{o.resource_id}": o
        for o in read_draft_orders(record_context=record, context=context, hook=hook)
    }


def entry(resource: dict[str, Any], full_url: str | None = None) -> dict[str, Any]:
    return {"resource": resource} | ({"fullUrl": full_url} if full_url else {})


def test_coded_service_request_is_recognised_by_code_with_its_classes():
    orders = read(entry(draft_service("mri", F.cc(F.LOINC, "24587-8", "MR Brain WO and W contrast IV"))))
    order = orders["ServiceRequest/mri"]
    assert order.recognised_by == "code"
    assert {"brain-mri", "brain-imaging"} <= order.concepts
    assert order.text == "MR Brain WO and W contrast IV"


def test_local_code_falls_back_to_the_text():
    sr = draft_service("pet", F.cc("urn:oid:1.2.3.4.local", "IMG4471", "Ga-68 DOTATATE PET/CT"))
    order = read(entry(sr))["ServiceRequest/pet"]
    assert order.recognised_by == "text"
    assert "sstr-pet" in order.concepts


def test_unrecognised_order_has_no_concepts():
    order = read(entry(draft_med("amox", text="Amoxicillin 500 mg")))["MedicationRequest/amox"]
    assert order.recognised_by == "none" and order.concepts == frozenset()


def test_medication_codeable_concept_rxnorm():
    order = read(entry(draft_med("cis", "cisplatin")))["MedicationRequest/cis"]
    assert order.recognised_by == "code"
    assert {"cisplatin", "cis-carboplatin"} <= order.concepts


def test_lutetium_dotatate_text_is_prrt_not_sstr_pet():
    order = read(entry(draft_med("lu", text="Lutetium Lu 177 dotatate 7.4 GBq IV")))["MedicationRequest/lu"]
    assert {"lutetium-dotatate", "prrt"} <= order.concepts
    assert "sstr-pet" not in order.concepts


def test_cone_biopsy_is_fertility_sparing_surgery_not_a_diagnostic_biopsy():
    order = read(entry(draft_service("cone", text="Cone biopsy of the cervix")))["ServiceRequest/cone"]
    assert "fertility-sparing-surgery" in order.concepts
    assert "biopsy" not in order.concepts


def _med_request_by_reference(id: str, reference: str, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": id,
        "status": "draft",
        "intent": "order",
        "medicationReference": {"reference": reference},
        "subject": F.subject(),
        **extra,
    }


def test_medication_reference_to_a_contained_medication():
    medication = {"resourceType": "Medication", "id": "m1", "code": F.cc(F.RXNORM, "4179", "etoposide")}
    mr = _med_request_by_reference("mr1", "#m1", contained=[medication])
    order = read(entry(mr))["MedicationRequest/mr1"]
    assert order.recognised_by == "code" and "etoposide" in order.concepts


def test_medication_reference_to_a_medication_in_the_draft_bundle_by_id_or_full_url():
    med_a = {"resourceType": "Medication", "id": "ma", "code": {"text": "Octreotide LAR 30 mg"}}
    med_b = {"resourceType": "Medication", "code": F.cc(F.RXNORM, "1547545", "pembrolizumab")}
    orders = read(
        entry(_med_request_by_reference("mra", "Medication/ma")),
        entry(med_a),
        entry(_med_request_by_reference("mrb", "urn:uuid:5b1f0c1e-9d55-4d1f-8a5e-2a1f63c8e001")),
        entry(med_b, "urn:uuid:5b1f0c1e-9d55-4d1f-8a5e-2a1f63c8e001"),
    )
    assert set(orders) == {"MedicationRequest/mra", "MedicationRequest/mrb"}  # Medications are not orders
    assert orders["MedicationRequest/mra"].recognised_by == "text"
    assert {"octreotide", "somatostatin-analog"} <= orders["MedicationRequest/mra"].concepts
    assert "pembrolizumab" in orders["MedicationRequest/mrb"].concepts


def test_medication_reference_to_a_medication_in_the_patient_record():
    record = PatientRecord(patient_id=F.PATIENT_ID)
    record.add({"resourceType": "Medication", "id": "rec-med", "code": {"text": "Sunitinib 37.5 mg"}})
    order = read(entry(_med_request_by_reference("mr", "Medication/rec-med")), record=record)["MedicationRequest/mr"]
    assert "sunitinib" in order.concepts


def test_order_select_marks_only_the_selected_drafts():
    orders = read(
        entry(draft_med("a", "cisplatin")),
        entry(draft_med("b", "etoposide")),
        hook="order-select",
        selections=["MedicationRequest/b"],
    )
    assert not orders["MedicationRequest/a"].selected
    assert orders["MedicationRequest/b"].selected


def test_order_sign_selects_every_draft():
    orders = read(entry(draft_med("a", "cisplatin")), entry(draft_med("b", "etoposide")), selections=["X/y"])
    assert all(o.selected for o in orders.values())


@pytest.mark.parametrize(
    "junk",
    [
        "not an object",
        None,
        {},
        {"resource": "text"},
        {"resource": {"resourceType": "ServiceRequest"}},  # no id: a delete could not name it
        {"resource": {"resourceType": "ServiceRequest", "id": ""}},
        {"resource": {"resourceType": "ServiceRequest", "id": "no-code"}},
        {"resource": {"resourceType": "ServiceRequest", "id": "bad-code", "code": "CT"}},
        {"resource": {"resourceType": "ServiceRequest", "id": "bad-coding", "code": {"coding": ["x", {"code": 5}]}}},
        {"resource": {"resourceType": "MedicationRequest", "id": "bad-ref", "medicationReference": {"reference": 7}}},
        {
            "resource": {
                "resourceType": "MedicationRequest",
                "id": "dangling",
                "medicationReference": {"reference": "#nope"},
            }
        },
        {
            "resource": {
                "resourceType": "MedicationRequest",
                "id": "contained-junk",
                "contained": "x",
                "medicationReference": {"reference": "#m"},
            }
        },
        {"resource": {"resourceType": "MedicationRequest", "id": "m", "medicationCodeableConcept": []}},
        {"resource": {"resourceType": "NutritionOrder", "id": "diet"}},
        {"resource": {"resourceType": "ServiceRequest", "id": "odd", "status": ["draft"], "subject": ["x"]}},
        {"resource": {"resourceType": ["ServiceRequest"], "id": "odd-type"}},
    ],
)
def test_malformed_entries_never_raise_and_valid_orders_still_read(junk):
    orders = read(junk, entry(draft_med("ok", "carboplatin")))
    assert "carboplatin" in orders["MedicationRequest/ok"].concepts
    for order in orders.values():
        assert order.resource_id


@pytest.mark.parametrize(
    "bundle", [None, "x", {}, {"resourceType": "Bundle", "entry": "x"}, {"resourceType": "Patient"}]
)
def test_malformed_draft_orders_bundle_gives_no_orders(bundle):
    context = {"patientId": F.PATIENT_ID, "draftOrders": bundle}
    assert read_draft_orders(record_context=RECORD, context=context, hook="order-sign") == ()


def test_orders_for_another_patient_or_retracted_are_skipped():
    other = draft_med("other", "cisplatin")
    other["subject"] = {"reference": "Patient/someone-else"}
    retracted = draft_med("gone", "cisplatin", status="entered-in-error")
    orders = read(entry(other), entry(retracted), entry(draft_med("mine", "cisplatin")))
    assert set(orders) == {"MedicationRequest/mine"}
