"""PatientFacts builders for the part-A chapter tests (pathology, imaging, biomarkers, cardiac,
localized GI disease, surveillance/monitoring, general).

Facts-level tests construct ``PatientFacts`` directly and run the knowledge base through
``cds_service.guideline.evaluate.evaluate("patient-view", facts)``: no FHIR, no HTTP. Dates are
relative to ``TODAY`` so the windows in parameters.yaml are exercised explicitly.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from cds_service.facts.model import (
    Certainty,
    Differentiation,
    DiseaseStatusValue,
    Grade,
    ImagingKind,
    LabResult,
    Neoplasm,
    PatientFacts,
    SiteGroup,
    Stage,
    Study,
    TherapyLine,
)
from cds_service.guideline.evaluate import Decision, Outcome, evaluate, parameters

TODAY = date(2026, 11, 28)
NEW_DX_DAYS = 20  # diagnosed 20 days ago: inside the initial-assessment window


def ago(days: int) -> date:
    return TODAY - timedelta(days=days)


def months_ago(months: float) -> date:
    return TODAY - timedelta(days=round(months * 30.44))


def window(name: str) -> int:
    return int(parameters()[name])


def neoplasm(
    diff: str = "NEC",
    site: SiteGroup = SiteGroup.PANCREAS,
    *,
    diagnosed: date | None = None,
    body_tail: bool = False,
    certainty: Certainty = Certainty.CONFIRMED,
) -> Neoplasm:
    return Neoplasm(
        condition_id="Condition/nen-1",
        differentiation=Differentiation(diff),
        morphology={"NET": "8249/3", "NEC": "8246/3", "MiNEN": "8154/3", "unknown": None}[diff],
        certainty=certainty,
        site=site,
        site_code=None,
        pancreas_body_or_tail=body_tail,
        diagnosed_on=diagnosed,
    )


def study(kind: ImagingKind, on: date | None, positive: bool | None = None) -> Study:
    return Study(kind, on, positive, source=f"DiagnosticReport/{kind.value}")


def lab(on: date | None, elevated: bool | None) -> LabResult:
    return LabResult(on, 12.0, "mg/(24.h)", elevated, source="Observation/5hiaa")


def line(number: int, *agents: str, start: date | None, end: date | None = None, active: bool = False) -> TherapyLine:
    return TherapyLine(number, frozenset(agents), start, end, active)


def status(*entries: tuple[date, str]) -> tuple[tuple[date, DiseaseStatusValue], ...]:
    values = {
        "progression": DiseaseStatusValue.PROGRESSION,
        "stable": DiseaseStatusValue.STABLE,
        "improved": DiseaseStatusValue.IMPROVED,
        "ned": DiseaseStatusValue.NO_EVIDENCE,
    }
    return tuple((d, values[v]) for d, v in entries)


def facts(
    diff: str | None = "NEC",
    site: SiteGroup = SiteGroup.PANCREAS,
    *,
    ki67: float | None = 70,
    grade: Grade | None = None,
    stage: Stage = Stage.METASTATIC,
    diagnosed: date | str | None = "new",
    body_tail: bool = False,
    certainty: Certainty = Certainty.CONFIRMED,
    **kw: Any,
) -> PatientFacts:
    """A patient with one NEN. ``diff=None``: no NEN at all. Grade follows Ki-67 unless given."""
    if grade is None:
        grade = Grade.UNKNOWN if ki67 is None else (Grade.G3 if ki67 > 20 else Grade.G2)
    dx = ago(NEW_DX_DAYS) if diagnosed == "new" else diagnosed
    n = None if diff is None else neoplasm(diff, site, diagnosed=dx, body_tail=body_tail, certainty=certainty)  # type: ignore[arg-type]
    return PatientFacts(patient_id="p", today=TODAY, neoplasm=n, grade=grade, ki67_percent=ki67, stage=stage, **kw)


def decisions(f: PatientFacts) -> dict[str, Decision]:
    return {d.rec.id: d for d in evaluate("patient-view", f).decisions}


def outcome(f: PatientFacts, rec_id: str) -> Outcome:
    return decisions(f)[rec_id].outcome


def fired(f: PatientFacts) -> set[str]:
    return {d.rec.id for d in evaluate("patient-view", f).fired}


def missing(f: PatientFacts, rec_id: str) -> tuple[str, ...]:
    d = decisions(f)[rec_id]
    assert d.outcome is Outcome.UNKNOWN, f"{rec_id} is {d.outcome}, not unknown"
    return d.missing
