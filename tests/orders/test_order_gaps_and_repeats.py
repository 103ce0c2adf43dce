"""Missing facts give a data gap (never a guessed warning); premature repeat imaging gives an info card."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from cds_service.facts.model import ImagingKind
from cds_service.guideline.evaluate import Outcome
from cds_service.guideline.schedules import add_months
from tests.orders.cases import (
    BRAIN_MRI,
    CT_ABDOMEN,
    ECHO,
    LANREOTIDE,
    OPEN_HYSTERECTOMY,
    SSTR_PET,
    TACE,
    Case,
)
from tests.orders.checks import TODAY, assert_fires, cards_for, run_engine
from tests.orders.scenario import Line, Spec


def _case(rec_id: str, spec: Spec, draft: dict, fires: bool = True) -> Case:
    return Case(f"{rec_id} on {draft['id']}", rec_id, fires, spec, (draft,), draft["id"])


@pytest.mark.parametrize(
    ("rec_id", "spec", "draft", "fact"),
    [
        ("workup.nec.no-baseline-sstr-pet", Spec(kind="UNKNOWN"), SSTR_PET, "differentiation"),
        (
            "gyn.ib3-iia2.no-surgery",
            Spec(kind="SCNEC", site="C53.9", stage="localized", met_sites=(), figo=None),
            OPEN_HYSTERECTOMY,
            "figo-stage",
        ),
        (
            "met.net.ssa-needs-sstr-imaging",
            Spec(kind="NET", ki67=35, sstr="uncoded"),
            LANREOTIDE,
            "sstr-imaging-result",
        ),
        ("met.net.systemic-over-liver-directed", Spec(kind="NET", ki67=None, met_sites=("liver",)), TACE, "ki67"),
        ("workup.nec.no-routine-brain-imaging", Spec(site=None, stage="unknown", kind="UNKNOWN"), BRAIN_MRI, None),
        ("cardiac.no-routine-echo", Spec(kind="NET", ki67=None), ECHO, "ki67"),
    ],
)
def test_a_missing_deciding_fact_gives_a_data_gap_not_a_warning(rec_id, spec, draft, fact):
    evaluation, cards = run_engine(_case(rec_id, spec, draft))
    assert not cards_for(cards, rec_id)
    decision = next(d for d in evaluation.decisions if d.rec.id == rec_id)
    assert decision.outcome is Outcome.UNKNOWN
    fact = fact or decision.missing[0]
    assert fact in decision.missing
    gap = cards_for(cards, f"data-gap.{fact}")
    assert len(gap) == 1 and gap[0]["indicator"] == "info"
    assert rec_id in gap[0]["detail"]
    assert not [c for c in cards if c["indicator"] == "warning"]
    # only the facts that are really missing are named (a recorded differentiation is not a gap)
    assert {c["source"]["topic"]["code"] for c in cards if c["source"]["topic"]["code"].startswith("data-gap.")} == {
        f"data-gap.{m}" for m in decision.missing
    }
    if spec.kind != "UNKNOWN":
        assert "differentiation" not in decision.missing


# ---------------------------------------------------------------- premature repeat imaging

NEC_MONITORING = Spec(diagnosed=90, lines=(Line(("cisplatin", "etoposide"), start=60),))


def test_repeat_ct_card_names_the_last_study_and_the_next_due_date():
    spec = replace(NEC_MONITORING, studies=((ImagingKind.CT_ABDOMEN_PELVIS, 20),))
    case = _case("order.repeat-imaging-too-early", spec, CT_ABDOMEN)
    _, cards = run_engine(case)
    card = assert_fires(cards, case)
    last = TODAY - timedelta(days=20)
    due = add_months(last, 2)  # Table 3, NEC: multiphase CT or MRI every 2-3 months
    assert last.isoformat() in card["detail"]
    assert due.isoformat() in card["summary"] and due.isoformat() in card["detail"]


def test_mri_abdomen_repeats_a_recent_ct():
    mri = dict(CT_ABDOMEN, id="mri")
    mri["code"] = {"coding": [{"system": "http://snomed.info/sct", "code": "432369004"}], "text": "MRI abdomen"}
    spec = replace(NEC_MONITORING, studies=((ImagingKind.CT_ABDOMEN_PELVIS, 20),))
    _, cards = run_engine(_case("order.repeat-imaging-too-early", spec, mri))
    assert cards_for(cards, "order.repeat-imaging-too-early")


def test_repeat_sstr_pet_in_g3_net_monitoring():
    spec = Spec(
        kind="NET",
        ki67=35,
        diagnosed=200,
        sstr="positive",  # SSTR-PET 40 days ago
        lines=(Line(("octreotide",), start=60),),
        studies=((ImagingKind.CT_ABDOMEN_PELVIS, 45),),
    )
    case = _case("order.repeat-imaging-too-early", spec, SSTR_PET)
    _, cards = run_engine(case)
    card = assert_fires(cards, case)
    assert (TODAY - timedelta(days=40)).isoformat() in card["detail"]


def test_an_earlier_study_before_the_current_interval_is_not_a_repeat():
    spec = Spec(
        kind="NET",
        ki67=35,
        diagnosed=200,
        sstr="positive",  # SSTR-PET 40 days ago, CT 10 days ago: a new interval since the PET
        lines=(Line(("octreotide",), start=60),),
        studies=((ImagingKind.CT_ABDOMEN_PELVIS, 10),),
    )
    _, cards = run_engine(_case("order.repeat-imaging-too-early", spec, SSTR_PET, fires=False))
    assert not cards_for(cards, "order.repeat-imaging-too-early")


def test_brain_mri_for_new_symptoms_since_the_last_one_is_not_a_premature_repeat():
    spec = replace(
        NEC_MONITORING,
        neuro_symptoms=True,  # since 5 days ago
        studies=((ImagingKind.BRAIN_MRI, 20), (ImagingKind.CT_ABDOMEN_PELVIS, 25)),
    )
    _, cards = run_engine(_case("order.repeat-imaging-too-early", spec, BRAIN_MRI, fires=False))
    assert not cards_for(cards, "order.repeat-imaging-too-early")


def test_surveillance_repeat_after_localized_treatment():
    spec = Spec(
        kind="NET",
        ki67=30,
        stage="localized",
        met_sites=(),
        diagnosed=300,
        resected=200,
        ned=190,
        studies=((ImagingKind.CT_ABDOMEN_PELVIS, 15),),
    )
    _, cards = run_engine(_case("order.repeat-imaging-too-early", spec, CT_ABDOMEN))
    assert cards_for(cards, "order.repeat-imaging-too-early")


def test_differentiation_unknown_fires_only_when_net_and_nec_intervals_agree():
    agree = Spec(
        kind="UNKNOWN",
        stage="localized",
        met_sites=(),
        diagnosed=300,
        resected=200,
        ned=190,
        studies=((ImagingKind.CT_ABDOMEN_PELVIS, 15),),
    )  # both tables: every 3 months in years 0-3
    _, cards = run_engine(_case("order.repeat-imaging-too-early", agree, CT_ABDOMEN))
    assert cards_for(cards, "order.repeat-imaging-too-early")

    disagree = Spec(
        kind="UNKNOWN",
        ki67=40,
        diagnosed=120,
        lines=(Line(("cisplatin", "etoposide"), start=100),),
        studies=((ImagingKind.CT_ABDOMEN_PELVIS, 50),),
    )  # NET due in ~6 weeks, NEC due in ~10 days
    evaluation, cards = run_engine(_case("order.repeat-imaging-too-early", disagree, CT_ABDOMEN))
    assert not cards_for(cards, "order.repeat-imaging-too-early")
    decision = next(d for d in evaluation.decisions if d.rec.id == "order.repeat-imaging-too-early")
    assert decision.outcome is Outcome.UNKNOWN and decision.missing == ("differentiation",)
