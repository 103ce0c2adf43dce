"""Synthetic demo patients (FHIR Bundles in ``demo/patients/``) for the README's run command and tests.

With ``DEMO_DATA=1`` the service also serves:
- ``GET /demo/``: the demo patients, each with its patient-view cards and explanation link;
- ``GET /demo/<name>/request.json``: a ready-made patient-view request (prefetch filled) for curl or a sandbox;
- ``GET /demo/fhir/<name>/<Type>?patient=<id>``: a read-only FHIR search over the patient's bundle, so the
  FHIR-server fallback can be tried (``"fhirServer": "http://127.0.0.1:8080/demo/fhir/<name>"``).
The bundles are synthetic: no real person's data.
"""

from __future__ import annotations

import json
import uuid
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, abort, jsonify, render_template_string, request

from cds_service.demo.dates import as_of
from cds_service.settings import Settings

PATIENT_DIR = Path(__file__).resolve().parent / "patients"
PREFETCH_TYPES = {
    "conditions": "Condition",
    "observations": "Observation",
    "procedures": "Procedure",
    "medicationRequests": "MedicationRequest",
    "medicationStatements": "MedicationStatement",
    "medicationAdministrations": "MedicationAdministration",
    "diagnosticReports": "DiagnosticReport",
    "serviceRequests": "ServiceRequest",
    "imagingStudies": "ImagingStudy",
    "allergies": "AllergyIntolerance",
}


@cache
def _demo_files() -> dict[str, dict[str, Any]]:
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(PATIENT_DIR.glob("*.json"))}


def demo_patients(today: date | None = None) -> dict[str, dict[str, Any]]:
    """Demo bundles by file stem, their dates moved so that each bundle's as-of date is today."""
    today = today or date.today()
    return {name: as_of(bundle, today) for name, bundle in _demo_files().items()}


def _resources(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle.get("entry", []) if isinstance(e.get("resource"), dict)]


def patient_id_of(bundle: dict[str, Any]) -> str:
    return next((r["id"] for r in _resources(bundle) if r.get("resourceType") == "Patient"), "demo")


def patient_view_request(name: str, hook_instance: str | None = None) -> dict[str, Any]:
    """The patient-view request an EHR would send for this demo patient, prefetch filled."""
    bundle = demo_patients()[name]
    resources = _resources(bundle)
    prefetch = {
        key: {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [{"resource": r} for r in resources if r.get("resourceType") == rtype],
        }
        for key, rtype in PREFETCH_TYPES.items()
    }
    return {
        "hook": "patient-view",
        "hookInstance": hook_instance or str(uuid.uuid4()),
        "context": {"userId": "Practitioner/demo-oncologist", "patientId": patient_id_of(bundle)},
        "prefetch": prefetch,
    }


def _description(bundle: dict[str, Any]) -> str:
    meta = bundle.get("meta") or {}
    tags = [t.get("display") for t in meta.get("tag", []) if isinstance(t, dict) and t.get("display")]
    return tags[0] if tags else ""


bp = Blueprint("demo", __name__, url_prefix="/demo")

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>NANETS G3 NEN demo patients</title>
<style>
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b;line-height:1.45}
.card{border:1px solid #888;border-left:.4rem solid #2b6cb0;border-radius:4px;padding:.5rem 1rem;margin:.6rem 0}
.warning{border-left-color:#b7791f}.critical{border-left-color:#c53030}
code{background:#eef;padding:0 .2rem} a{color:#1a4f8b}
</style></head><body>
<h1>NANETS G3 NEN demo patients</h1>
<p>Synthetic patients (no real data). Each runs through the <code>patient-view</code> hook of this service.</p>
{% for name, description, cards in patients %}
<section><h2 id="{{ name }}">{{ name }}</h2>{% if description %}<p>{{ description }}</p>{% endif %}
<p><a href="{{ name }}/request.json">patient-view request (JSON)</a></p>
{% for card in cards %}<div class="card {{ card.indicator }}"><strong>[{{ card.indicator }}]</strong>
{{ card.summary }} <small><code>{{ card.source.topic.code if card.source.topic else '' }}</code></small>
{% for link in card.links or [] %}{% if link.type == 'absolute' %} ·
<a href="{{ link.url }}">{{ link.label }}</a>{% endif %}{% endfor %}
</div>{% else %}<p>No cards.</p>{% endfor %}</section>
{% endfor %}
</body></html>"""


@bp.get("/")
def index():
    from cds_service.api.hooks_routes import call_service

    rows = []
    for name, bundle in demo_patients().items():
        body = call_service("nanets-g3-nen-patient-view", patient_view_request(name))
        rows.append((name, _description(bundle), body["cards"]))
    return render_template_string(_PAGE, patients=rows)


@bp.get("/<name>/request.json")
def request_json(name: str):
    if name not in _demo_files():
        abort(404)
    return jsonify(patient_view_request(name))


@bp.get("/fhir/<name>/<resource_type>")
def fhir_search(name: str, resource_type: str):
    bundle = demo_patients().get(name)
    if bundle is None:
        abort(404)
    wanted = request.args.get("patient")
    entries = []
    for r in _resources(bundle):
        if r.get("resourceType") != resource_type:
            continue
        ref = ((r.get("subject") or r.get("patient") or {}).get("reference") or "").split("/")[-1]
        if wanted is None or ref == wanted:
            entries.append(
                {
                    "fullUrl": f"{request.host_url.rstrip('/')}/demo/fhir/{name}/{resource_type}/{r.get('id')}",
                    "resource": r,
                }
            )
    response = jsonify({"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries})
    response.mimetype = "application/fhir+json"
    return response


def init_app(app: Flask, settings: Settings) -> None:
    if settings.demo_data:
        app.register_blueprint(bp)
        current = app.extensions.setdefault("nen_public_prefixes", [])
        current.append("/demo")
