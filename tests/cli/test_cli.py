"""``cds-service evaluate`` and ``cds-service check-data``: output, draft orders, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cds_service.cli import EXIT_NOT_FHIR, EXIT_UNREADABLE, EXIT_USAGE, main
from cds_service.guideline.evaluate import evaluate
from cds_service.rendering.cards import level_words
from tests.explain import conftest as f
from tests.support.fhir import (
    SNOMED,
    bundle,
    cc,
    ki67,
    medication_request,
    nen_condition,
    patient,
    service_request,
)

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, data, name: str = "bundle.json") -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return str(path)


@pytest.fixture()
def facts_are(monkeypatch):
    def use(facts):
        monkeypatch.setattr("cds_service.pipeline.build_facts", lambda record, *, today: facts)

    return use


@pytest.fixture()
def simple_bundle(tmp_path):
    return write(tmp_path, bundle(patient(f.PATIENT), nen_condition("NEC", id="nen-1", patient_id=f.PATIENT)))


def test_evaluate_prints_each_card_with_indicator_level_section_and_suggestions(simple_bundle, facts_are, capsys):
    facts_are(f.nec_metastatic())
    assert main(["evaluate", simple_bundle, "--today", "2026-10-01"]) == 0
    out = capsys.readouterr().out
    fired = [d.rec for d in evaluate("patient-view", f.nec_metastatic()).fired]
    assert fired
    for rec in fired:
        assert f"Recommendation: {rec.id}" in out
        assert f"Section: {rec.section}" in out
        assert f"Level: {level_words(rec.level)}" in out
        for offer in rec.offers:
            assert f"Suggestion: {offer.label}" in out
    assert "[INFO]" in out or "[WARNING]" in out


def test_evaluate_json_is_the_hook_response(simple_bundle, facts_are, capsys):
    facts_are(f.nec_metastatic())
    assert main(["evaluate", simple_bundle, "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    topics = {c["source"]["topic"]["code"] for c in body["cards"]}
    assert {d.rec.id for d in evaluate("patient-view", f.nec_metastatic()).fired} <= topics
    for card in body["cards"]:
        assert card["summary"] and card["indicator"] in ("info", "warning", "critical")


def test_evaluate_with_no_neoplasm_says_why_there_are_no_cards(simple_bundle, facts_are, capsys):
    from cds_service.facts.model import PatientFacts

    facts_are(PatientFacts(patient_id=f.PATIENT, today=f.TODAY))
    assert main(["evaluate", simple_bundle]) == 0
    out = capsys.readouterr().out
    assert "0 card(s)." in out and "No neuroendocrine neoplasm is recorded" in out


@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
def test_order_hooks_check_the_bundles_draft_orders_only(tmp_path, monkeypatch, capsys, hook):
    seen = {}

    def capture(*, record_context, context, hook):
        seen.update(context=context, hook=hook)
        return ()

    monkeypatch.setattr("cds_service.pipeline.read_draft_orders", capture)
    draft_sr = service_request(cc(SNOMED, "764695006", text="DOTATATE PET"), id="sr-draft", patient_id=f.PATIENT)
    active_sr = service_request(cc(SNOMED, "764695006"), id="sr-active", status="active", patient_id=f.PATIENT)
    draft_mr = medication_request("4179", "etoposide", status="draft", id="mr-draft", patient_id=f.PATIENT)
    path = write(tmp_path, bundle(patient(f.PATIENT), draft_sr, active_sr, draft_mr))
    assert main(["evaluate", path, "--hook", hook]) == 0
    drafts = [e["resource"]["id"] for e in seen["context"]["draftOrders"]["entry"]]
    assert drafts == ["sr-draft", "mr-draft"] and seen["hook"] == hook
    assert seen["context"]["patientId"] == f.PATIENT
    if hook == "order-select":
        assert seen["context"]["selections"] == ["ServiceRequest/sr-draft", "MedicationRequest/mr-draft"]
    assert "Draft orders checked: 2" in capsys.readouterr().out


def test_check_data_lists_facts_with_sources_ignored_resources_and_uncited_ones(tmp_path, facts_are, capsys):
    facts_are(f.nec_metastatic())
    path = write(
        tmp_path,
        bundle(
            patient(f.PATIENT),
            nen_condition("NEC", id="nen-1", patient_id=f.PATIENT),
            ki67(80, id="ki67-1", patient_id=f.PATIENT),
            ki67(10, id="stray-obs", patient_id=f.PATIENT),
        ),
    )
    assert main(["check-data", path]) == 0
    out = capsys.readouterr().out
    assert "4 resource(s) read (1 Condition, 2 Observation, 1 Patient)" in out
    assert "[Condition/nen-1]" in out and "[Observation/ki67-1]" in out
    assert "Observation/old-ki67: status entered-in-error" in out
    uncited = out.split("not cited by any fact")[1].split("Data gaps")[0]
    assert "Observation/stray-obs" in uncited and "Condition/nen-1" not in uncited and "Patient/" not in uncited


def test_check_data_json(tmp_path, facts_are, capsys):
    facts_are(f.nec_metastatic())
    path = write(tmp_path, bundle(patient(f.PATIENT), nen_condition("NEC", id="nen-1", patient_id=f.PATIENT)))
    assert main(["check-data", path, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    rows = {r["fact"]: r for r in report["facts"]}
    assert rows["differentiation"]["sources"] == ["Condition/nen-1"]
    assert report["ignored"] == [{"reference": "Observation/old-ki67", "reason": "status entered-in-error"}]


def test_a_single_resource_is_accepted_as_a_bundle_of_one(tmp_path, capsys):
    path = write(tmp_path, nen_condition("NEC", id="nen-1"))
    assert main(["check-data", path]) == 0
    assert "1 resource(s) read (1 Condition)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "code", "message"),
    [
        (None, EXIT_UNREADABLE, "no such file"),
        ("{not json", EXIT_UNREADABLE, "not valid JSON"),
        (b"\xff\xfe\x00binary", EXIT_UNREADABLE, "not UTF-8"),
        ("[1, 2]", EXIT_NOT_FHIR, "not a FHIR resource"),
        ('{"hello": "world"}', EXIT_NOT_FHIR, "not a FHIR Bundle or resource"),
        ('{"resourceType": 3}', EXIT_NOT_FHIR, "not a FHIR Bundle or resource"),
        ('{"resourceType": "Bundle", "entry": {}}', EXIT_NOT_FHIR, "Bundle.entry is not a list"),
        ('{"hook": "patient-view", "context": {}}', EXIT_NOT_FHIR, "looks like a CDS Hooks request"),
    ],
    ids=["missing", "not-json", "binary", "array", "no-resourcetype", "bad-resourcetype", "bad-entry", "hook-request"],
)
@pytest.mark.parametrize("command", ["evaluate", "check-data"])
def test_bad_input_has_a_clear_message_and_exit_code(tmp_path, capsys, content, code, message, command):
    path = tmp_path / "input.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    assert main([command, str(path)]) == code
    err = capsys.readouterr().err
    assert message in err and str(path) in err and "Traceback" not in err


def test_a_directory_is_unreadable(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path)]) == EXIT_UNREADABLE
    assert "is a directory" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["evaluate"],
        ["evaluate", "b.json", "--hook", "order-dispatch"],
        ["evaluate", "b.json", "--today", "2026-13-01"],
    ],
    ids=["no-command", "no-file", "bad-hook", "bad-date"],
)
def test_usage_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == EXIT_USAGE
    assert "usage:" in capsys.readouterr().err


def test_the_real_command_exits_with_the_documented_codes(tmp_path):
    bad = write(tmp_path, "[]", "bad.json")
    run = [sys.executable, "-m", "cds_service.cli"]
    wrong = subprocess.run([*run, "check-data", bad], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert wrong.returncode == EXIT_NOT_FHIR and "not a FHIR resource" in wrong.stderr
    usage = subprocess.run([*run, "evaluate"], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert usage.returncode == EXIT_USAGE and "usage:" in usage.stderr


def test_check_data_on_a_real_record_cites_sources_and_flags_unusable_resources(tmp_path, capsys):
    """No stand-in here: the extractors read the Bundle."""
    from tests.support.fhir import LOINC, observation

    path = write(
        tmp_path,
        bundle(
            patient("p1"),
            nen_condition("NEC", id="nen-1", patient_id="p1"),
            ki67(80, id="ki67-1", patient_id="p1"),
            ki67(30, id="ki67-void", status="entered-in-error", patient_id="p1"),
            observation(cc(LOINC, "8867-4", "Heart rate"), id="pulse", patient_id="p1"),
        ),
    )
    assert main(["check-data", path, "--json", "--today", "2026-10-01"]) == 0
    report = json.loads(capsys.readouterr().out)
    rows = {r["fact"]: r for r in report["facts"]}
    assert rows["differentiation"]["sources"] == ["Condition/nen-1"]
    assert rows["ki67_percent"]["sources"] == ["Observation/ki67-1"] and rows["ki67_percent"]["value"].startswith("80%")
    ignored = {i["reference"]: i["reason"] for i in report["ignored"]}
    assert "entered-in-error" in ignored["Observation/ki67-void"]
    assert report["notCited"] == ["Observation/pulse"]
    assert {g["fact"] for g in report["dataGaps"]} >= {"stage"}  # no metastasis, M category or FIGO stage
