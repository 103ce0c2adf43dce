"""PatientFacts builders for the treatment-chapter tests (metastatic NET/NEC, agnostic, brain, gynecologic).

Facts-level tests construct ``PatientFacts`` directly and run the knowledge base through
``cds_service.guideline.evaluate.evaluate("patient-view", facts)``: no FHIR, no HTTP.
"""

from __future__ import annotations

from datetime import date

from cds_service.facts.model import (
    Certainty,
    Differentiation,
    DiseaseStatusValue,
    Grade,
    ImagingKind,
    MetastaticSite,
    Neoplasm,
    PatientFacts,
    SiteGroup,
    Stage,
    Study,
    TherapyExposure,
    TherapyLine,
)
from cds_service.guideline.evaluate import Decision, Outcome, evaluate

TODAY = date(2026, 11, 28)
LIVER, BONE, BRAIN, NODES, LUNG, PERITONEUM = (
    MetastaticSite.LIVER,
    MetastaticSite.BONE,
    MetastaticSite.BRAIN,
    MetastaticSite.DISTANT_NODES,
    MetastaticSite.LUNG,
    MetastaticSite.PERITONEUM,
)


def neoplasm(diff: str = "NEC", site: SiteGroup = SiteGroup.PANCREAS) -> Neoplasm:
    return Neoplasm(
        condition_id="Condition/nen-1",
        differentiation=Differentiation(diff),
        morphology={"NET": "8249/3", "NEC": "8246/3", "MiNEN": "8154/3", "unknown": None}[diff],
        certainty=Certainty.CONFIRMED,
        site=site,
        site_code=None,
        diagnosed_on=date(2026, 3, 1),
    )


def line(number: int, *agents: str, start: date, end: date | None = None, active: bool = False) -> TherapyLine:
    return TherapyLine(number, frozenset(agents), start, end, active)


def exposures_of(*lines: TherapyLine) -> tuple[TherapyExposure, ...]:
    return tuple(
        TherapyExposure(agent, ln.start, ln.end, ln.active, source=f"MedicationRequest/{ln.number}-{agent}")
        for ln in lines
        for agent in sorted(ln.agents)
    )


def status(*entries: tuple[date, str]) -> tuple[tuple[date, DiseaseStatusValue], ...]:
    values = {
        "progression": DiseaseStatusValue.PROGRESSION,
        "stable": DiseaseStatusValue.STABLE,
        "improved": DiseaseStatusValue.IMPROVED,
        "ned": DiseaseStatusValue.NO_EVIDENCE,
    }
    return tuple((d, values[v]) for d, v in entries)


def sstr_pet(positive: bool | None = True, on: date = date(2026, 3, 10)) -> Study:
    return Study(ImagingKind.SSTR_PET, on, positive, source="DiagnosticReport/sstr-1")


def facts(
    diff: str = "NEC",
    site: SiteGroup = SiteGroup.PANCREAS,
    *,
    ki67: float | None = 70,
    grade: Grade | None = None,
    stage: Stage = Stage.METASTATIC,
    sites: tuple[MetastaticSite, ...] = (LIVER,),
    lines: tuple[TherapyLine, ...] = (),
    **kw,
) -> PatientFacts:
    """A high-grade NEN; ``lines`` also become exposures unless ``exposures`` is given."""
    if grade is None:
        grade = Grade.G3 if (ki67 is not None and ki67 > 20) or diff in ("NEC", "MiNEN") else Grade.UNKNOWN
    kw.setdefault("exposures", exposures_of(*lines))
    return PatientFacts(
        patient_id="p-1",
        today=TODAY,
        neoplasm=neoplasm(diff, site),
        grade=grade,
        ki67_percent=ki67,
        stage=stage,
        metastatic_sites=frozenset(sites) if stage is Stage.METASTATIC else frozenset(kw.pop("met_sites", ())),
        lines=lines,
        **kw,
    )


def decisions(f: PatientFacts) -> dict[str, Decision]:
    return {d.rec.id: d for d in evaluate("patient-view", f).decisions}


def outcome(f: PatientFacts, rec_id: str) -> Outcome:
    return decisions(f)[rec_id].outcome


def fired(f: PatientFacts) -> set[str]:
    return {rid for rid, d in decisions(f).items() if d.outcome is Outcome.FIRES}


def offered(f: PatientFacts, rec_id: str) -> list[tuple[str, ...]]:
    """The activities of each offer the fired card would carry (after ``unless`` exclusions)."""
    d = decisions(f)[rec_id]
    assert d.outcome is Outcome.FIRES, (rec_id, d.outcome, d.reason, d.answers)
    return [o.activities for o in d.rec.offers]


def missing(f: PatientFacts, rec_id: str) -> tuple[str, ...]:
    d = decisions(f)[rec_id]
    assert d.outcome is Outcome.UNKNOWN, (rec_id, d.outcome, d.answers)
    return d.missing
