"""Builders for test FHIR R4 resources in the shapes of mCODE STU4 / genomics-reporting examples.

Codes come from shared/terminology/codes.md (verified) and shared/guideline/INPUTS.md. Each
builder returns a plain dict; ``bundle()`` wraps resources in a collection Bundle and
``prefetch_for()`` splits them into the service's prefetch keys, as an EHR would.
"""

from __future__ import annotations

import itertools
from typing import Any

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
NCIT = "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl"
HGNC = "http://www.genenames.org"
CPT = "http://www.ama-assn.org/go/cpt"
NEN_FACT = "https://nen-cds.org/fhir/CodeSystem/nen-fact"
HISTOLOGY_EXT = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-histology-morphology-behavior"
PATIENT_ID = "pt-1"

_ids = itertools.count(1)


def _id(prefix: str) -> str:
    return f"{prefix}-{next(_ids)}"


def cc(system: str, code: str, display: str | None = None, text: str | None = None) -> dict[str, Any]:
    coding: dict[str, Any] = {"system": system, "code": code}
    if display:
        coding["display"] = display
    concept: dict[str, Any] = {"coding": [coding]}
    if text:
        concept["text"] = text
    return concept


def subject(patient_id: str = PATIENT_ID) -> dict[str, str]:
    return {"reference": f"Patient/{patient_id}"}


def patient(patient_id: str = PATIENT_ID) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": patient_id, "gender": "female"}


def condition(
    code: dict[str, Any],
    *,
    morphology: str | None = None,
    body_site: dict[str, Any] | None = None,
    verification: str = "confirmed",
    clinical: str = "active",
    onset: str | None = "2026-09-01",
    id: str | None = None,
    patient_id: str = PATIENT_ID,
    **extra: Any,
) -> dict[str, Any]:
    """A cancer Condition; ``morphology`` is an ICD-O-3 code put in the mCODE histology extension."""
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": id or _id("cond"),
        "clinicalStatus": cc("http://terminology.hl7.org/CodeSystem/condition-clinical", clinical),
        "verificationStatus": cc("http://terminology.hl7.org/CodeSystem/condition-ver-status", verification),
        "category": [cc("http://terminology.hl7.org/CodeSystem/condition-category", "problem-list-item")],
        "code": code,
        "subject": subject(patient_id),
    }
    if morphology:
        resource["extension"] = [{"url": HISTOLOGY_EXT, "valueCodeableConcept": cc(ICDO3, morphology)}]
    if body_site:
        resource["bodySite"] = [body_site]
    if onset:
        resource["onsetDateTime"] = onset
    resource.update(extra)
    return resource


def nen_condition(kind: str = "NEC", site: str = "C25.4", icd10: str | None = None, **kw: Any) -> dict[str, Any]:
    """A primary NEN: kind NET (8249/3), NEC (8246/3), SCNEC (8041/3), LCNEC (8013/3) or MINEN (8154/3).

    The morphology sits in the mCODE histology extension; ``site`` is the ICD-O-3 topography in
    bodySite; ``icd10`` the Condition.code (default C7A.1 for NEC, C7A.8 for NET).
    """
    morph = {"NET": "8249/3", "NEC": "8246/3", "SCNEC": "8041/3", "LCNEC": "8013/3", "MINEN": "8154/3"}[kind]
    code = cc(ICD10, icd10 or ("C7A.8" if kind == "NET" else "C7A.1"))
    return condition(code, morphology=morph, body_site=cc(ICDO3, site), **kw)


def secondary(icd10: str, *, id: str | None = None, **kw: Any) -> dict[str, Any]:
    return condition(cc(ICD10, icd10), id=id or _id("met"), **kw)


def observation(
    code: dict[str, Any],
    *,
    effective: str | None = "2026-09-10",
    id: str | None = None,
    status: str = "final",
    patient_id: str = PATIENT_ID,
    **value: Any,
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": id or _id("obs"),
        "status": status,
        "code": code,
        "subject": subject(patient_id),
    }
    if effective:
        resource["effectiveDateTime"] = effective
    resource.update(value)
    return resource


def ki67(percent: float, **kw: Any) -> dict[str, Any]:
    return observation(
        cc(LOINC, "29593-1", "Cells.Ki-67 nuclear Ag/cells in Tissue by Immune stain"),
        valueQuantity={"value": percent, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%"},
        **kw,
    )


def m_category(value: str = "1229903009", **kw: Any) -> dict[str, Any]:
    """TNM distant metastases category: 1229903009 cM1, 1229916009 pM1, 1229901006 cM0."""
    return observation(cc(SNOMED, "399387003", "cM category"), valueCodeableConcept=cc(SNOMED, value), **kw)


def figo(ncit: str, **kw: Any) -> dict[str, Any]:
    return observation(cc(SNOMED, "385361009"), valueCodeableConcept=cc(NCIT, ncit), **kw)


def disease_status(snomed: str, **kw: Any) -> dict[str, Any]:
    """mCODE CancerDiseaseStatus: 271299001 worsened, 359746009 stable, 260415000 not detected."""
    return observation(cc(LOINC, "97509-4"), valueCodeableConcept=cc(SNOMED, snomed), **kw)


def nen_fact(code: str, **value: Any) -> dict[str, Any]:
    effective = value.pop("effective", "2026-09-10")
    return observation(cc(NEN_FACT, code), effective=effective, **value)


def report(
    code: dict[str, Any],
    *,
    date: str = "2026-09-05",
    conclusion: str | None = None,
    id: str | None = None,
    status: str = "final",
    patient_id: str = PATIENT_ID,
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "id": id or _id("dr"),
        "status": status,
        "code": code,
        "subject": subject(patient_id),
        "effectiveDateTime": date,
    }
    if conclusion:
        resource["conclusionCode"] = [cc(SNOMED, conclusion)]
    return resource


def sstr_pet(positive: bool | None = True, **kw: Any) -> dict[str, Any]:
    conclusion = None if positive is None else ("10828004" if positive else "260385009")
    return report(cc(SNOMED, "764695006", text="Ga-68 DOTATATE PET/CT"), conclusion=conclusion, **kw)


def ct_abdomen(**kw: Any) -> dict[str, Any]:
    return report(cc(SNOMED, "1148701004", "CT of abdomen and pelvis with IV contrast"), **kw)


def medication_request(
    rxnorm: str | None,
    text: str,
    *,
    authored: str = "2026-09-20",
    status: str = "active",
    id: str | None = None,
    intent: str = "order",
    patient_id: str = PATIENT_ID,
) -> dict[str, Any]:
    concept: dict[str, Any] = cc(RXNORM, rxnorm, text) if rxnorm else {}
    concept["text"] = text
    return {
        "resourceType": "MedicationRequest",
        "id": id or _id("mr"),
        "status": status,
        "intent": intent,
        "medicationCodeableConcept": concept,
        "subject": subject(patient_id),
        "authoredOn": authored,
    }


def service_request(
    code: dict[str, Any], *, id: str | None = None, status: str = "draft", patient_id: str = PATIENT_ID
) -> dict[str, Any]:
    return {
        "resourceType": "ServiceRequest",
        "id": id or _id("sr"),
        "status": status,
        "intent": "order",
        "code": code,
        "subject": subject(patient_id),
    }


def bundle(*resources: dict[str, Any], type: str = "collection") -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": type, "entry": [{"resource": r} for r in resources]}


PREFETCH_KEYS = {
    "Condition": "conditions",
    "Observation": "observations",
    "Procedure": "procedures",
    "MedicationRequest": "medicationRequests",
    "MedicationStatement": "medicationStatements",
    "MedicationAdministration": "medicationAdministrations",
    "DiagnosticReport": "diagnosticReports",
    "ServiceRequest": "serviceRequests",
    "ImagingStudy": "imagingStudies",
    "AllergyIntolerance": "allergies",
}


def prefetch_for(*resources: dict[str, Any]) -> dict[str, Any]:
    """Split resources into the service's prefetch keys as searchset Bundles (empty ones too)."""
    out: dict[str, Any] = {key: bundle(type="searchset") for key in PREFETCH_KEYS.values()}
    for r in resources:
        key = PREFETCH_KEYS.get(r["resourceType"])
        if key:
            out[key]["entry"].append({"resource": r})
    return out


def hook_request(
    hook: str,
    *resources: dict[str, Any],
    draft_orders: list[dict[str, Any]] | None = None,
    selections: list[str] | None = None,
    patient_id: str = PATIENT_ID,
    hook_instance: str = "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
) -> dict[str, Any]:
    context: dict[str, Any] = {"userId": "Practitioner/example", "patientId": patient_id}
    if hook in ("order-select", "order-sign"):
        drafts = draft_orders or []
        context["draftOrders"] = bundle(*drafts)
        if hook == "order-select":
            context["selections"] = selections or [f"{d['resourceType']}/{d['id']}" for d in drafts]
    return {"hook": hook, "hookInstance": hook_instance, "context": context, "prefetch": prefetch_for(*resources)}
