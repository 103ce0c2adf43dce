"""ActivityDefinitions (``fhir_profiles/ActivityDefinition``): what a suggestion creates."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

ACTIVITY_DIR = Path(__file__).resolve().parents[2] / "fhir_profiles" / "ActivityDefinition"


@cache
def activities() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(ACTIVITY_DIR.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("resourceType") != "ActivityDefinition" or data.get("kind") not in (
            "ServiceRequest",
            "MedicationRequest",
        ):
            raise ValueError(f"{path}: not an ActivityDefinition of kind ServiceRequest/MedicationRequest")
        found[data["id"]] = data
    return found


def build_resource(
    activity_id: str, *, patient_id: str | None, condition_ref: str | None, canonical: str, tag: dict[str, str]
) -> dict[str, Any]:
    """The draft resource an EHR creates when the clinician accepts the suggestion."""
    ad = activities()[activity_id]
    resource: dict[str, Any] = {"resourceType": ad["kind"], "status": "draft", "intent": "proposal"}
    if ad["kind"] == "ServiceRequest":
        resource["code"] = copy.deepcopy(ad["code"])
    else:
        resource["medicationCodeableConcept"] = copy.deepcopy(ad["productCodeableConcept"])
    if patient_id:
        resource["subject"] = {"reference": f"Patient/{patient_id}"}
    if condition_ref:
        resource["reasonReference"] = [{"reference": condition_ref}]
    resource["instantiatesCanonical"] = [canonical]
    resource["meta"] = {"tag": [tag]}
    if ad.get("description"):
        resource["note"] = [{"text": ad["description"]}]
    return resource
