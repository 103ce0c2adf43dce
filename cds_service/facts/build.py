"""Build PatientFacts from a PatientRecord. (Skeleton: the extractors fill this in.)"""

from __future__ import annotations

from datetime import date

from cds_service.facts.model import PatientFacts
from cds_service.fhir_data.record import PatientRecord


def build_facts(record: PatientRecord, *, today: date) -> PatientFacts:
    return PatientFacts(patient_id=record.patient_id, today=today)
