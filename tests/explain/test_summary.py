"""The explanation's content: facts with their sources, the decision path, decisions, gaps; no PHI."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pytest

from cds_service.explain.diagram import layout, sentence
from cds_service.explain.summary import decision_path, explanation, fact_rows
from cds_service.facts.model import Differentiation, Grade, PatientFacts, SiteGroup, Stage
from cds_service.fhir_data.record import PatientRecord
from cds_service.guideline.evaluate import Scope, evaluate
from cds_service.guideline.logic import PREDICATES
from cds_service.rendering.cards import CardContext, level_words, render_cards
from tests.explain import conftest as f


def chosen(path):
    return {step["step"]: (step["selected"], step["status"]) for step in path}


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (
            f.nec_metastatic(),
            {
                "differentiation": ("NEC", "known"),
                "site": ("GEP", "known"),
                "stage": ("metastatic", "known"),
                "course": ("first-line", "known"),
            },
        ),
        (
            f.g3_net_metastatic(),
            {
                "differentiation": ("NET", "known"),
                "site": ("GEP", "known"),
                "stage": ("metastatic", "known"),
                "course": ("first-line", "known"),
            },
        ),
        (
            f.cervical_nec(),
            {
                "differentiation": ("NEC", "known"),
                "site": ("gynecologic", "known"),
                "stage": ("localized", "known"),
                "course": ("localized-treatment", "known"),
            },
        ),
        (
            f.unknown_differentiation(),
            {
                "differentiation": ("unknown", "gap"),
                "site": ("unknown", "gap"),
                "stage": ("unknown", "gap"),
                "course": ("unknown", "gap"),
            },
        ),
    ],
    ids=["nec-metastatic", "g3-net-metastatic", "cervical-nec-localized", "all-unknown"],
)
def test_the_path_follows_the_facts_and_marks_gaps(facts, expected):
    assert chosen(decision_path(facts, Scope.IN_SCOPE)) == expected


def test_progression_after_the_first_line_places_the_patient_in_later_lines():
    path = decision_path(f.second_line(f.nec_metastatic()), Scope.IN_SCOPE)
    assert chosen(path)["course"] == ("later-line", "known")
    assert "line 2" in path[3]["detail"]


def test_front_line_given_without_progression_stays_front_line():
    facts = replace(f.second_line(f.nec_metastatic()), disease_status=())
    assert chosen(decision_path(facts, Scope.IN_SCOPE))["course"] == ("first-line", "known")


def test_localized_disease_after_completed_treatment_is_surveillance():
    facts = replace(f.cervical_nec(), localized_treatment_completed=date(2026, 6, 1))
    assert chosen(decision_path(facts, Scope.IN_SCOPE))["course"] == ("surveillance", "known")


def test_unknown_primary_is_a_known_fact_but_a_missing_site_is_a_gap():
    n = f.nec_metastatic().neoplasm
    unknown_primary = replace(f.nec_metastatic(), neoplasm=replace(n, site=SiteGroup.UNKNOWN_PRIMARY))
    not_recorded = replace(f.nec_metastatic(), neoplasm=replace(n, site=SiteGroup.NOT_RECORDED))
    assert chosen(decision_path(unknown_primary, Scope.IN_SCOPE))["site"] == ("unknown", "known")
    assert chosen(decision_path(not_recorded, Scope.IN_SCOPE))["site"] == ("unknown", "gap")


def test_mixed_neuroendocrine_neoplasm_follows_the_nec_branch_with_its_reason():
    n = replace(f.nec_metastatic().neoplasm, differentiation=Differentiation.MINEN)
    step = decision_path(replace(f.nec_metastatic(), neoplasm=n), Scope.IN_SCOPE)[0]
    assert (step["selected"], step["status"]) == ("NEC", "known")
    assert "MiNEN" in step["detail"]


def test_no_neoplasm_reaches_no_branch():
    path = decision_path(PatientFacts(patient_id=None, today=f.TODAY), Scope.NO_NEN)
    assert {s["status"] for s in path} == {"na"}
    assert all(not n["chosen"] for col in layout(path)["columns"] for n in col["nodes"])


def test_the_diagram_highlights_exactly_one_option_per_decided_step_and_joins_them():
    path = decision_path(f.nec_metastatic(), Scope.IN_SCOPE)
    svg = layout(path)
    picked = [[n["value"] for n in col["nodes"] if n["chosen"]] for col in svg["columns"]]
    assert picked == [["NEC"], ["GEP"], ["metastatic"], ["first-line"]]
    assert sum(e["chosen"] for e in svg["edges"]) == 3
    words = sentence(path)
    assert "Poorly differentiated NEC" in words and "Metastatic" in words and "Front-line therapy" in words


def test_every_fact_row_names_its_source_resources():
    rows = {r["fact"]: r for r in fact_rows(f.nec_metastatic())}
    assert rows["differentiation"]["sources"] == ["Condition/nen-1"]
    assert "8246/3" in rows["differentiation"]["value"]
    assert rows["ki67_percent"]["sources"] == ["Observation/ki67-1"] and rows["ki67_percent"]["value"] == "80%"
    assert rows["stage"]["sources"] == ["Condition/met-liver"]
    assert rows["studies"]["sources"] == ["DiagnosticReport/ct-1"]
    assert rows["grade"]["value"] == Grade.G3.value


def test_sources_under_unfamiliar_names_are_still_listed():
    facts = replace(f.nec_metastatic(), sources={"hormone-syndrome": ("Condition/e34",)})
    rows = {r["fact"]: r for r in fact_rows(facts)}
    assert rows["hormone-syndrome"]["sources"] == ["Condition/e34"]


def test_default_values_are_not_presented_as_facts():
    facts = PatientFacts(patient_id="p", today=f.TODAY)
    assert fact_rows(facts) == []


def _explained(facts, resources=()):
    evaluation = evaluate("patient-view", facts)
    record = PatientRecord(facts.patient_id, list(resources))
    cards = render_cards(evaluation, CardContext("hook-1", "http://svc", facts.patient_id))
    return evaluation, explanation(evaluation, record, cards)


def test_fired_silent_and_unknown_decisions_carry_level_section_and_the_questions_asked():
    evaluation, snap = _explained(f.nec_metastatic())
    assert {d["id"] for d in snap["fired"]} == {d.rec.id for d in evaluation.fired}
    assert snap["fired"], "the metastatic NEC patient has recommendations"
    for d in snap["fired"] + snap["silent"] + snap["unknown"]:
        assert d["level_words"] == level_words(d["level"])
        assert d["section"]
        for a in d["answers"]:
            assert a["question"] == PREDICATES[a["name"]].question
            assert a["answer"] in ("yes", "no", "unknown")
    silent = {d.rec.id: d for d in evaluation.decisions if d.outcome.value == "silent"}
    assert {d["id"] for d in snap["silent"]} == set(silent)
    for d in snap["silent"]:
        assert d["reason"] == silent[d["id"]].reason


def test_gaps_list_the_missing_fact_what_supplies_it_and_what_it_blocks():
    evaluation, snap = _explained(f.unknown_differentiation())
    expected = {gap.fact: [r.id for r in recs] for gap, recs in evaluation.gaps()}
    assert expected, "a NEN without differentiation, grade or stage has data gaps"
    got = {g["fact"]: [b["id"] for b in g["blocked"]] for g in snap["gaps"]}
    for fact, blocked in expected.items():
        assert got[fact] == blocked
    assert all(g["supply"] for g in snap["gaps"])


def test_the_explanation_holds_no_patient_id_name_identifier_or_birth_date():
    patient = {
        "resourceType": "Patient",
        "id": f.PATIENT,
        "name": [{"family": "Testperson", "given": ["Erika"]}],
        "identifier": [{"system": "urn:mrn", "value": "MRN-99881"}],
        "birthDate": "1961-02-03",
    }
    condition = {"resourceType": "Condition", "id": "nen-1", "subject": {"reference": f"Patient/{f.PATIENT}"}}
    _, snap = _explained(f.nec_metastatic(), [patient, condition])
    text = json.dumps(snap)
    for secret in (f.PATIENT, "Testperson", "Erika", "MRN-99881", "1961-02-03"):
        assert secret not in text
    assert snap["record"]["types"] == {"Condition": 1, "Patient": 1}
    assert snap["record"]["references"] == {"Condition": ["Condition/nen-1"]}
    assert snap["record"]["ignored"] == [{"reference": "Observation/old-ki67", "reason": "status entered-in-error"}]


def test_a_low_grade_net_is_out_of_scope_and_its_path_stops_short():
    facts = replace(f.g3_net_metastatic(), grade=Grade.G2, ki67_percent=12.0)
    evaluation, snap = _explained(facts)
    assert evaluation.scope is Scope.LOW_GRADE and snap["scope"] == "low-grade"
    assert snap["fired"] == [] and snap["path"][3]["status"] == "na"
    assert snap["path"][2]["selected"] == Stage.METASTATIC.value
