"""The knowledge base published as FHIR (cds_service.api.fhir_routes): PlanDefinitions generated from
the entries, ActivityDefinitions, the guideline CodeSystem, ValueSets, CapabilityStatement, search and
404s. Every instantiatesCanonical a card can emit must resolve here."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from fhir.resources.R4B.activitydefinition import ActivityDefinition
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.codesystem import CodeSystem
from fhir.resources.R4B.plandefinition import PlanDefinition

from cds_service.api.fhir_routes import code_system, when_predicates
from cds_service.facts.model import DraftOrder
from cds_service.guideline import GUIDELINE_SYSTEM
from cds_service.guideline.evaluate import Decision, Outcome
from cds_service.guideline.knowledge import knowledge
from cds_service.guideline.logic import PREDICATES
from cds_service.guideline.schedules import ScheduleStatus
from cds_service.rendering.activities import activities
from cds_service.rendering.cards import CardContext, recommendation_card

BASE = "http://localhost"
IDS = sorted(knowledge())
CODES = {c["code"] for c in code_system()["concept"]}


def get(client, path):
    response = client.get(path)
    return response.status_code, response.get_json(), response.mimetype


def test_every_plan_definition_validates_and_carries_the_entry(client):
    status, bundle, mime = get(client, "/fhir/PlanDefinition")
    assert status == 200 and mime == "application/fhir+json"
    Bundle.model_validate(bundle)
    assert bundle["type"] == "searchset" and bundle["total"] == len(IDS)
    by_id = {e["resource"]["id"]: e["resource"] for e in bundle["entry"]}
    assert sorted(by_id) == IDS
    for rec_id, pd in by_id.items():
        PlanDefinition.model_validate(pd)
        rec = knowledge()[rec_id]
        assert pd["url"] == f"{BASE}/fhir/PlanDefinition/{rec_id}"
        assert pd["type"]["coding"][0]["code"] == "eca-rule"
        assert pd["description"] == rec.statement
        artifact = pd["relatedArtifact"][0]
        assert artifact["url"] == "https://doi.org/10.1530/ERC-22-0206" and rec.section in artifact["display"]
        assert pd["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == rec.level
        assert any(
            uc["valueCodeableConcept"].get("coding", [{}])[0].get("code") == rec.level for uc in pd["useContext"]
        )
        action = pd["action"][0]
        condition = action["condition"][0]["expression"]
        assert condition["expression"] == rec.when
        for name in when_predicates(rec.when):
            assert PREDICATES[name].question in condition["description"]


def _canonicals(action):
    for sub in action.get("action", []):
        if "definitionCanonical" in sub:
            yield sub["definitionCanonical"]
        yield from _canonicals(sub)


@pytest.mark.parametrize("rec_id", ["workup.anatomic-imaging", "path.differentiation-ihc", "local.nec.adjuvant-chemo"])
def test_plan_definition_actions_point_to_resolvable_activity_definitions(client, rec_id):
    _, pd, _ = get(client, f"/fhir/PlanDefinition/{rec_id}")
    rec = knowledge()[rec_id]
    canonicals = list(_canonicals(pd["action"][0]))
    expected = [activities()[a]["url"] for offer in rec.offers for a in offer.activities]
    assert canonicals == expected
    assert pd["action"][0]["selectionBehavior"] == rec.selection
    for url in canonicals:
        status, found, _ = get(client, f"/fhir/ActivityDefinition?url={url}")
        assert status == 200 and found["total"] == 1
        ActivityDefinition.model_validate(found["entry"][0]["resource"])


def test_activity_definition_read_and_404(client):
    status, ad, mime = get(client, "/fhir/ActivityDefinition/sr-fdg-pet")
    assert status == 200 and mime == "application/fhir+json" and ad["kind"] == "ServiceRequest"
    status, outcome, _ = get(client, "/fhir/ActivityDefinition/sr-nope")
    assert status == 404 and outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["code"] == "not-found"


def test_unknown_plan_definition_is_a_404_operation_outcome(client):
    status, outcome, _ = get(client, "/fhir/PlanDefinition/path.not-a-recommendation")
    assert status == 404 and outcome["resourceType"] == "OperationOutcome"


def test_search_by_url_id_name_and_title(client):
    url = f"{BASE}/fhir/PlanDefinition/workup.net.sstr-pet"
    _, by_url, _ = get(client, f"/fhir/PlanDefinition?url={url}")
    assert [e["resource"]["id"] for e in by_url["entry"]] == ["workup.net.sstr-pet"]
    _, by_id, _ = get(client, "/fhir/PlanDefinition?_id=path.insm1,path.ki67-required")
    assert sorted(e["resource"]["id"] for e in by_id["entry"]) == ["path.insm1", "path.ki67-required"]
    _, by_name, _ = get(client, "/fhir/PlanDefinition?name=SurveillanceN")
    assert sorted(e["resource"]["id"] for e in by_name["entry"]) == ["surveillance.nec", "surveillance.net"]
    _, by_title, _ = get(client, "/fhir/PlanDefinition?title:contains=INSM1")
    assert "path.insm1" in [e["resource"]["id"] for e in by_title["entry"]]
    _, none, _ = get(client, "/fhir/PlanDefinition?url=http://elsewhere/x")
    assert none["total"] == 0 and none["entry"] == []


def test_code_system_lists_every_id_and_the_project_codes(client):
    status, cs, _ = get(client, "/fhir/CodeSystem/nanets-g3-recommendation")
    assert status == 200
    CodeSystem.model_validate(cs)
    assert cs["url"] == GUIDELINE_SYSTEM
    codes = {c["code"] for c in cs["concept"]}
    assert set(IDS) <= codes
    assert {"scope.not-applicable", "data-quality.ignored-resources", "data-gap.unreadable"} <= codes
    needs = {n for p in PREDICATES.predicates.values() for n in p.needs}
    assert {f"data-gap.{n}" for n in needs} <= codes
    assert {"data-gap.localized-treatment-completed", "data-gap.metastatic-treatment-start"} <= codes
    assert get(client, "/fhir/CodeSystem/other")[0] == 404


def test_value_set_read_and_404(client):
    status, vs, _ = get(client, "/fhir/ValueSet/sstr-pet")
    assert status == 200 and vs["resourceType"] == "ValueSet" and vs["id"] == "sstr-pet"
    assert get(client, "/fhir/ValueSet/no-such-set")[0] == 404


def test_capability_statement(client):
    status, cap, _ = get(client, "/fhir/metadata")
    assert status == 200
    CapabilityStatement.model_validate(cap)
    types = {r["type"] for r in cap["rest"][0]["resource"]}
    assert {"PlanDefinition", "ActivityDefinition", "CodeSystem", "ValueSet"} <= types


def _rendered(rec):
    schedule = None
    if rec.kind == "schedule":
        from datetime import date

        d = date(2026, 1, 1)
        schedule = ScheduleStatus(d, 1.0, 3, 3, None, d, overdue=True, finished=False)
    order = DraftOrder("ServiceRequest", "d1", frozenset(rec.orders), "draft") if rec.is_avoid else None
    return recommendation_card(
        Decision(rec, Outcome.FIRES, {}, order=order, schedule=schedule), CardContext("h", BASE, "p"), "Condition/c"
    )


@pytest.mark.parametrize("rec_id", IDS)
def test_every_canonical_a_card_can_emit_resolves(client, rec_id):
    card = _rendered(knowledge()[rec_id])
    assert card["source"]["topic"]["code"] in CODES
    for suggestion in card.get("suggestions", []):
        for action in suggestion["actions"]:
            for canonical in action.get("resource", {}).get("instantiatesCanonical", []):
                path = urlsplit(canonical).path
                status, pd, _ = get(client, path)
                assert status == 200 and pd["url"] == canonical


def test_canonicals_from_a_real_hook_response_resolve(client, call_hook):
    from tests.guideline.workup_fhir import ki, liver_mets, nen, request

    _, body = call_hook(request(nen("NEC", "C18.7"), ki(80), liver_mets()))
    canonicals = {
        url
        for card in body["cards"]
        for s in card.get("suggestions", [])
        for a in s["actions"]
        for url in a.get("resource", {}).get("instantiatesCanonical", [])
    }
    assert canonicals
    for url in canonicals:
        status, pd, _ = get(client, urlsplit(url).path)
        assert status == 200 and pd["url"] == url


def test_fhir_endpoints_need_no_authentication(tmp_path):
    from cds_service import create_app

    app = create_app({"CDS_AUTH": "on", "DATABASE_URL": f"sqlite:///{tmp_path / 'f.db'}"})
    response = app.test_client().get("/fhir/PlanDefinition/path.ki67-required")
    assert response.status_code == 200
