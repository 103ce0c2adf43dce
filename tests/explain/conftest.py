"""Hand-made PatientFacts for the explanation tests: the page is tested apart from the extractors."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from cds_service.facts.model import (
    Certainty,
    DataGap,
    Differentiation,
    DiseaseStatusValue,
    Grade,
    IgnoredResource,
    ImagingKind,
    MetastaticSite,
    Neoplasm,
    PatientFacts,
    SiteGroup,
    Stage,
    Study,
    TherapyLine,
)

TODAY = date(2026, 10, 1)
PATIENT = "pt-secret-4711"  # must never appear in a URL or in the cached explanation


def neoplasm(kind: Differentiation, site: SiteGroup, code: str = "C25.4") -> Neoplasm:
    morph = {Differentiation.NET: "8249/3", Differentiation.NEC: "8246/3"}.get(kind)
    return Neoplasm("Condition/nen-1", kind, morph, Certainty.CONFIRMED, site, code, diagnosed_on=date(2026, 8, 1))


def nec_metastatic() -> PatientFacts:
    return PatientFacts(
        patient_id=PATIENT,
        today=TODAY,
        neoplasm=neoplasm(Differentiation.NEC, SiteGroup.PANCREAS),
        grade=Grade.G3,
        ki67_percent=80.0,
        stage=Stage.METASTATIC,
        metastatic_sites=frozenset({MetastaticSite.LIVER}),
        studies=(Study(ImagingKind.CT_ABDOMEN_PELVIS, date(2026, 8, 20), None, "DiagnosticReport/ct-1"),),
        ignored=(IgnoredResource("Observation/old-ki67", "status entered-in-error"),),
        sources={"ki67": ("Observation/ki67-1",), "stage": ("Condition/met-liver",)},
    )


def g3_net_metastatic() -> PatientFacts:
    return PatientFacts(
        patient_id=PATIENT,
        today=TODAY,
        neoplasm=neoplasm(Differentiation.NET, SiteGroup.PANCREAS),
        grade=Grade.G3,
        ki67_percent=35.0,
        stage=Stage.METASTATIC,
        metastatic_sites=frozenset({MetastaticSite.LIVER}),
        sources={"ki67": ("Observation/ki67-2",), "stage": ("Observation/m1",)},
    )


def cervical_nec() -> PatientFacts:
    return PatientFacts(
        patient_id=PATIENT,
        today=TODAY,
        neoplasm=neoplasm(Differentiation.NEC, SiteGroup.CERVIX, "C53.9"),
        grade=Grade.G3,
        stage=Stage.LOCALIZED,
        figo_stage="IB2",
        sources={"figo": ("Observation/figo-1",)},
    )


def unknown_differentiation() -> PatientFacts:
    """A NEN with no morphology, no Ki-67 and no stage: every deciding fact is a gap."""
    return PatientFacts(
        patient_id=PATIENT,
        today=TODAY,
        neoplasm=neoplasm(Differentiation.UNKNOWN, SiteGroup.NOT_RECORDED, None),  # type: ignore[arg-type]
        data_gaps=(
            DataGap("differentiation", "Tumor differentiation (NET vs NEC)", "a Condition with ICD-O-3 morphology"),
        ),
    )


def second_line(facts: PatientFacts) -> PatientFacts:
    line = TherapyLine(1, frozenset({"cisplatin", "etoposide"}), date(2026, 3, 1), date(2026, 6, 1), False)
    progression = ((date(2026, 7, 1), DiseaseStatusValue.PROGRESSION),)
    return replace(facts, lines=(line,), disease_status=progression)


@pytest.fixture(autouse=True)
def _no_proxy_for_loopback(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
