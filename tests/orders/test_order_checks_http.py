"""Every avoid entry over HTTP, through order-select and order-sign: FHIR in (INPUTS.md forms), cards out.

The cases are those of the engine tests (tests/orders/cases.py); here the patient comes as FHIR
resources in the prefetch and the drafts in ``context.draftOrders``, so the facts layer, the draft
reader, the engine and the renderer are all on the path.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from cds_service.guideline.knowledge import knowledge
from tests.orders.cases import CASES, QUIET, case
from tests.orders.checks import HOOKS, assert_fires, assert_silent, cards_for
from tests.orders.scenario import Spec, draft_med, draft_service, ref
from tests.support import fhir as F

FIRES = [c for c in CASES if c.fires]
SILENT = [c for c in CASES if not c.fires]


def post(call_hook, hook: str, spec: Spec, drafts: list[dict[str, Any]], selections: list[str] | None = None) -> list:
    request = F.hook_request(hook, *spec.resources(date.today()), draft_orders=drafts, selections=selections)
    status, body = call_hook(request)
    assert status == 200, body
    return body["cards"]


@pytest.mark.parametrize("hook", HOOKS)
@pytest.mark.parametrize("c", FIRES, ids=[c.name for c in FIRES])
def test_fires_over_http(call_hook, c, hook):
    assert_fires(post(call_hook, hook, c.spec, list(c.drafts)), c)


@pytest.mark.parametrize("hook", HOOKS)
@pytest.mark.parametrize("c", SILENT, ids=[c.name for c in SILENT])
def test_silent_over_http(call_hook, c, hook):
    cards = post(call_hook, hook, c.spec, list(c.drafts))
    assert_silent(cards, c)
    assert not [x for x in cards if x["source"]["topic"]["code"].startswith("data-gap.")]


@pytest.mark.parametrize("hook", HOOKS)
@pytest.mark.parametrize("name", QUIET)
def test_appropriate_orders_stay_quiet_over_http(call_hook, name, hook):
    c = case(name)
    cards = post(call_hook, hook, c.spec, list(c.drafts))
    avoid_ids = {r.id for r in knowledge().values() if r.is_avoid}
    assert not [x for x in cards if x["indicator"] != "info" or x["source"]["topic"]["code"] in avoid_ids]


def test_order_select_honours_selections(call_hook):
    nec = Spec()
    sstr = case("SSTR-PET for a newly diagnosed NEC (coded order)").target_draft
    mri = case("brain MRI for an asymptomatic NEC with liver metastases only").target_draft
    cards = post(call_hook, "order-select", nec, [sstr, mri], selections=[ref(mri)])
    assert cards_for(cards, "workup.nec.no-routine-brain-imaging")
    assert not cards_for(cards, "workup.nec.no-baseline-sstr-pet")
    deleted = {a.get("resourceId") for x in cards for s in x.get("suggestions", []) for a in s["actions"]}
    assert ref(sstr) not in deleted


def test_order_sign_with_several_drafts_at_once(call_hook):
    drafts = [
        case("SSTR-PET for a newly diagnosed NEC (coded order)").target_draft,
        case("lanreotide for tumor control in NEC").target_draft,
        case("everolimus for NEC").target_draft,
        case("germline testing with the G3 NEN diagnosis as the only indication").target_draft,
        draft_med("cis", "cisplatin"),  # first-line platinum/etoposide for NEC: appropriate
        draft_med("eto", "etoposide"),
    ]
    cards = post(call_hook, "order-sign", Spec(), drafts)
    topics = {x["source"]["topic"]["code"] for x in cards}
    assert {
        "workup.nec.no-baseline-sstr-pet",
        "met.nec.no-ssa",
        "met.nec.no-everolimus-sunitinib",
        "hereditary.no-routine-germline",
    } <= topics
    deleted = {
        a["resourceId"] for x in cards for s in x.get("suggestions", []) for a in s["actions"] if a["type"] == "delete"
    }
    assert "MedicationRequest/cis" not in deleted and "MedicationRequest/eto" not in deleted


@pytest.mark.parametrize("hook", HOOKS)
def test_medication_reference_forms(call_hook, hook):
    contained = {
        "resourceType": "MedicationRequest",
        "id": "ssa-contained",
        "status": "draft",
        "intent": "order",
        "subject": F.subject(),
        "contained": [{"resourceType": "Medication", "id": "med", "code": {"text": "Lanreotide 120 mg"}}],
        "medicationReference": {"reference": "#med"},
    }
    bundled = {
        "resourceType": "MedicationRequest",
        "id": "ssa-bundled",
        "status": "draft",
        "intent": "order",
        "subject": F.subject(),
        "medicationReference": {"reference": "Medication/octreotide-lar"},
    }
    medication = {"resourceType": "Medication", "id": "octreotide-lar", "code": {"text": "Sandostatin LAR 30 mg"}}
    request = F.hook_request(hook, *Spec().resources(date.today()), draft_orders=[contained, bundled], selections=None)
    request["context"]["draftOrders"]["entry"].append({"resource": medication})
    if hook == "order-select":
        request["context"]["selections"] = ["MedicationRequest/ssa-contained", "MedicationRequest/ssa-bundled"]
    status, body = call_hook(request)
    assert status == 200
    (card,) = cards_for(body["cards"], "met.nec.no-ssa")
    deleted = {a["resourceId"] for s in card["suggestions"] for a in s["actions"]}
    assert deleted == {"MedicationRequest/ssa-contained", "MedicationRequest/ssa-bundled"}


@pytest.mark.parametrize("hook", HOOKS)
def test_malformed_draft_orders_never_crash(call_hook, hook):
    good = draft_service("pci", text="Prophylactic cranial irradiation")
    request = F.hook_request(hook, *Spec().resources(date.today()), draft_orders=[good])
    request["context"]["draftOrders"]["entry"] += [
        {},
        {"fullUrl": "urn:uuid:1"},
        {"resource": {"resourceType": "ServiceRequest"}},
        {"resource": {"resourceType": "ServiceRequest", "id": "x", "code": {"coding": "nope"}}},
        {"resource": {"resourceType": "MedicationRequest", "id": "y", "medicationReference": {"reference": "#gone"}}},
        {"resource": {"resourceType": "MedicationRequest", "id": "z", "medicationCodeableConcept": [1, 2]}},
        {
            "resource": {
                "resourceType": "ServiceRequest",
                "id": "w",
                "subject": {"reference": "Patient/other"},
                "code": {"text": "Prophylactic cranial irradiation"},
            }
        },
    ]
    status, body = call_hook(request)
    assert status == 200
    (card,) = cards_for(body["cards"], "brain.no-pci")
    assert {a["resourceId"] for s in card["suggestions"] for a in s["actions"]} == {"ServiceRequest/pci"}


def test_missing_differentiation_gives_a_data_gap_not_a_warning(call_hook):
    sstr = case("SSTR-PET for a newly diagnosed NEC (coded order)").target_draft
    cards = post(call_hook, "order-sign", Spec(kind="UNKNOWN"), [sstr])
    assert not cards_for(cards, "workup.nec.no-baseline-sstr-pet")
    assert not [x for x in cards if x["indicator"] == "warning"]
    gap = cards_for(cards, "data-gap.differentiation")
    assert len(gap) == 1 and "workup.nec.no-baseline-sstr-pet" in gap[0]["detail"]
