"""Helpers for the facts-layer tests: build a record from resources and read its facts."""

from __future__ import annotations

from datetime import date
from typing import Any

from cds_service.facts.build import build_facts
from cds_service.facts.model import PatientFacts
from cds_service.fhir_data.record import PatientRecord
from tests.support import fhir

TODAY = date(2026, 12, 1)


def facts_of(*resources: dict[str, Any], patient_id: str | None = fhir.PATIENT_ID, today: date = TODAY) -> PatientFacts:
    record = PatientRecord(patient_id=patient_id)
    record.add_all(resources)
    return build_facts(record, today=today)


def via_prefetch(*resources: dict[str, Any]) -> PatientFacts:
    """The same resources as an EHR sends them: searchset Bundles per prefetch key."""
    record = PatientRecord(patient_id=fhir.PATIENT_ID)
    for bundle in fhir.prefetch_for(*resources).values():
        record.add(bundle)
    return build_facts(record, today=TODAY)


def gap_facts(f: PatientFacts) -> set[str]:
    return {g.fact for g in f.data_gaps}


def ignored_refs(f: PatientFacts) -> set[str]:
    return {i.reference for i in f.ignored}
