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

# RxNorm ingredient codes marked VERIFIED in shared/terminology/codes.md section 4 (the only ones the
# service emits; other agents are recorded by text in the tests, as an EHR might send them).
VERIFIED_RXNORM = {
    "cisplatin": "2555",
    "carboplatin": "40048",
    "etoposide": "4179",
    "irinotecan": "51499",
    "fluorouracil": "4492",
    "leucovorin": "6313",
    "oxaliplatin": "32592",
    "capecitabine": "194000",
    "sunitinib": "357977",
    "pembrolizumab": "1547545",
    "paclitaxel": "56946",
}

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


def drug(rxnorm: str | None, text: str) -> dict[str, Any]:
    """A medication CodeableConcept: the RxNorm code when given, and always the text."""
    concept: dict[str, Any] = cc(RXNORM, rxnorm, text) if rxnorm else {}
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
    concept = drug(rxnorm, text)
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


# ---------------------------------------------------------------- facts-layer builders (additive)
SO = "http://www.sequenceontology.org"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
MCODE_SD = "http://hl7.org/fhir/us/mcode/StructureDefinition/"


def histology_observation(
    morphology: str, *, focus: str | None = None, system: str = ICDO3, **kw: Any
) -> dict[str, Any]:
    """mCODE HistologicBehaviorAndType: LOINC 31206-6 valued with an ICD-O-3 morphology."""
    extra: dict[str, Any] = {"valueCodeableConcept": cc(system, morphology)}
    if focus:
        extra["focus"] = [{"reference": focus}]
    return observation(cc(LOINC, "31206-6", "Behavior ICD-O-3 Cancer"), **extra, **kw)


def histologic_grade(snomed: str, *, loinc: bool = False, **kw: Any) -> dict[str, Any]:
    """mCODE HistologicGrade (NCIt C18000, or LOINC 33732-9): 61026006 G3, 1663004 G2, 54102005 G1."""
    code = cc(LOINC, "33732-9") if loinc else cc(NCIT, "C18000", "Histologic Grade")
    return observation(code, valueCodeableConcept=cc(SNOMED, snomed), **kw)


def mitotic_count(value: float, unit: str | None = "/(2.mm2)", **kw: Any) -> dict[str, Any]:
    qty: dict[str, Any] = {"value": value}
    if unit:
        qty.update({"unit": unit, "system": "http://unitsofmeasure.org", "code": unit})
    return observation(cc(NEN_FACT, "mitotic-count-per-2mm2"), valueQuantity=qty, **kw)


def quantity_obs(system: str, code: str, value: float, unit: str | None, **kw: Any) -> dict[str, Any]:
    qty: dict[str, Any] = {"value": value}
    if unit is not None:
        qty.update({"unit": unit, "system": "http://unitsofmeasure.org", "code": unit})
    return observation(cc(system, code), valueQuantity=qty, **kw)


def coded_obs(system: str, code: str, value_system: str, value_code: str, **kw: Any) -> dict[str, Any]:
    """An Observation ``system#code`` valued with the CodeableConcept ``value_system#value_code``."""
    return observation(cc(system, code), valueCodeableConcept=cc(value_system, value_code), **kw)


def lab(
    loinc: str,
    value: float | None,
    unit: str = "ng/mL",
    *,
    interpretation: str | None = None,
    high: float | None = None,
    high_unit: str | None = None,
    **kw: Any,
) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if value is not None:
        extra["valueQuantity"] = {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}
    if interpretation:
        extra["interpretation"] = [cc(INTERPRETATION, interpretation)]
    if high is not None:
        hu = high_unit or unit
        extra["referenceRange"] = [
            {"high": {"value": high, "unit": hu, "system": "http://unitsofmeasure.org", "code": hu}}
        ]
    return observation(cc(LOINC, loinc), **extra, **kw)


def variant(
    *genes: str,
    protein: str | None = None,
    dna_change_type: str | None = None,
    component_text: str | None = None,
    present: bool | None = True,
    gene_system: str = HGNC,
    **kw: Any,
) -> dict[str, Any]:
    """genomics-reporting Variant (LOINC 69548-6) with gene-studied components (HGNC ids)."""
    components: list[dict[str, Any]] = [
        {"code": cc(LOINC, "48018-6", "Gene studied [ID]"), "valueCodeableConcept": cc(gene_system, g)} for g in genes
    ]
    if protein:
        components.append(
            {
                "code": cc(LOINC, "48005-3", "Amino acid change (pHGVS)"),
                "valueCodeableConcept": cc("http://varnomen.hgvs.org", protein),
            }
        )
    if dna_change_type:
        components.append(
            {"code": cc(LOINC, "48019-4", "DNA change type"), "valueCodeableConcept": cc(SO, dna_change_type)}
        )
    if component_text:
        components.append({"code": {"text": "Variant description"}, "valueString": component_text})
    extra: dict[str, Any] = {"component": components}
    if present is True:
        extra["valueCodeableConcept"] = cc(LOINC, "LA9633-4", "Present")
    elif present is False:
        extra["valueCodeableConcept"] = cc(SNOMED, "260385009", "Negative")
    return observation(cc(LOINC, "69548-6", "Genetic variant assessment"), **extra, **kw)


def procedure(
    code: dict[str, Any],
    *,
    performed: str | None = "2026-06-01",
    status: str = "completed",
    category: str | None = "387713003",
    reason: str | None = None,
    profile: str | None = None,
    id: str | None = None,
    patient_id: str = PATIENT_ID,
    **extra: Any,
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Procedure",
        "id": id or _id("proc"),
        "status": status,
        "code": code,
        "subject": subject(patient_id),
    }
    if category:
        resource["category"] = cc(SNOMED, category)
    if performed:
        resource["performedDateTime"] = performed
    if reason:
        resource["reasonReference"] = [{"reference": reason}]
    if profile:
        resource["meta"] = {"profile": [MCODE_SD + profile]}
    resource.update(extra)
    return resource


def imaging_study(code: dict[str, Any], *, started: str = "2026-09-05", status: str = "available", **kw: Any):
    return {
        "resourceType": "ImagingStudy",
        "id": kw.pop("id", None) or _id("img"),
        "status": status,
        "subject": subject(kw.pop("patient_id", PATIENT_ID)),
        "started": started,
        "procedureCode": [code],
        **kw,
    }


def medication(code: dict[str, Any], *, id: str | None = None) -> dict[str, Any]:
    return {"resourceType": "Medication", "id": id or _id("med"), "code": code}


def medication_administration(
    rxnorm: str | None,
    text: str,
    *,
    effective: str = "2026-09-20",
    end: str | None = None,
    status: str = "completed",
    id: str | None = None,
    patient_id: str = PATIENT_ID,
    **extra: Any,
) -> dict[str, Any]:
    concept = drug(rxnorm, text)
    resource: dict[str, Any] = {
        "resourceType": "MedicationAdministration",
        "id": id or _id("ma"),
        "status": status,
        "medicationCodeableConcept": concept,
        "subject": subject(patient_id),
    }
    if end:
        resource["effectivePeriod"] = {"start": effective, "end": end}
    else:
        resource["effectiveDateTime"] = effective
    resource.update(extra)
    return resource


def medication_statement(
    rxnorm: str | None,
    text: str,
    *,
    start: str | None = "2026-01-10",
    end: str | None = None,
    status: str = "completed",
    id: str | None = None,
    patient_id: str = PATIENT_ID,
    **extra: Any,
) -> dict[str, Any]:
    concept = drug(rxnorm, text)
    resource: dict[str, Any] = {
        "resourceType": "MedicationStatement",
        "id": id or _id("ms"),
        "status": status,
        "medicationCodeableConcept": concept,
        "subject": subject(patient_id),
    }
    if start:
        resource["effectivePeriod"] = {"start": start, **({"end": end} if end else {})}
    resource.update(extra)
    return resource


def allergy(code: dict[str, Any], *, clinical: str = "active", verification: str = "confirmed", **extra: Any):
    return {
        "resourceType": "AllergyIntolerance",
        "id": extra.pop("id", None) or _id("allergy"),
        "clinicalStatus": cc("http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", clinical),
        "verificationStatus": cc("http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", verification),
        "code": code,
        "patient": subject(extra.pop("patient_id", PATIENT_ID)),
        **extra,
    }


def operation_outcome(severity: str = "error", id: str = "oo-1") -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "id": id,
        "issue": [{"severity": severity, "code": "timeout", "diagnostics": "search timed out"}],
    }
