"""Treatment of metastatic GI NEC: front line, re-challenge, later lines, dual immunotherapy, BRAF note."""

from __future__ import annotations

from datetime import date

import pytest

from cds_service.facts.model import SiteGroup, Stage
from cds_service.guideline.evaluate import Outcome
from cds_service.guideline.knowledge import knowledge
from cds_service.rendering.activities import activities
from tests.guideline import therapy_fhir as fhir
from tests.guideline.therapy_facts import exposures_of, facts, fired, line, missing, offered, outcome, status
from tests.support.fhir import RXNORM, VERIFIED_RXNORM, hook_request

COLORECTAL, PANCREAS, UNKNOWN_PRIMARY, CERVIX = (
    SiteGroup.COLORECTAL,
    SiteGroup.PANCREAS,
    SiteGroup.UNKNOWN_PRIMARY,
    SiteGroup.CERVIX,
)
EP_ACTIVE = line(1, "cisplatin", "etoposide", start=date(2026, 4, 1), active=True)
EP_DONE = line(1, "carboplatin", "etoposide", start=date(2026, 3, 1), end=date(2026, 6, 15))
FOLFIRI = line(2, "fluorouracil", "leucovorin", "irinotecan", start=date(2026, 10, 20), active=True)


def progression(on: date = date(2026, 10, 10)):
    return status((date(2026, 5, 1), "improved"), (on, "progression"))


# ---------------------------------------------------------------- front line


def test_untreated_metastatic_gi_nec_gets_both_front_line_regimens():
    f = facts("NEC", COLORECTAL)
    assert offered(f, "met.nec.platinum-etoposide") == [
        ("med-cisplatin", "med-etoposide"),
        ("med-carboplatin", "med-etoposide"),
    ]
    assert offered(f, "met.nec.platinum-irinotecan") == [("med-cisplatin", "med-irinotecan")]


def test_unknown_primary_gets_platinum_etoposide_but_not_the_gi_alternative():
    f = facts("NEC", UNKNOWN_PRIMARY)
    assert "met.nec.platinum-etoposide" in fired(f)
    assert outcome(f, "met.nec.platinum-irinotecan") is Outcome.SILENT


def test_mixed_neuroendocrine_non_neuroendocrine_neoplasm_is_managed_as_nec():
    assert "met.nec.platinum-etoposide" in fired(facts("MiNEN", COLORECTAL))


@pytest.mark.parametrize("rec_id", ["met.nec.platinum-etoposide", "met.nec.platinum-irinotecan"])
def test_front_line_silent_once_chemotherapy_started_localized_or_g3_net(rec_id):
    assert outcome(facts("NEC", COLORECTAL, lines=(EP_ACTIVE,)), rec_id) is Outcome.SILENT
    assert outcome(facts("NEC", COLORECTAL, stage=Stage.LOCALIZED), rec_id) is Outcome.SILENT
    assert outcome(facts("NET", COLORECTAL, ki67=40), rec_id) is Outcome.SILENT
    assert outcome(facts("NEC", CERVIX), rec_id) is Outcome.SILENT  # gynecologic: gyn.ivb.cisplatin-etoposide


def test_front_line_unknowns_are_gaps():
    assert "stage" in missing(facts("NEC", COLORECTAL, stage=Stage.UNKNOWN), "met.nec.platinum-etoposide")
    assert "primary-site" in missing(facts("NEC", SiteGroup.NOT_RECORDED), "met.nec.platinum-irinotecan")
    assert "differentiation" in missing(facts("unknown", COLORECTAL), "met.nec.platinum-etoposide")


def test_etoposide_intolerance_leaves_the_etoposide_regimens_out():
    f = facts("NEC", COLORECTAL, intolerances=frozenset({"etoposide"}))
    assert outcome(f, "met.nec.platinum-etoposide") is Outcome.SILENT
    assert "met.nec.platinum-irinotecan" in fired(f)


# ---------------------------------------------------------------- met.nec.rechallenge-platinum


def test_rechallenge_for_progression_three_months_or_more_after_the_last_dose():
    f = facts("NEC", COLORECTAL, lines=(EP_DONE,), disease_status=progression(date(2026, 10, 10)))
    assert offered(f, "met.nec.rechallenge-platinum") == [
        ("med-cisplatin", "med-etoposide"),
        ("med-carboplatin", "med-etoposide"),
    ]


def test_no_rechallenge_for_early_relapse_or_progression_on_treatment():
    early = facts("NEC", COLORECTAL, lines=(EP_DONE,), disease_status=progression(date(2026, 8, 1)))
    assert outcome(early, "met.nec.rechallenge-platinum") is Outcome.SILENT
    on_treatment = facts("NEC", COLORECTAL, lines=(EP_ACTIVE,), disease_status=progression())
    assert outcome(on_treatment, "met.nec.rechallenge-platinum") is Outcome.SILENT


def test_no_rechallenge_after_another_regimen_or_without_progression():
    folfiri = line(2, "fluorouracil", "leucovorin", "irinotecan", start=date(2026, 7, 1), end=date(2026, 9, 1))
    f = facts("NEC", COLORECTAL, lines=(EP_DONE, folfiri), disease_status=progression())
    assert outcome(f, "met.nec.rechallenge-platinum") is Outcome.SILENT
    assert outcome(facts("NEC", COLORECTAL, lines=(EP_DONE,)), "met.nec.rechallenge-platinum") is Outcome.SILENT


def test_rechallenge_without_the_last_dose_date_is_a_gap():
    undated = line(1, "cisplatin", "etoposide", start=date(2026, 3, 1), end=None, active=False)
    f = facts("NEC", COLORECTAL, lines=(undated,), disease_status=progression())
    assert "last-platinum-dose-date" in missing(f, "met.nec.rechallenge-platinum")


# ---------------------------------------------------------------- met.nec.second-line


def test_second_line_after_platinum_offers_folfiri_first():
    f = facts("NEC", COLORECTAL, lines=(EP_ACTIVE,), disease_status=progression())
    offers = offered(f, "met.nec.second-line")
    assert offers[0] == ("med-fluorouracil", "med-leucovorin", "med-irinotecan")
    assert ("med-capecitabine", "med-temozolomide") in offers
    assert ("med-capecitabine", "med-oxaliplatin") in offers


def test_second_line_silent_before_progression_before_platinum_or_for_gynecologic_nec():
    assert outcome(facts("NEC", COLORECTAL, lines=(EP_ACTIVE,)), "met.nec.second-line") is Outcome.SILENT
    assert outcome(facts("NEC", COLORECTAL, disease_status=progression()), "met.nec.second-line") is Outcome.SILENT
    gyn = facts("NEC", CERVIX, lines=(EP_ACTIVE,), disease_status=progression())
    assert outcome(gyn, "met.nec.second-line") is Outcome.SILENT
    assert "gyn.second-line" in fired(gyn)


def test_second_line_silent_once_folfiri_started_and_drops_folfiri_at_third_line():
    started = facts("NEC", COLORECTAL, lines=(EP_ACTIVE, FOLFIRI), disease_status=progression())
    assert outcome(started, "met.nec.second-line") is Outcome.SILENT
    third = facts("NEC", COLORECTAL, lines=(EP_ACTIVE, FOLFIRI), disease_status=progression(date(2026, 11, 20)))
    offers = offered(third, "met.nec.second-line")
    assert ("med-fluorouracil", "med-leucovorin", "med-irinotecan") not in offers
    assert offers  # oxaliplatin- and temozolomide-based options remain


# ---------------------------------------------------------------- met.nec.dual-ici


def test_dual_immunotherapy_after_at_least_one_line():
    f = facts("NEC", PANCREAS, lines=(EP_ACTIVE,), disease_status=progression())
    assert offered(f, "met.nec.dual-ici") == [("med-ipilimumab", "med-nivolumab")]


def test_dual_immunotherapy_silent_in_first_line_without_progression_or_after_ipilimumab():
    assert outcome(facts("NEC", PANCREAS), "met.nec.dual-ici") is Outcome.SILENT
    assert outcome(facts("NEC", PANCREAS, lines=(EP_ACTIVE,)), "met.nec.dual-ici") is Outcome.SILENT
    ipi = line(2, "ipilimumab", "nivolumab", start=date(2026, 8, 1), end=date(2026, 9, 1))
    f = facts("NEC", PANCREAS, lines=(EP_ACTIVE, ipi), disease_status=progression())
    assert outcome(f, "met.nec.dual-ici") is Outcome.SILENT
    g3_net = facts("NET", PANCREAS, ki67=40, lines=(EP_ACTIVE,), disease_status=progression())
    assert outcome(g3_net, "met.nec.dual-ici") is Outcome.SILENT


# ---------------------------------------------------------------- met.nec.braf-info


def test_braf_v600e_note_for_colorectal_nec():
    assert "met.nec.braf-info" in fired(facts("NEC", COLORECTAL, braf_v600e=True))


def test_braf_note_silent_without_the_variant_or_outside_the_colorectum():
    assert outcome(facts("NEC", COLORECTAL, braf_v600e=False), "met.nec.braf-info") is Outcome.SILENT
    assert outcome(facts("NEC", COLORECTAL), "met.nec.braf-info") is Outcome.SILENT  # untested: no guess
    assert outcome(facts("NEC", PANCREAS, braf_v600e=True), "met.nec.braf-info") is Outcome.SILENT


# ---------------------------------------------------------------- HTTP: the patient-view hook

HTTP_CASES = [
    # (catalog id, scenario where it fires, scenario where it must stay silent)
    ("met.nec.platinum-etoposide", fhir.nec_colorectal_first_line, fhir.nec_progressing_on_ep),
    ("met.nec.platinum-irinotecan", fhir.nec_colorectal_first_line, fhir.nec_ntrk_fusion),  # unknown primary
    ("met.nec.rechallenge-platinum", fhir.nec_platinum_sensitive, fhir.nec_progressing_on_ep),
    ("met.nec.second-line", fhir.nec_progressing_on_ep, fhir.nec_colorectal_first_line),
    ("met.nec.second-line", fhir.nec_platinum_sensitive, fhir.cervix_nec_progressing),  # gynecologic: own card
    ("met.nec.dual-ici", fhir.nec_progressing_on_ep, fhir.nec_colorectal_first_line),
    ("met.nec.braf-info", fhir.nec_colorectal_first_line, fhir.nec_msi_high),
]


@pytest.mark.parametrize(("rec_id", "fires", "silent"), HTTP_CASES, ids=[f"{c[0]}-{c[1].__name__}" for c in HTTP_CASES])
def test_http_patient_view_delivers_and_withholds(call_hook, rec_id, fires, silent):
    fhir.assert_delivers(fhir.patient_view(call_hook, fires()), rec_id)
    assert fhir.delivered(fhir.patient_view(call_hook, silent()), rec_id) is None


def test_http_front_line_platinum_etoposide_is_two_exclusive_regimens(call_hook):
    card = fhir.assert_delivers(
        fhir.patient_view(call_hook, fhir.nec_colorectal_first_line()), "met.nec.platinum-etoposide"
    )
    assert card["selectionBehavior"] == "at-most-one"
    assert [fhir.rxnorm_codes(g) for g in fhir.created(card)] == [{"2555", "4179"}, {"40048", "4179"}]


def test_http_second_line_offers_folfiri_first_and_dual_ici_is_text_only(call_hook):
    cards = fhir.patient_view(call_hook, fhir.nec_progressing_on_ep())
    second = fhir.created(fhir.assert_delivers(cards, "met.nec.second-line"))
    assert fhir.rxnorm_codes(second[0]) == {"4492", "6313", "51499"}
    (dual,) = fhir.created(fhir.assert_delivers(cards, "met.nec.dual-ici"))
    assert fhir.rxnorm_codes(dual) == set()  # ipilimumab / nivolumab codes are not verified
    assert "ipilimumab" in fhir.text_of(dual) and "nivolumab" in fhir.text_of(dual)


def test_http_braf_note_is_information_without_orders(call_hook):
    card = fhir.assert_delivers(fhir.patient_view(call_hook, fhir.nec_colorectal_first_line()), "met.nec.braf-info")
    assert card["indicator"] == "info" and "suggestions" not in card


@pytest.mark.parametrize("rec_id", sorted({c[0] for c in HTTP_CASES}))
def test_demo_patients_cover_the_entry(rec_id):
    fhir.assert_demo_coverage(rec_id)


def test_rechallenge_needs_an_explicit_end_date_not_the_start_date():
    """A completed line recorded only by its start date (no end) cannot time the relapse."""
    started_only = line(1, "cisplatin", "etoposide", start=date(2026, 3, 1), end=date(2026, 3, 1))
    f = facts(
        "NEC",
        COLORECTAL,
        lines=(started_only,),
        exposures=exposures_of(line(1, "cisplatin", "etoposide", start=date(2026, 3, 1))),
        disease_status=progression(date(2026, 7, 1)),
    )
    assert "last-platinum-dose-date" in missing(f, "met.nec.rechallenge-platinum")


def test_medication_activities_emit_only_verified_rxnorm_codes():
    meds = {k: v for k, v in activities().items() if v["kind"] == "MedicationRequest"}
    assert len(meds) >= 25
    for activity_id, ad in meds.items():
        agent = activity_id.removeprefix("med-")
        concept = ad["productCodeableConcept"]
        codes = [c["code"] for c in concept.get("coding", []) if c["system"] == RXNORM]
        assert codes == ([VERIFIED_RXNORM[agent]] if agent in VERIFIED_RXNORM else []), activity_id
        assert concept["text"] and ad["url"].endswith(f"/{activity_id}") and ad["relatedArtifact"]


# ---------------------------------------------------------------- accepting a suggestion never trips an avoid rule


@pytest.mark.parametrize("name", sorted(fhir.SCENARIOS))
def test_http_accepting_a_treatment_suggestion_raises_no_avoid_card(call_hook, name):
    """Every suggestion of the treatment chapters, drafted as is, passes order-sign without an avoid card."""
    resources = fhir.as_of_today(fhir.SCENARIOS[name]())
    pid = resources[0]["id"]
    avoid = {r.id for r in knowledge().values() if r.is_avoid}
    checked = 0
    for card in fhir.patient_view(call_hook, fhir.SCENARIOS[name]()):
        topic = card["source"]["topic"]["code"]
        if not topic.startswith(("met.", "brain.", "gyn.")) or topic in avoid:
            continue
        for i, group in enumerate(fhir.created(card)):
            drafts = [{**r, "id": f"draft-{i}-{j}"} for j, r in enumerate(group)]
            code, body = call_hook(hook_request("order-sign", *resources, draft_orders=drafts, patient_id=pid))
            assert code == 200
            warned = [c["source"]["topic"]["code"] for c in body["cards"] if c["source"]["topic"]["code"] in avoid]
            assert not warned, (topic, [fhir.text_of([d]) for d in drafts], warned)
            checked += 1
    assert checked, f"{name}: no treatment suggestion to check"
