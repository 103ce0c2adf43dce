"""The demo patients (cds_service/demo/patients/*.json) together exercise the whole catalog.

Every demo patient goes through the HTTP patient-view hook. The test FAILS, naming the ids, if a
non-avoid catalog id is never delivered (topic code, instantiatesCanonical, instantiatesUri or
meta.tag) by any patient, or is never silent in an in-scope patient of its population (NET / NEC;
G3 = any). Part A (a-*), part B (b-*) and the order checks (c-*) fill their ids in parallel: the test
reports exactly which ids are still missing.

Dates: a bundle with ``timestamp`` (its as-of date) has every date shifted by today - as-of, so the
windows (newly diagnosed, surveillance due dates) keep their meaning as the calendar moves on.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from functools import cache
from typing import Any

import pytest
import yaml

from cds_service.demo import PATIENT_DIR, PREFETCH_TYPES
from cds_service.demo.dates import as_of, shift_dates
from cds_service.facts.model import Differentiation
from cds_service.guideline.evaluate import Scope
from cds_service.guideline.knowledge import knowledge
from cds_service.pipeline import evaluate_bundle
from tests.guideline.workup_fhir import delivered
from tests.support.paths import CATALOG_FILE

_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})((?:T[0-9:.]+(?:Z|[+-]\d{2}:\d{2})?)?)$")


def non_avoid_catalog() -> dict[str, str]:
    """Non-avoid catalog ids with their population (the knowledge base when the catalog is absent)."""
    if CATALOG_FILE.exists():
        entries = yaml.safe_load(CATALOG_FILE.read_text(encoding="utf-8"))
        return {e["id"]: e["population"] for e in entries if e["kind"] != "avoid"}
    return {r.id: r.population for r in knowledge().values() if not r.is_avoid}


def as_of_today(bundle: dict[str, Any]) -> dict[str, Any]:
    return as_of(bundle, date.today())


def _resources(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle.get("entry", []) if isinstance(e.get("resource"), dict)]


def patient_view(name: str, bundle: dict[str, Any]) -> dict[str, Any]:
    resources = _resources(bundle)
    patient_id = next((r["id"] for r in resources if r.get("resourceType") == "Patient"), name)
    return {
        "hook": "patient-view",
        "hookInstance": f"00000000-0000-4000-8000-{abs(hash(name)) % 10**12:012d}",
        "context": {"userId": "Practitioner/demo", "patientId": patient_id},
        "prefetch": {
            key: {
                "resourceType": "Bundle",
                "type": "searchset",
                "entry": [{"resource": r} for r in resources if r.get("resourceType") == rtype],
            }
            for key, rtype in PREFETCH_TYPES.items()
        },
    }


@cache
def demo_bundles() -> dict[str, dict[str, Any]]:
    return {p.stem: as_of_today(json.loads(p.read_text(encoding="utf-8"))) for p in sorted(PATIENT_DIR.glob("*.json"))}


def population_of(bundle: dict[str, Any]) -> tuple[Scope, str | None]:
    facts, evaluation = evaluate_bundle(bundle)
    if facts.neoplasm is None:
        return evaluation.scope, None
    diff = facts.neoplasm.differentiation
    if diff is Differentiation.NET:
        return evaluation.scope, "NET"
    if diff in (Differentiation.NEC, Differentiation.MINEN):
        return evaluation.scope, "NEC"
    return evaluation.scope, "unknown"


@pytest.fixture(scope="module")
def responses(app):
    client = app.test_client()
    out: dict[str, tuple[set[str], Scope, str | None]] = {}
    for name, bundle in demo_bundles().items():
        response = client.post("/cds-services/nanets-g3-nen-patient-view", json=patient_view(name, bundle))
        assert response.status_code == 200, f"{name}: {response.status_code} {response.get_data(as_text=True)[:300]}"
        scope, population = population_of(bundle)
        out[name] = (delivered(response.get_json()), scope, population)
    return out


def test_demo_patients_are_synthetic_fhir_collections():
    assert demo_bundles(), "no demo patients"
    for name, bundle in demo_bundles().items():
        assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection", name
        patients = [r for r in _resources(bundle) if r["resourceType"] == "Patient"]
        assert len(patients) == 1, f"{name}: one Patient per bundle"
        ids = [(r["resourceType"], r.get("id")) for r in _resources(bundle)]
        assert len(ids) == len(set(ids)), f"{name}: duplicate resource ids"


def test_every_non_avoid_catalog_id_fires_in_one_demo_patient_and_is_silent_in_another(responses):
    catalog = non_avoid_catalog()
    never_fired, never_silent = [], []
    for rec_id, population in sorted(catalog.items()):
        fired_in = [n for n, (ids, _, _) in responses.items() if rec_id in ids]
        silent_in = [
            n
            for n, (ids, scope, pop) in responses.items()
            if scope is Scope.IN_SCOPE and rec_id not in ids and (population == "G3" or pop == population)
        ]
        if not fired_in:
            never_fired.append(rec_id)
        if not silent_in:
            never_silent.append(rec_id)
    message = []
    if never_fired:
        message.append(f"{len(never_fired)} ids never delivered by any demo patient: {never_fired}")
    if never_silent:
        message.append(
            f"{len(never_silent)} ids never silent in an in-scope patient of their population: {never_silent}"
        )
    assert not message, "\n".join(message)


def test_part_a_demo_patients_cover_part_a_ids(responses):
    """The part-A subset: passes on its own as soon as the a-* patients are in place."""
    part_a = {rid for rid, rec in knowledge().items() if rec.chapter.split("-", 1)[0] in PART_A_CHAPTERS}
    part_a = {rid for rid in part_a if not knowledge()[rid].is_avoid}
    a_only = {n: v for n, v in responses.items() if n.startswith("a-")}
    fired = set().union(*(ids for ids, _, _ in a_only.values()))
    assert not sorted(part_a - fired), f"part-A ids never delivered by an a-* patient: {sorted(part_a - fired)}"


PART_A_CHAPTERS = {"10", "20", "30", "40", "50", "95", "99"}


def test_no_nen_patient_gets_no_cards_and_g2_net_only_the_scope_card(app):
    client = app.test_client()
    bundles = demo_bundles()
    no_nen = client.post(
        "/cds-services/nanets-g3-nen-patient-view",
        json=patient_view("a-17", bundles["a-17-colon-adenocarcinoma-no-nen"]),
    ).get_json()
    assert no_nen["cards"] == []
    g2 = client.post(
        "/cds-services/nanets-g3-nen-patient-view", json=patient_view("a-18", bundles["a-18-g2-pancreatic-net"])
    ).get_json()
    assert [c["source"]["topic"]["code"] for c in g2["cards"]] == ["scope.not-applicable"]


def test_date_shift_keeps_relative_meaning():
    bundle = {"timestamp": "2026-01-01T00:00:00Z", "x": "2025-12-22", "y": "2025-12-22T10:00:00Z", "z": "C25.4"}
    shifted = shift_dates(bundle, timedelta(days=10))
    assert shifted["x"] == "2026-01-01" and shifted["y"] == "2026-01-01T10:00:00Z" and shifted["z"] == "C25.4"
