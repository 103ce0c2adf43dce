"""What the service suggests on patient-view never draws an order-check warning when drafted as is.

For every demo patient (synthetic, cds_service/demo/patients) and every patient-view card, the
resources of each suggestion go through order-sign as drafts: no avoid entry may warn on them.
"""

from __future__ import annotations

import pytest

from cds_service.demo import demo_patients, patient_id_of, patient_view_request
from cds_service.guideline.knowledge import knowledge
from tests.support import fhir as F


@pytest.mark.parametrize("name", sorted(demo_patients()))
def test_accepted_suggestions_draw_no_order_check_warning(call_hook, name):
    request = patient_view_request(name, hook_instance="0c4f1f8e-2a7e-4d55-9a4e-8f1b7d2c6a01")
    status, body = call_hook(request)
    assert status == 200
    avoid = {r.id for r in knowledge().values() if r.is_avoid}
    resources = [e["resource"] for bundle in request["prefetch"].values() for e in bundle.get("entry", [])]
    pid = patient_id_of(demo_patients()[name])
    for card in body["cards"]:
        for i, suggestion in enumerate(card.get("suggestions", [])):
            created = [a["resource"] for a in suggestion["actions"] if a["type"] == "create"]
            if not created:
                continue
            drafts = [dict(r, id=f"s{i}-{j}") for j, r in enumerate(created)]
            code, signed = call_hook(F.hook_request("order-sign", *resources, draft_orders=drafts, patient_id=pid))
            assert code == 200
            warned = [
                c["source"]["topic"]["code"]
                for c in signed["cards"]
                if c["source"]["topic"]["code"] in avoid and c["indicator"] == "warning"
            ]
            assert not warned, (card["source"]["topic"]["code"], suggestion["label"], warned)
