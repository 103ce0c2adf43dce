"""FHIR builders and response helpers for the part-A HTTP tests (the patient-view hook end to end).

Resources follow INPUTS.md with codes from codes.md (builders of ``tests.support.fhir`` plus the few
forms they lack). Dates are relative to the real today, because the hook evaluates with
``date.today()``: ``day(20)`` is 20 days ago.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from cds_service.guideline import GUIDELINE_SYSTEM
from tests.support.fhir import (
    CPT,
    ICD10,
    LOINC,
    NEN_FACT,
    RXNORM,
    SNOMED,
    cc,
    condition,
    disease_status,
    hook_request,
    ki67,
    m_category,
    nen_condition,
    nen_fact,
    observation,
    patient,
    report,
    secondary,
    service_request,
    subject,
)

NEN_ID = "nen-1"
NEN_REF = f"Condition/{NEN_ID}"
HIGH = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": "H"}]}
NORMAL = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": "N"}]}
POSITIVE, NEGATIVE = "10828004", "260385009"


def day(days_ago: int) -> str:
    return (date.today() - timedelta(days=days_ago)).isoformat()


def nen(kind: str = "NEC", site: str = "C18.7", *, dx: int = 20, **kw: Any) -> dict[str, Any]:
    """The primary NEN (ICD-O-3 morphology + topography), diagnosed ``dx`` days ago."""
    return nen_condition(kind, site, onset=day(dx), id=NEN_ID, **kw)


def liver_mets(dx: int = 20) -> dict[str, Any]:
    return secondary("C78.7", onset=day(dx))


def m0(days: int = 19) -> dict[str, Any]:
    return m_category("1229901006", effective=day(days))


def ki(percent: float, days: int = 18) -> dict[str, Any]:
    return ki67(percent, effective=day(days))


def status(snomed: str, days: int) -> dict[str, Any]:
    """CancerDiseaseStatus: 271299001 worsened, 359746009 stable, 260415000 not detected."""
    return disease_status(snomed, effective=day(days))


NED, PROGRESSION, STABLE = "260415000", "271299001", "359746009"


def flag(code: str, value: bool, days: int = 10) -> dict[str, Any]:
    return nen_fact(code, valueBoolean=value, effective=day(days))


def ihc(code: dict[str, Any], value: dict[str, Any], days: int = 15) -> dict[str, Any]:
    return observation(code, valueCodeableConcept=value, effective=day(days))


def synaptophysin(positive: bool) -> dict[str, Any]:
    return ihc(cc(LOINC, "10514-8"), cc(SNOMED, POSITIVE if positive else NEGATIVE))


def chromogranin_ihc(positive: bool) -> dict[str, Any]:
    return ihc(cc(LOINC, "10471-1"), cc(SNOMED, POSITIVE if positive else NEGATIVE))


def p53(aberrant: bool) -> dict[str, Any]:
    return ihc(cc(LOINC, "14229-9"), cc(NEN_FACT, "p53-aberrant" if aberrant else "p53-wild-type"))


def rb(lost: bool) -> dict[str, Any]:
    return ihc(cc(NEN_FACT, "rb-ihc"), cc(NEN_FACT, "rb-lost" if lost else "rb-retained"))


def imaging(code: dict[str, Any], days: int, conclusion: str | None = None) -> dict[str, Any]:
    return report(code, date=day(days), conclusion=conclusion)


def ct(days: int) -> dict[str, Any]:
    return imaging(cc(SNOMED, "1148701004", "CT of abdomen and pelvis with IV contrast"), days)


def sstr(days: int, positive: bool | None = True) -> dict[str, Any]:
    conclusion = None if positive is None else (POSITIVE if positive else NEGATIVE)
    return imaging(cc(SNOMED, "764695006", text="Ga-68 DOTATATE PET/CT"), days, conclusion)


def fdg(days: int, positive: bool | None = True) -> dict[str, Any]:
    conclusion = None if positive is None else (POSITIVE if positive else NEGATIVE)
    return imaging(cc(SNOMED, "443271005", "FDG PET/CT"), days, conclusion)


def brain_mri(days: int) -> dict[str, Any]:
    return imaging(cc(LOINC, "24587-8", "MR Brain WO and W contrast IV"), days)


def echo(days: int) -> dict[str, Any]:
    return imaging(cc(SNOMED, "40701008", "Echocardiography"), days)


def colonoscopy(days: int) -> dict[str, Any]:
    return procedure(cc(SNOMED, "73761001", "Colonoscopy"), days)


def egd(days: int) -> dict[str, Any]:
    return procedure(cc(CPT, "43239", "EGD with biopsy"), days)


def procedure(
    code: dict[str, Any], days: int, *, surgical: bool = False, reason: str | None = None, status: str = "completed"
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Procedure",
        "id": f"proc-{code.get('text') or code['coding'][0]['code']}-{days}".replace(" ", "-").lower(),
        "status": status,
        "code": code,
        "subject": subject(),
        "performedDateTime": day(days),
    }
    if surgical:
        resource["category"] = cc(SNOMED, "387713003", "Surgical procedure")
    if reason:
        resource["reasonReference"] = [{"reference": reason}]
    return resource


def resection(days: int, text: str = "Low anterior resection of rectum") -> dict[str, Any]:
    return procedure({"text": text}, days, surgical=True, reason=NEN_REF)


def chemoradiation(days: int) -> dict[str, Any]:
    return procedure({"text": "Chemoradiation"}, days)


def symptom(icd10: str = "R51.9", days: int = 7, verification: str = "confirmed") -> dict[str, Any]:
    return condition(cc(ICD10, icd10), onset=day(days), verification=verification)


def five_hiaa(elevated: bool, days: int = 10) -> dict[str, Any]:
    return observation(
        cc(LOINC, "1695-6", "5-Hydroxyindoleacetate [Mass/time] in 24 hour Urine"),
        valueQuantity={"value": 25 if elevated else 4, "unit": "mg/(24.h)", "system": "http://unitsofmeasure.org"},
        interpretation=[HIGH if elevated else NORMAL],
        effective=day(days),
    )


def msi_stable(days: int = 10) -> dict[str, Any]:
    return observation(cc(LOINC, "81695-9"), valueCodeableConcept=cc(LOINC, "LA14122-8", "Stable"), effective=day(days))


def ngs_report(days: int = 10) -> dict[str, Any]:
    return report(cc(LOINC, "51969-4", "Genetic analysis report"), date=day(days))


def medication(rxnorm: str, name: str, days: int, status: str = "active") -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": f"mr-{name}-{days}",
        "status": status,
        "intent": "order",
        "medicationCodeableConcept": cc(RXNORM, rxnorm, name, text=name),
        "subject": subject(),
        "authoredOn": day(days),
    }


def medication_statement(rxnorm: str, name: str, start: int, end: int) -> dict[str, Any]:
    return {
        "resourceType": "MedicationStatement",
        "id": f"ms-{name}-{start}",
        "status": "completed",
        "medicationCodeableConcept": cc(RXNORM, rxnorm, name, text=name),
        "subject": subject(),
        "effectivePeriod": {"start": day(start), "end": day(end)},
    }


def etoposide_allergy() -> dict[str, Any]:
    return {
        "resourceType": "AllergyIntolerance",
        "id": "allergy-etoposide",
        "clinicalStatus": cc("http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "active"),
        "code": cc(RXNORM, "4179", "etoposide"),
        "patient": subject(),
    }


def pending(code: dict[str, Any], status: str = "active") -> dict[str, Any]:
    return service_request(code, status=status)


def request(*resources: dict[str, Any]) -> dict[str, Any]:
    return hook_request("patient-view", patient(), *resources)


# ---------------------------------------------------------------- reading the response (CONTRACT.md)


def topics(body: dict[str, Any]) -> list[str]:
    return [
        c["source"]["topic"]["code"]
        for c in body["cards"]
        if c.get("source", {}).get("topic", {}).get("system") == GUIDELINE_SYSTEM
    ]


def card(body: dict[str, Any], rec_id: str) -> dict[str, Any]:
    found = [c for c in body["cards"] if c["source"]["topic"]["code"] == rec_id]
    assert len(found) == 1, f"{rec_id}: {len(found)} cards"
    return found[0]


def created(card_json: dict[str, Any]) -> list[dict[str, Any]]:
    return [a["resource"] for s in card_json.get("suggestions", []) for a in s["actions"] if a["type"] == "create"]


def delivered(body: dict[str, Any]) -> set[str]:
    """Catalog ids the response delivers: topic codes and the ids named by suggested resources."""
    ids = set(topics(body))
    for c in body["cards"]:
        for resource in created(c):
            for url in resource.get("instantiatesCanonical", []):
                ids.add(url.rsplit("/", 1)[-1])
            for uri in resource.get("instantiatesUri", []):
                ids.add(uri.rsplit("#", 1)[-1].rsplit("/", 1)[-1])
            for tag in resource.get("meta", {}).get("tag", []):
                if tag.get("system") == GUIDELINE_SYSTEM:
                    ids.add(tag["code"])
    return ids
