"""Deterministic synthetic data for the benchmark: one G3 NEN patient at three record sizes.

The patient: a poorly differentiated neuroendocrine carcinoma of the pancreas (mCODE histology
ICD-O-3 8246/3, Condition.code ICD-10-CM C7A.1, bodySite ICD-O-3 C25.4), Ki-67 70 %, liver
metastases (cM1), with unrelated comorbidities. The record grows the way a real one does:

- ~50 resources: the diagnostic work-up and the first carboplatin/etoposide cycle;
- ~300: first line (carboplatin/etoposide), progression, second line (FOLFIRI), restaging;
- ~2,000: three lines over about three years and dense lab/vital-sign noise.

Every resource uses the forms of shared/guideline/INPUTS.md with codes from
shared/terminology/codes.md (this is input data only: the benchmark never emits a code). The noise
(labs with ``referenceRange``, vital signs, unrelated conditions, supportive and home medications)
uses common LOINC / ICD-10-CM codes outside every value set the service reads, or text only.
Each size is exact (``len(patient_resources(300)) == 300``): clinical resources first, then
lab / vital-sign noise until the count is reached.

Deterministic: the same ``seed`` and ``anchor`` give byte-identical output. Dates are relative to
``anchor`` (default: today) so that the clinical picture the service sees through
``date.today()`` is the same on every day the benchmark runs.

``python -m bench.bundles --out DIR`` writes the nine hook requests as JSON files for inspection.
"""

from __future__ import annotations

import argparse
import json
import random
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from cds_service.hooks.services import PATIENT_PREFETCH, SERVICES

SIZES: tuple[int, ...] = (50, 300, 2000)
HOOKS: tuple[str, ...] = ("patient-view", "order-select", "order-sign")
SERVICE_IDS: dict[str, str] = {s.hook: s.id for s in SERVICES.values()}
PATIENT_ID = "bench-pt-1"
DEFAULT_SEED = 2023

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
NCIT = "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl"
UCUM = "http://unitsofmeasure.org"
NEN_FACT = "https://nen-cds.org/fhir/CodeSystem/nen-fact"
DICOM = "http://dicom.nema.org/resources/ontology/DCM"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
HISTOLOGY_EXT = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-histology-morphology-behavior"
MCODE = "http://hl7.org/fhir/us/mcode/StructureDefinition/"


# --- the shapes -----------------------------------------------------------------------------


def cc(system: str, code: str, display: str | None = None, text: str | None = None) -> dict[str, Any]:
    coding: dict[str, Any] = {"system": system, "code": code}
    if display:
        coding["display"] = display
    concept: dict[str, Any] = {"coding": [coding]}
    if text:
        concept["text"] = text
    return concept


def text_only(text: str) -> dict[str, Any]:
    return {"text": text}


def quantity(value: float, unit: str, code: str | None = None) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": code or unit}


@dataclass(frozen=True)
class Lab:
    loinc: str
    display: str
    unit: str
    low: float
    high: float
    mean: float
    sd: float
    digits: int = 1


# Noise labs: common chemistry / haematology (none is in a value set the guideline reads).
LABS: tuple[Lab, ...] = (
    Lab("718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL", 12.0, 15.5, 11.4, 1.3),
    Lab("6690-2", "Leukocytes [#/volume] in Blood by Automated count", "10*3/uL", 4.0, 11.0, 6.0, 2.2),
    Lab("777-3", "Platelets [#/volume] in Blood by Automated count", "10*3/uL", 150, 400, 210, 70, 0),
    Lab("751-8", "Neutrophils [#/volume] in Blood by Automated count", "10*3/uL", 1.8, 7.7, 3.6, 1.6),
    Lab("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL", 0.5, 1.1, 0.9, 0.2, 2),
    Lab("1742-6", "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma", "U/L", 7, 35, 30, 12, 0),
    Lab(
        "1920-8", "Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma", "U/L", 10, 35, 32, 12, 0
    ),
    Lab("1975-2", "Bilirubin.total [Mass/volume] in Serum or Plasma", "mg/dL", 0.1, 1.2, 0.8, 0.3),
    Lab("2951-2", "Sodium [Moles/volume] in Serum or Plasma", "mmol/L", 135, 145, 138, 3, 0),
    Lab("2823-3", "Potassium [Moles/volume] in Serum or Plasma", "mmol/L", 3.5, 5.1, 4.2, 0.4),
    Lab("2345-7", "Glucose [Mass/volume] in Serum or Plasma", "mg/dL", 70, 99, 118, 25, 0),
    Lab("1751-7", "Albumin [Mass/volume] in Serum or Plasma", "g/dL", 3.5, 5.0, 3.7, 0.4),
    Lab("2532-0", "Lactate dehydrogenase [Enzymatic activity/volume] in Serum or Plasma", "U/L", 135, 225, 260, 80, 0),
)
# Tumour markers the guideline does read (INPUTS.md 'Labs'; NSE from codes.md 2b), with reference ranges.
MARKERS: tuple[Lab, ...] = (
    Lab("9811-1", "Chromogranin A [Mass/volume] in Serum or Plasma", "ng/mL", 0, 95, 160, 60, 0),
    Lab("15060-7", "Enolase.neuron specific [Mass/volume] in Serum or Plasma", "ng/mL", 0, 16.3, 38, 14),
)
# Vital signs (FHIR vital-signs profile codes): (loinc, display, unit, mean, sd, digits).
VITALS: tuple[tuple[str, str, str, float, float, int], ...] = (
    ("8867-4", "Heart rate", "/min", 82, 10, 0),
    ("8310-5", "Body temperature", "Cel", 36.8, 0.3, 1),
    ("29463-7", "Body weight", "kg", 64, 2.5, 1),
    ("9279-1", "Respiratory rate", "/min", 16, 2, 0),
    ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%", 97, 1.2, 0),
)


@dataclass(frozen=True)
class Agent:
    rxnorm: str
    name: str
    sig: str
    days: tuple[int, ...]  # infusion days within a cycle


@dataclass(frozen=True)
class Regimen:
    name: str
    interval_days: int
    agents: tuple[Agent, ...]
    restage_every: int  # cycles between restaging CTs


# RxNorm ingredient codes marked VERIFIED in codes.md section 4.
CARBO_ETOPOSIDE = Regimen(
    "carboplatin + etoposide",
    21,
    (
        Agent("40048", "carboplatin", "carboplatin AUC 5 IV day 1", (1,)),
        Agent("4179", "etoposide", "etoposide 100 mg/m2 IV days 1-3", (1, 2, 3)),
    ),
    3,
)
FOLFIRI = Regimen(
    "FOLFIRI",
    14,
    (
        Agent("51499", "irinotecan", "irinotecan 180 mg/m2 IV day 1", (1,)),
        Agent("6313", "leucovorin", "leucovorin 400 mg/m2 IV day 1", (1,)),
        Agent("4492", "fluorouracil", "fluorouracil 2400 mg/m2 IV over 46 hours", (1,)),
    ),
    4,
)
PEMBROLIZUMAB = Regimen("pembrolizumab", 21, (Agent("1547545", "pembrolizumab", "pembrolizumab 200 mg IV", (1,)),), 4)

# Disease status (mCODE CancerDiseaseStatus values, INPUTS.md).
IMPROVED, STABLE, WORSENED = "268910001", "359746009", "271299001"


def _plan(size: int) -> tuple[list[tuple[Regimen, int]], int]:
    """Lines of therapy (regimen, cycles) and the monthly follow-up visits after the first line."""
    if size < 150:
        return [(CARBO_ETOPOSIDE, 1)], 0
    if size < 1000:
        return [(CARBO_ETOPOSIDE, 4), (FOLFIRI, 4)], 2
    return [(CARBO_ETOPOSIDE, 6), (FOLFIRI, 12), (PEMBROLIZUMAB, 10)], 6


def _outcomes(restagings: int, first: bool, last_progresses: bool) -> list[str]:
    """Disease status at each restaging of a line: response on first line, progression at the end of later ones."""
    if restagings <= 0:
        return []
    head = [IMPROVED] if first else [STABLE]
    outcomes = (head + [STABLE] * restagings)[:restagings]
    if last_progresses:
        outcomes[-1] = WORSENED
    return outcomes


# --- the generator --------------------------------------------------------------------------


class _Record:
    def __init__(self, seed: int, anchor: date, patient_id: str) -> None:
        self.rng = random.Random(seed)
        self.anchor = anchor
        self.patient_id = patient_id
        self.count = 0
        self.clinical: list[dict[str, Any]] = []
        self.visits: list[date] = []  # days with labs / vital signs

    # helpers
    def id(self, prefix: str) -> str:
        self.count += 1
        return f"bench-{prefix}-{self.count:05d}"

    def subject(self) -> dict[str, str]:
        return {"reference": f"Patient/{self.patient_id}"}

    def at(self, day: date, hour: int = 9, minute: int = 0) -> str:
        return f"{day.isoformat()}T{hour:02d}:{minute:02d}:00Z"

    def add(self, resource: dict[str, Any]) -> dict[str, Any]:
        self.clinical.append(resource)
        return resource

    # resources
    def condition(
        self,
        code: dict[str, Any],
        onset: date,
        *,
        clinical: str = "active",
        verification: str = "confirmed",
        category: str = "problem-list-item",
        profile: str | None = None,
        abated: date | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        resource: dict[str, Any] = {"resourceType": "Condition", "id": self.id("cond")}
        if profile:
            resource["meta"] = {"profile": [MCODE + profile]}
        resource.update(
            {
                "clinicalStatus": cc("http://terminology.hl7.org/CodeSystem/condition-clinical", clinical),
                "verificationStatus": cc("http://terminology.hl7.org/CodeSystem/condition-ver-status", verification),
                "category": [cc("http://terminology.hl7.org/CodeSystem/condition-category", category)],
                "code": code,
                "subject": self.subject(),
                "onsetDateTime": onset.isoformat(),
                "recordedDate": onset.isoformat(),
            }
        )
        if abated:
            resource["abatementDateTime"] = abated.isoformat()
        resource.update(extra)
        return self.add(resource)

    def observation(
        self,
        code: dict[str, Any],
        when: date,
        *,
        category: str = "laboratory",
        status: str = "final",
        profile: str | None = None,
        hour: int = 10,
        clinical: bool = True,
        **value: Any,
    ) -> dict[str, Any]:
        resource: dict[str, Any] = {"resourceType": "Observation", "id": self.id("obs")}
        if profile:
            resource["meta"] = {"profile": [MCODE + profile]}
        resource.update(
            {
                "status": status,
                "category": [cc(OBS_CATEGORY, category)],
                "code": code,
                "subject": self.subject(),
                "effectiveDateTime": self.at(when, hour, self.rng.randrange(60)),
                "issued": self.at(when, min(hour + 4, 23), 0),
            }
        )
        resource.update(value)
        return self.add(resource) if clinical else resource

    def report(self, code: dict[str, Any], when: date, *, conclusion: str | None = None, **extra: Any):
        resource: dict[str, Any] = {
            "resourceType": "DiagnosticReport",
            "id": self.id("dr"),
            "status": "final",
            "category": [cc("http://terminology.hl7.org/CodeSystem/v2-0074", "RAD", "Radiology")],
            "code": code,
            "subject": self.subject(),
            "effectiveDateTime": self.at(when, 14),
            "issued": self.at(when, 17),
        }
        if conclusion:
            resource["conclusion"] = conclusion
        resource.update(extra)
        return self.add(resource)

    def imaging_study(self, modality: str, when: date, description: str) -> dict[str, Any]:
        return self.add(
            {
                "resourceType": "ImagingStudy",
                "id": self.id("img"),
                "status": "available",
                "modality": [{"system": DICOM, "code": modality}],
                "subject": self.subject(),
                "started": self.at(when, 13),
                "numberOfSeries": self.rng.randint(3, 8),
                "numberOfInstances": self.rng.randint(300, 1500),
                "description": description,
            }
        )

    def procedure(self, code: dict[str, Any], when: date, *, reason: dict[str, Any] | None = None, **extra: Any):
        resource: dict[str, Any] = {
            "resourceType": "Procedure",
            "id": self.id("proc"),
            "status": "completed",
            "code": code,
            "subject": self.subject(),
            "performedDateTime": self.at(when, 11),
        }
        if reason:
            resource["reasonReference"] = [{"reference": f"Condition/{reason['id']}"}]
        resource.update(extra)
        return self.add(resource)

    def service_request(self, code: dict[str, Any], when: date, status: str = "completed") -> dict[str, Any]:
        return self.add(
            {
                "resourceType": "ServiceRequest",
                "id": self.id("sr"),
                "status": status,
                "intent": "order",
                "code": code,
                "subject": self.subject(),
                "authoredOn": self.at(when, 8),
            }
        )

    def medication_request(
        self, medication: dict[str, Any], when: date, *, status: str = "completed", sig: str | None = None, **extra: Any
    ) -> dict[str, Any]:
        resource: dict[str, Any] = {
            "resourceType": "MedicationRequest",
            "id": self.id("mr"),
            "meta": {"profile": [MCODE + "mcode-cancer-related-medication-request"]},
            "status": status,
            "intent": "order",
            "medicationCodeableConcept": medication,
            "subject": self.subject(),
            "authoredOn": self.at(when, 8),
        }
        if sig:
            resource["dosageInstruction"] = [{"text": sig, "timing": {"event": [self.at(when, 10)]}}]
        resource.update(extra)
        return self.add(resource)

    def medication_administration(self, medication: dict[str, Any], when: date, request: dict[str, Any]):
        return self.add(
            {
                "resourceType": "MedicationAdministration",
                "id": self.id("ma"),
                "meta": {"profile": [MCODE + "mcode-cancer-related-medication-administration"]},
                "status": "completed",
                "medicationCodeableConcept": medication,
                "subject": self.subject(),
                "effectivePeriod": {"start": self.at(when, 10), "end": self.at(when, 12)},
                "request": {"reference": f"MedicationRequest/{request['id']}"},
            }
        )

    def medication_statement(self, text: str, since: date) -> dict[str, Any]:
        return self.add(
            {
                "resourceType": "MedicationStatement",
                "id": self.id("ms"),
                "status": "active",
                "medicationCodeableConcept": text_only(text),
                "subject": self.subject(),
                "effectivePeriod": {"start": since.isoformat()},
            }
        )

    def disease_status(self, value: str, when: date, about: dict[str, Any]) -> dict[str, Any]:
        return self.observation(
            cc(LOINC, "97509-4", "Cancer disease status"),
            when,
            category="survey",
            profile="mcode-cancer-disease-status",
            focus=[{"reference": f"Condition/{about['id']}"}],
            valueCodeableConcept=cc(SNOMED, value),
        )

    def ecog(self, score: int, when: date) -> dict[str, Any]:
        answers = ("LA9622-7", "LA9623-5", "LA9624-3", "LA9625-0", "LA9626-8", "LA9627-6")
        return self.observation(
            cc(LOINC, "89247-1", "ECOG Performance Status score"),
            when,
            category="survey",
            profile="mcode-ecog-performance-status",
            valueInteger=score,
            interpretation=[cc(LOINC, answers[score])],
        )

    def lab(self, lab: Lab, when: date, *, clinical: bool, level: float = 1.0) -> dict[str, Any]:
        value = round(max(lab.low * 0.3, self.rng.gauss(lab.mean * level, lab.sd)), lab.digits)
        if lab.digits == 0:
            value = int(value)
        extra: dict[str, Any] = {
            "valueQuantity": quantity(value, lab.unit),
            "referenceRange": [
                {
                    "low": quantity(lab.low, lab.unit),
                    "high": quantity(lab.high, lab.unit),
                }
            ],
        }
        if lab.low == 0:
            del extra["referenceRange"][0]["low"]
        if self.rng.random() < 0.6:  # some labs carry an interpretation, the others only the range
            flag = "H" if value > lab.high else "L" if value < lab.low else "N"
            extra["interpretation"] = [cc(INTERPRETATION, flag)]
        return self.observation(cc(LOINC, lab.loinc, lab.display), when, hour=8, clinical=clinical, **extra)

    def vital(self, index: int, when: date) -> dict[str, Any]:
        if index == len(VITALS):  # blood pressure panel with components
            return self.observation(
                cc(LOINC, "85354-9", "Blood pressure panel with all children optional"),
                when,
                category="vital-signs",
                clinical=False,
                component=[
                    {
                        "code": cc(LOINC, "8480-6", "Systolic blood pressure"),
                        "valueQuantity": quantity(int(self.rng.gauss(132, 12)), "mm[Hg]"),
                    },
                    {
                        "code": cc(LOINC, "8462-4", "Diastolic blood pressure"),
                        "valueQuantity": quantity(int(self.rng.gauss(81, 8)), "mm[Hg]"),
                    },
                ],
            )
        loinc, display, unit, mean, sd, digits = VITALS[index]
        value = round(self.rng.gauss(mean, sd), digits)
        return self.observation(
            cc(LOINC, loinc, display),
            when,
            category="vital-signs",
            clinical=False,
            valueQuantity=quantity(int(value) if digits == 0 else value, unit),
        )


def _workup(rec: _Record, d0: date) -> dict[str, Any]:
    """Diagnosis and staging: the clinical core every size has. Returns the primary Condition."""
    rec.visits.append(d0)
    for code, display, years in (
        ("I10", "Essential (primary) hypertension", 9),
        ("E11.9", "Type 2 diabetes mellitus without complications", 6),
        ("E78.5", "Hyperlipidemia, unspecified", 8),
        ("K21.9", "Gastro-esophageal reflux disease without esophagitis", 4),
    ):
        rec.condition(cc(ICD10, code, display), d0 - timedelta(days=365 * years), category="problem-list-item")
    rec.medication_statement("metformin 1000 mg tablet twice daily", d0 - timedelta(days=365 * 5))
    rec.medication_statement("amlodipine 5 mg tablet daily", d0 - timedelta(days=365 * 8))
    rec.medication_statement("pantoprazole 40 mg tablet daily", d0 - timedelta(days=365 * 3))
    rec.add(
        {
            "resourceType": "AllergyIntolerance",
            "id": rec.id("allergy"),
            "clinicalStatus": cc("http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "active"),
            "verificationStatus": cc(
                "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "confirmed"
            ),
            "code": text_only("Penicillin"),
            "patient": rec.subject(),
            "reaction": [{"manifestation": [text_only("urticaria")]}],
        }
    )

    ct = rec.report(cc(SNOMED, "1148701004", "CT of abdomen and pelvis with IV contrast"), d0)
    rec.imaging_study("CT", d0, "CT abdomen pelvis with contrast")
    rec.service_request(cc(SNOMED, "1148701004", "CT of abdomen and pelvis with IV contrast"), d0)
    biopsy_day = d0 + timedelta(days=6)
    primary = rec.condition(
        cc(ICD10, "C7A.1", "Malignant poorly differentiated neuroendocrine tumors"),
        biopsy_day,
        category="encounter-diagnosis",
        profile="mcode-primary-cancer-condition",
        extension=[
            {"url": HISTOLOGY_EXT, "valueCodeableConcept": cc(ICDO3, "8246/3", "Neuroendocrine carcinoma, NOS")}
        ],
        bodySite=[cc(ICDO3, "C25.4", "Islets of Langerhans")],
    )
    rec.condition(
        cc(ICD10, "C78.7", "Secondary malignant neoplasm of liver and intrahepatic bile duct"),
        d0,
        category="encounter-diagnosis",
        profile="mcode-secondary-cancer-condition",
        extension=[
            {"url": MCODE + "mcode-related-condition", "valueReference": {"reference": f"Condition/{primary['id']}"}}
        ],
    )
    ct["conclusion"] = "Pancreatic mass with multiple liver metastases."
    rec.procedure(cc(SNOMED, "86273004", "Biopsy"), biopsy_day, reason=primary, bodySite=[text_only("liver")])
    path_day = biopsy_day + timedelta(days=3)
    rec.observation(
        cc(LOINC, "29593-1", "Cells.Ki-67 nuclear Ag/cells in Tissue by Immune stain"),
        path_day,
        valueQuantity=quantity(70, "%"),
        focus=[{"reference": f"Condition/{primary['id']}"}],
    )
    rec.observation(
        cc(NCIT, "C18000", "Histologic Grade"),
        path_day,
        profile="mcode-histologic-grade",
        valueCodeableConcept=cc(SNOMED, "61026006", "G3 grade"),
    )
    for loinc, display in (
        ("10514-8", "Synaptophysin Ag [Presence] in Tissue by Immune stain"),
        ("10471-1", "Chromogranin A Ag [Presence] in Tissue by Immune stain"),
        ("14229-9", "P53 protein Ag [Presence] in Tissue by Immune stain"),
    ):
        rec.observation(cc(LOINC, loinc, display), path_day, valueCodeableConcept=cc(SNOMED, "10828004", "Positive"))
    rec.observation(cc(NEN_FACT, "rb-ihc"), path_day, valueCodeableConcept=cc(NEN_FACT, "rb-lost"))
    rec.observation(
        cc(SNOMED, "399387003", "cM category"),
        path_day,
        category="exam",
        profile="mcode-tnm-distant-metastases-category",
        valueCodeableConcept=cc(SNOMED, "1229903009", "cM1"),
        focus=[{"reference": f"Condition/{primary['id']}"}],
    )
    # a Ki-67 keyed in error and corrected: the service must ignore it
    rec.observation(
        cc(LOINC, "29593-1", "Cells.Ki-67 nuclear Ag/cells in Tissue by Immune stain"),
        path_day,
        status="entered-in-error",
        valueQuantity=quantity(17, "%"),
    )
    pet_day = d0 + timedelta(days=12)
    rec.report(cc(SNOMED, "443271005", "PET/CT whole body using FDG"), pet_day, conclusion="FDG-avid liver lesions.")
    rec.imaging_study("PT", pet_day, "FDG PET/CT")
    rec.report(cc(LOINC, "24587-8", "MR Brain WO and W contrast IV"), pet_day + timedelta(days=2), conclusion="Normal.")
    rec.visits.append(pet_day)
    ngs_day = d0 + timedelta(days=30)
    rec.report(
        cc(LOINC, "51969-4", "Genetic analysis report"),
        ngs_day,
        category=[cc("http://terminology.hl7.org/CodeSystem/v2-0074", "GE", "Genetics")],
    )
    rec.observation(
        cc(LOINC, "81695-9", "Microsatellite instability"),
        ngs_day,
        valueCodeableConcept=cc(LOINC, "LA14122-8", "Stable"),
    )
    rec.observation(
        cc(LOINC, "94076-7", "Mutations/Megabase [# Ratio] in Tumor"),
        ngs_day,
        valueQuantity={"value": 3.1, "unit": "mutations per megabase", "system": UCUM, "code": "/1000000"},
    )
    rec.ecog(1, d0 + timedelta(days=14))
    rec.condition(
        cc(ICD10, "Z51.11", "Encounter for antineoplastic chemotherapy"),
        d0 + timedelta(days=20),
        category="encounter-diagnosis",
    )
    for marker in MARKERS:
        rec.lab(marker, d0 + timedelta(days=1), clinical=True, level=1.4)
    rec.procedure(text_only("Implantable venous access port placement"), d0 + timedelta(days=18))
    return primary


def _restage(rec: _Record, day: date, outcome: str, primary: dict[str, Any]) -> None:
    ct = cc(SNOMED, "1148701004", "CT of abdomen and pelvis with IV contrast")
    rec.service_request(ct, day - timedelta(days=7))
    rec.report(
        ct, day, conclusion={IMPROVED: "Partial response.", STABLE: "Stable disease."}.get(outcome, "Progression.")
    )
    rec.imaging_study("CT", day, "CT abdomen pelvis with contrast")
    rec.disease_status(outcome, day, primary)
    rec.visits.append(day)


def _line(
    rec: _Record, regimen: Regimen, cycles: int, start: date, primary: dict[str, Any], *, first: bool, progresses: bool
) -> date:
    """One line of therapy: orders and administrations per cycle, restaging CTs. Returns the day it ends."""
    restage_after = [c for c in range(1, cycles + 1) if c % regimen.restage_every == 0 or (c == cycles and c > 1)]
    outcomes = _outcomes(len(restage_after), first, progresses)
    for text in ("ondansetron 8 mg tablet as needed for nausea", "dexamethasone 4 mg tablet on days 2-3"):
        rec.medication_request(text_only(text), start, status="completed", sig=text)
    day = start
    for cycle in range(1, cycles + 1):
        rec.visits.append(day)
        rec.ecog(1 if cycle < cycles else 2, day)
        rec.procedure(cc(SNOMED, "367336001", "Chemotherapy"), day, reason=primary)
        for agent in regimen.agents:
            med = cc(RXNORM, agent.rxnorm, agent.name, text=agent.sig)
            request = rec.medication_request(
                med,
                day - timedelta(days=1),
                sig=agent.sig,
                reasonReference=[{"reference": f"Condition/{primary['id']}"}],
                note=[{"text": f"{regimen.name}, cycle {cycle}"}],
            )
            for infusion_day in agent.days:
                rec.medication_administration(med, day + timedelta(days=infusion_day - 1), request)
        if regimen.interval_days >= 21:
            rec.visits.append(day + timedelta(days=10))  # nadir labs
        day += timedelta(days=regimen.interval_days)
        if cycle in restage_after:
            _restage(rec, day - timedelta(days=3), outcomes.pop(0), primary)
    return day


def _length(lines: list[tuple[Regimen, int]], follow_ups: int) -> int:
    """Days from the first CT to today: work-up, lines, the gaps between them, two weeks since the last CT."""
    gaps = [30 * (follow_ups + 1)] + [21] * max(0, len(lines) - 2) if len(lines) > 1 else []
    return 35 + sum(r.interval_days * c for r, c in lines) + sum(gaps) + 14


def patient_resources(
    size: int, *, seed: int = DEFAULT_SEED, anchor: date | None = None, patient_id: str = PATIENT_ID
) -> list[dict[str, Any]]:
    """Exactly ``size`` resources about one G3 NEC patient (see the module docstring)."""
    anchor = anchor or date.today()
    lines, follow_ups = _plan(size)
    d0 = anchor - timedelta(days=_length(lines, follow_ups))
    rec = _Record(seed, anchor, patient_id)
    primary = _workup(rec, d0)
    day = d0 + timedelta(days=35)
    big = size >= 1000
    for index, (regimen, cycles) in enumerate(lines):
        first, last = index == 0, index == len(lines) - 1
        if first and cycles > 1:
            # a cisplatin order replaced by carboplatin before cycle 1 (cancelled: to be ignored)
            rec.medication_request(
                cc(RXNORM, "2555", "cisplatin", text="cisplatin 80 mg/m2 IV"), day, status="cancelled"
            )
        day = _line(rec, regimen, cycles, day, primary, first=first, progresses=not first and size >= 150)
        if big and first:
            rec.condition(
                cc(ICD10, "D70.1", "Agranulocytosis secondary to cancer chemotherapy"),
                day - timedelta(days=40),
                clinical="resolved",
                abated=day - timedelta(days=30),
            )
            rec.condition(
                cc(ICD10, "D64.81", "Anemia due to antineoplastic chemotherapy"),
                day - timedelta(days=60),
                clinical="resolved",
                abated=day + timedelta(days=60),
            )
            rec.condition(cc(ICD10, "G62.0", "Drug-induced polyneuropathy"), day - timedelta(days=20))
        if big and index == 1:
            rec.condition(
                cc(ICD10, "R11.2", "Nausea with vomiting, unspecified"),
                day - timedelta(days=90),
                clinical="resolved",
                abated=day - timedelta(days=70),
            )
            rec.condition(
                cc(ICD10, "E86.0", "Dehydration"),
                day - timedelta(days=85),
                clinical="resolved",
                abated=day - timedelta(days=80),
            )
        if last:
            break
        if first:
            # surveillance after first line: monthly visits, then a CT showing progression (> 3 months after platinum)
            for _ in range(follow_ups):
                day += timedelta(days=30)
                rec.visits.append(day)
            day += timedelta(days=30)
            _restage(rec, day - timedelta(days=7), WORSENED, primary)
        else:
            day += timedelta(days=21)
    rec.visits = sorted(v for v in set(rec.visits) if v <= anchor)
    if len(rec.clinical) > size:
        raise ValueError(f"a {size}-resource record cannot hold this history ({len(rec.clinical)} clinical resources)")
    return rec.clinical + _noise(rec, size - len(rec.clinical))


def _noise(rec: _Record, needed: int) -> list[dict[str, Any]]:
    """Labs (with reference ranges) and vital signs on the visit days, newest visits first, until ``needed``."""
    out: list[dict[str, Any]] = []
    visits = list(reversed(rec.visits)) or [rec.anchor]
    per_visit = [
        *(("lab", lab) for lab in LABS),
        *(("vital", i) for i in range(len(VITALS) + 1)),
        *(("marker", m) for m in MARKERS),
    ]
    round_ = 0
    while len(out) < needed:
        for visit in visits:
            when = visit + timedelta(days=round_ % 3)  # later rounds: the next days' checks
            kinds = per_visit if round_ else [k for k in per_visit if rec.rng.random() < 0.85]
            for kind, item in kinds:
                if len(out) >= needed:
                    return out
                if kind == "vital":
                    out.append(rec.vital(item, when))  # type: ignore[arg-type]
                else:
                    out.append(rec.lab(item, when, clinical=False))  # type: ignore[arg-type]
        round_ += 1
    return out


# --- hook requests --------------------------------------------------------------------------


def prefetch_keys() -> dict[str, str]:
    """resourceType -> prefetch key, read from the service's own prefetch templates."""
    return {template.split("?", 1)[0]: key for key, template in PATIENT_PREFETCH.items()}


def prefetch(resources: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Split resources into the service's prefetch keys as searchset Bundles (empty ones too)."""
    keys = prefetch_keys()
    out: dict[str, Any] = {key: {"resourceType": "Bundle", "type": "searchset", "entry": []} for key in keys.values()}
    for resource in resources:
        key = keys.get(resource["resourceType"])
        if key is None:
            raise ValueError(f"no prefetch key for {resource['resourceType']}")
        out[key]["entry"].append({"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource})
    for bundle in out.values():
        bundle["total"] = len(bundle["entry"])
    return out


def draft_orders(anchor: date | None = None, patient_id: str = PATIENT_ID) -> list[dict[str, Any]]:
    """What the oncologist is ordering: an SSTR-PET, platinum/etoposide re-challenge, a restaging CT."""
    anchor = anchor or date.today()
    subject = {"reference": f"Patient/{patient_id}"}
    authored = anchor.isoformat()

    def service_request(id_: str, code: dict[str, Any]) -> dict[str, Any]:
        return {
            "resourceType": "ServiceRequest",
            "id": id_,
            "status": "draft",
            "intent": "order",
            "code": code,
            "subject": subject,
            "authoredOn": authored,
        }

    def medication_request(id_: str, rxnorm: str, name: str, sig: str) -> dict[str, Any]:
        return {
            "resourceType": "MedicationRequest",
            "id": id_,
            "status": "draft",
            "intent": "order",
            "medicationCodeableConcept": cc(RXNORM, rxnorm, name, text=sig),
            "subject": subject,
            "authoredOn": authored,
            "dosageInstruction": [{"text": sig}],
        }

    return [
        service_request("draft-sstr-pet", cc(SNOMED, "764695006", text="Ga-68 DOTATATE PET/CT")),
        medication_request("draft-carboplatin", "40048", "carboplatin", "carboplatin AUC 5 IV day 1, every 21 days"),
        medication_request("draft-etoposide", "4179", "etoposide", "etoposide 100 mg/m2 IV days 1-3, every 21 days"),
        service_request("draft-ct", cc(SNOMED, "1148701004", "CT of abdomen and pelvis with IV contrast")),
    ]


def hook_request(
    hook: str,
    resources: list[dict[str, Any]],
    *,
    anchor: date | None = None,
    patient_id: str = PATIENT_ID,
    hook_instance: str | None = None,
) -> dict[str, Any]:
    """A CDS Hooks 2.0.1 request with every prefetch key filled (so the service never calls a FHIR server)."""
    context: dict[str, Any] = {"userId": "Practitioner/bench-oncologist", "patientId": patient_id}
    if hook in ("order-select", "order-sign"):
        drafts = draft_orders(anchor, patient_id)
        context["draftOrders"] = {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": d} for d in drafts],
        }
        if hook == "order-select":
            context["selections"] = [f"{d['resourceType']}/{d['id']}" for d in drafts[:3]]
    return {
        "hook": hook,
        "hookInstance": hook_instance or str(uuid.uuid5(uuid.NAMESPACE_URL, f"nen-bench/{hook}/{len(resources)}")),
        "context": context,
        "prefetch": prefetch(resources),
    }


def build_requests(
    size: int, *, seed: int = DEFAULT_SEED, anchor: date | None = None, hooks: Iterable[str] = HOOKS
) -> dict[str, dict[str, Any]]:
    """The hook requests (one per hook) for a record of ``size`` resources."""
    anchor = anchor or date.today()
    resources = patient_resources(size, seed=seed, anchor=anchor)
    return {hook: hook_request(hook, resources, anchor=anchor) for hook in hooks}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bundles", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for <hook>-<size>.json")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--anchor", type=date.fromisoformat, default=None, help="YYYY-MM-DD (default today)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for size in SIZES:
        for hook, request in build_requests(size, seed=args.seed, anchor=args.anchor).items():
            path = args.out / f"{hook}-{size}.json"
            path.write_text(json.dumps(request, indent=1), encoding="utf-8")
            print(f"{path}  {path.stat().st_size:>9} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
