"""The three CDS Services this project offers; discovery is generated from these definitions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Everything the guideline logic reads about the patient, and nothing more (no Patient resource:
# the rules need no name, identifier or birth date). Only the query forms the 2.0.1 spec allows:
# type-level search by patient reference.
PATIENT_PREFETCH: dict[str, str] = {
    "conditions": "Condition?patient={{context.patientId}}",
    "observations": "Observation?patient={{context.patientId}}",
    "procedures": "Procedure?patient={{context.patientId}}",
    "medicationRequests": "MedicationRequest?patient={{context.patientId}}",
    "medicationStatements": "MedicationStatement?patient={{context.patientId}}",
    "medicationAdministrations": "MedicationAdministration?patient={{context.patientId}}",
    "diagnosticReports": "DiagnosticReport?patient={{context.patientId}}",
    "serviceRequests": "ServiceRequest?patient={{context.patientId}}",
    "imagingStudies": "ImagingStudy?patient={{context.patientId}}",
    "allergies": "AllergyIntolerance?patient={{context.patientId}}",
}

SPEC_VERSION = "2.0.1"
HOOK_VERSION = "1.0"  # CDS Hooks Library patient-view / order-select / order-sign 1.0
USAGE = (
    "Supports the NANETS 2023 consensus recommendations for high-grade (G3) gastroenteropancreatic "
    "and gynecologic neuroendocrine neoplasms (doi:10.1530/ERC-22-0206). Works from prefetch; "
    "falls back to the FHIR server (fhirServer + fhirAuthorization) for any key not supplied. "
    "Requests must carry a JWT signed by a trusted CDS Client (ES384/RS384/PS384)."
)


@dataclass(frozen=True)
class ServiceDefinition:
    id: str
    hook: str
    title: str
    description: str
    context_schema: str  # file name in hooks/schemas/
    prefetch: dict[str, str]

    def discovery(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "hook": self.hook,
            "title": self.title,
            "description": self.description,
            "prefetch": dict(self.prefetch),
            "usageRequirements": USAGE,
            "version": SPEC_VERSION,  # CDS Hooks 3.0: the spec version implemented
            "hookVersion": HOOK_VERSION,  # CDS Hooks 3.0: the hook definition version supported
        }


SERVICES: dict[str, ServiceDefinition] = {
    s.id: s
    for s in (
        ServiceDefinition(
            id="nanets-g3-nen-patient-view",
            hook="patient-view",
            title="NANETS high-grade neuroendocrine neoplasm guidance",
            description=(
                "At chart open, works out where a patient with a high-grade (G3) neuroendocrine "
                "neoplasm stands in the NANETS 2023 consensus (differentiation, site, stage, line of "
                "therapy, surveillance) and suggests the workup, regimens and surveillance it recommends."
            ),
            context_schema="context-patient-view.schema.json",
            prefetch=PATIENT_PREFETCH,
        ),
        ServiceDefinition(
            id="nanets-g3-nen-order-select",
            hook="order-select",
            title="NANETS G3 NEN order check (order selection)",
            description=(
                "Checks the selected draft orders of a patient with a high-grade neuroendocrine "
                "neoplasm against the NANETS 2023 consensus and offers the recommended alternative."
            ),
            context_schema="context-order-select.schema.json",
            prefetch=PATIENT_PREFETCH,
        ),
        ServiceDefinition(
            id="nanets-g3-nen-order-sign",
            hook="order-sign",
            title="NANETS G3 NEN order check (order signing)",
            description=(
                "Before signing, checks every draft order of a patient with a high-grade "
                "neuroendocrine neoplasm against the NANETS 2023 consensus."
            ),
            context_schema="context-order-sign.schema.json",
            prefetch=PATIENT_PREFETCH,
        ),
    )
}
