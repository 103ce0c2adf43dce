"""Treatment of metastatic G3 NET: each entry fires where the guideline says and stays silent elsewhere.

Facts-level cases (PatientFacts built directly) plus HTTP cases through the patient-view hook.
"""

from __future__ import annotations

from datetime import date

import pytest

from cds_service.facts.model import Grade, SiteGroup, Stage
from cds_service.guideline.evaluate import Outcome
from tests.guideline import therapy_fhir as fhir
from tests.guideline.therapy_facts import (
    BONE,
    LIVER,
    NODES,
    facts,
    fired,
    line,
    missing,
    offered,
    outcome,
    sstr_pet,
    status,
)
from tests.support.fhir import ki67, nen_condition, nen_fact
from tests.support.fhir import sstr_pet as sstr_pet_resource

PANCREAS, SMALL_BOWEL, STOMACH = SiteGroup.PANCREAS, SiteGroup.SMALL_BOWEL, SiteGroup.STOMACH
CAPTEM = line(1, "capecitabine", "temozolomide", start=date(2026, 4, 1), active=True)
PROGRESSED = status((date(2026, 7, 1), "stable"), (date(2026, 10, 1), "progression"))


def net(site=PANCREAS, **kw):
    """Metastatic pancreatic G3 NET, Ki-67 30%, liver-only metastases, SSTR-PET positive, untreated."""
    kw.setdefault("ki67", 30)
    kw.setdefault("studies", (sstr_pet(True),))
    return facts("NET", site, **kw)


# ---------------------------------------------------------------- met.net.apply-g1g2-knowledge / debulking


@pytest.mark.parametrize("rec_id", ["met.net.apply-g1g2-knowledge", "met.net.debulking"])
def test_favorable_biology_cards_fire_below_55_percent(rec_id):
    assert rec_id in fired(net(ki67=30))


@pytest.mark.parametrize("rec_id", ["met.net.apply-g1g2-knowledge", "met.net.debulking"])
def test_favorable_biology_cards_silent_at_55_percent_or_more(rec_id):
    assert outcome(net(ki67=60), rec_id) is Outcome.SILENT
    assert outcome(net(ki67=55), rec_id) is Outcome.SILENT


@pytest.mark.parametrize("rec_id", ["met.net.apply-g1g2-knowledge", "met.net.debulking"])
def test_favorable_biology_cards_silent_for_localized_or_nec(rec_id):
    assert outcome(net(stage=Stage.LOCALIZED), rec_id) is Outcome.SILENT
    assert outcome(facts("NEC", PANCREAS, ki67=30), rec_id) is Outcome.SILENT


def test_favorable_biology_needs_ki67_value_when_only_the_grade_is_known():
    assert "ki67" in missing(net(ki67=None, grade=Grade.G3), "met.net.debulking")


# ---------------------------------------------------------------- met.net.liver-directed


def test_liver_directed_fires_for_liver_dominant_disease():
    assert offered(net(sites=(LIVER,)), "met.net.liver-directed") == [("sr-liver-directed-therapy",)]
    assert "met.net.liver-directed" in fired(net(sites=(LIVER, NODES)))


def test_liver_directed_silent_with_bone_metastases_or_high_ki67():
    assert outcome(net(sites=(LIVER, BONE)), "met.net.liver-directed") is Outcome.SILENT
    assert outcome(net(ki67=70), "met.net.liver-directed") is Outcome.SILENT
    assert outcome(net(sites=(BONE,)), "met.net.liver-directed") is Outcome.SILENT


def test_liver_directed_unknown_sites_is_a_gap_not_a_guess():
    assert "metastatic-sites" in missing(net(sites=()), "met.net.liver-directed")


def test_liver_directed_silent_when_already_ordered():
    f = net(orders_pending=frozenset({"liver-directed-therapy"}))
    assert outcome(f, "met.net.liver-directed") is Outcome.SILENT


# ---------------------------------------------------------------- met.net.ssa


def test_ssa_offers_octreotide_or_lanreotide_for_sstr_positive_untreated_net():
    assert offered(net(), "met.net.ssa") == [("med-octreotide",), ("med-lanreotide",)]


def test_ssa_silent_with_negative_sstr_imaging_high_ki67_or_already_on_ssa():
    assert outcome(net(studies=(sstr_pet(False),)), "met.net.ssa") is Outcome.SILENT
    assert outcome(net(ki67=70), "met.net.ssa") is Outcome.SILENT
    on_ssa = line(1, "lanreotide", start=date(2026, 4, 1), active=True)
    assert outcome(net(lines=(on_ssa,)), "met.net.ssa") is Outcome.SILENT


def test_ssa_without_sstr_imaging_is_a_gap():
    assert "sstr-imaging-result" in missing(net(studies=()), "met.net.ssa")


def test_ssa_silent_after_first_line_chemotherapy():
    assert outcome(net(lines=(CAPTEM,), disease_status=PROGRESSED), "met.net.ssa") is Outcome.SILENT


# ---------------------------------------------------------------- met.net.captem / fluoropyrimidine-oxaliplatin


def test_front_line_chemotherapy_offered_when_untreated():
    f = net()
    assert offered(f, "met.net.captem") == [("med-capecitabine", "med-temozolomide")]
    assert offered(f, "met.net.fluoropyrimidine-oxaliplatin") == [
        ("med-fluorouracil", "med-leucovorin", "med-oxaliplatin"),
        ("med-capecitabine", "med-oxaliplatin"),
    ]


def test_front_line_chemotherapy_silent_after_any_chemotherapy():
    f = net(lines=(CAPTEM,), disease_status=PROGRESSED)
    assert outcome(f, "met.net.captem") is Outcome.SILENT
    assert outcome(f, "met.net.fluoropyrimidine-oxaliplatin") is Outcome.SILENT


def test_front_line_chemotherapy_waits_while_stable_on_ssa_and_returns_on_progression():
    on_ssa = line(1, "octreotide", start=date(2026, 4, 1), active=True)
    stable = net(lines=(on_ssa,), disease_status=status((date(2026, 10, 1), "stable")))
    assert outcome(stable, "met.net.captem") is Outcome.SILENT
    progressing = net(lines=(on_ssa,), disease_status=PROGRESSED)
    assert "met.net.captem" in fired(progressing)


def test_fluoropyrimidine_oxaliplatin_only_for_pancreatic_or_bowel_primary():
    assert "met.net.fluoropyrimidine-oxaliplatin" in fired(net(site=SMALL_BOWEL))
    assert outcome(net(site=STOMACH), "met.net.fluoropyrimidine-oxaliplatin") is Outcome.SILENT
    assert "met.net.captem" in fired(net(site=STOMACH))
    assert "primary-site" in missing(net(site=SiteGroup.NOT_RECORDED), "met.net.fluoropyrimidine-oxaliplatin")


# ---------------------------------------------------------------- met.net.second-line-chemo


def test_second_line_after_captem_offers_folfox_or_folfiri_not_captem_again():
    f = net(lines=(CAPTEM,), disease_status=PROGRESSED)
    assert offered(f, "met.net.second-line-chemo") == [
        ("med-fluorouracil", "med-leucovorin", "med-oxaliplatin"),
        ("med-fluorouracil", "med-leucovorin", "med-irinotecan"),
    ]


def test_second_line_after_folfox_offers_captem_first():
    folfox = line(1, "fluorouracil", "leucovorin", "oxaliplatin", start=date(2026, 4, 1), active=True)
    offers = offered(net(lines=(folfox,), disease_status=PROGRESSED), "met.net.second-line-chemo")
    assert offers[0] == ("med-capecitabine", "med-temozolomide")
    assert ("med-fluorouracil", "med-leucovorin", "med-oxaliplatin") not in offers


def test_second_line_silent_without_progression_or_once_a_new_line_started():
    assert outcome(net(lines=(CAPTEM,)), "met.net.second-line-chemo") is Outcome.SILENT
    stable = net(lines=(CAPTEM,), disease_status=status((date(2026, 10, 1), "stable")))
    assert outcome(stable, "met.net.second-line-chemo") is Outcome.SILENT
    folfox = line(2, "fluorouracil", "leucovorin", "oxaliplatin", start=date(2026, 10, 15), active=True)
    answered = net(lines=(CAPTEM, folfox), disease_status=PROGRESSED)
    assert outcome(answered, "met.net.second-line-chemo") is Outcome.SILENT


def test_second_line_silent_when_every_regimen_was_given():
    folfox = line(2, "fluorouracil", "leucovorin", "oxaliplatin", start=date(2026, 6, 1), end=date(2026, 8, 1))
    folfiri = line(3, "fluorouracil", "leucovorin", "irinotecan", start=date(2026, 8, 15), active=True)
    f = net(lines=(CAPTEM, folfox, folfiri), disease_status=PROGRESSED)
    assert outcome(f, "met.net.second-line-chemo") is Outcome.SILENT


# ---------------------------------------------------------------- everolimus / sunitinib


def test_everolimus_and_sunitinib_for_refractory_pancreatic_net():
    f = net(lines=(CAPTEM,), disease_status=PROGRESSED)
    assert offered(f, "met.net.everolimus") == [("med-everolimus",)]
    assert offered(f, "met.net.sunitinib") == [("med-sunitinib",)]


def test_bowel_primary_gets_everolimus_but_not_sunitinib():
    f = net(site=SMALL_BOWEL, lines=(CAPTEM,), disease_status=PROGRESSED)
    assert "met.net.everolimus" in fired(f)
    assert outcome(f, "met.net.sunitinib") is Outcome.SILENT


def test_targeted_therapy_silent_before_any_line_or_without_progression():
    assert outcome(net(disease_status=PROGRESSED), "met.net.everolimus") is Outcome.SILENT
    assert outcome(net(lines=(CAPTEM,)), "met.net.sunitinib") is Outcome.SILENT
    assert outcome(net(site=STOMACH, lines=(CAPTEM,), disease_status=PROGRESSED), "met.net.everolimus") is (
        Outcome.SILENT
    )


def test_everolimus_not_suggested_twice():
    evero = line(2, "everolimus", start=date(2026, 6, 1), end=date(2026, 9, 1))
    f = net(lines=(CAPTEM, evero), disease_status=PROGRESSED)
    assert outcome(f, "met.net.everolimus") is Outcome.SILENT
    assert "met.net.sunitinib" in fired(f)


# ---------------------------------------------------------------- met.net.ngs-refractory


def test_ngs_for_refractory_net_without_sequencing():
    f = net(lines=(CAPTEM,), disease_status=PROGRESSED)
    assert offered(f, "met.net.ngs-refractory") == [("sr-ngs",)]


def test_ngs_silent_when_done_ordered_or_not_refractory():
    assert outcome(net(lines=(CAPTEM,), disease_status=PROGRESSED, ngs_done=True), "met.net.ngs-refractory") is (
        Outcome.SILENT
    )
    pending = net(lines=(CAPTEM,), disease_status=PROGRESSED, orders_pending=frozenset({"ngs"}))
    assert outcome(pending, "met.net.ngs-refractory") is Outcome.SILENT
    assert outcome(net(lines=(CAPTEM,)), "met.net.ngs-refractory") is Outcome.SILENT


# ---------------------------------------------------------------- met.net.prrt


def test_prrt_for_progressive_net_with_uptake_above_liver():
    f = net(disease_status=PROGRESSED, sstr_uptake_above_liver=True)
    assert offered(f, "met.net.prrt") == [("med-lutetium-dotatate",)]


def test_prrt_silent_with_uptake_not_above_liver_or_without_progression():
    assert outcome(net(disease_status=PROGRESSED, sstr_uptake_above_liver=False), "met.net.prrt") is Outcome.SILENT
    assert outcome(net(sstr_uptake_above_liver=True), "met.net.prrt") is Outcome.SILENT
    given = line(1, "lutetium-dotatate", start=date(2026, 5, 1), end=date(2026, 8, 1))
    f = net(lines=(given,), disease_status=PROGRESSED, sstr_uptake_above_liver=True)
    assert outcome(f, "met.net.prrt") is Outcome.SILENT


def test_prrt_uptake_not_recorded_is_a_gap():
    assert "sstr-uptake-vs-liver" in missing(net(disease_status=PROGRESSED), "met.net.prrt")


# ---------------------------------------------------------------- NEC never gets the G3 NET treatment cards


def test_nec_gets_none_of_the_g3_net_treatment_cards():
    f = facts("NEC", PANCREAS, ki67=30, studies=(sstr_pet(True),), disease_status=PROGRESSED)
    assert not {rid for rid in fired(f) if rid.startswith("met.net.")}


# ---------------------------------------------------------------- HTTP: the patient-view hook


def _with_ki67(resources, pct):
    pid = resources[0]["id"]
    return fhir.replace(resources, f"{pid}-ki67", ki67(pct, id=f"{pid}-ki67", effective="2026-03-05", patient_id=pid))


def _untreated(**changes):
    res = fhir.net_pancreas_untreated()
    pid = res[0]["id"]
    if "ki67" in changes:
        res = _with_ki67(res, changes["ki67"])
    if "sstr" in changes:
        pet = sstr_pet_resource(changes["sstr"], id=f"{pid}-sstr", date="2026-03-10", patient_id=pid)
        res = fhir.replace(res, f"{pid}-sstr", pet)
    if "site" in changes:
        nen = nen_condition(
            "NET", changes["site"], changes["site"], id=f"{pid}-nen", onset="2026-03-01", patient_id=pid
        )
        res = fhir.replace(res, f"{pid}-nen", nen)
    return res


def _refractory(**changes):
    res = fhir.net_pancreas_refractory()
    pid = res[0]["id"]
    if "site" in changes:
        nen = nen_condition(
            "NET", changes["site"], changes["site"], id=f"{pid}-nen", onset="2026-03-01", patient_id=pid
        )
        res = fhir.replace(res, f"{pid}-nen", nen)
    if changes.get("ngs"):
        res = [*res, fhir.ngs_report(pid=pid)]
    if "uptake" in changes:
        fact = nen_fact(
            "sstr-uptake-greater-than-liver", valueBoolean=changes["uptake"], id=f"{pid}-uptake", patient_id=pid
        )
        res = fhir.replace(res, f"{pid}-uptake", fact)
    return res


HTTP_CASES = [
    # (catalog id, scenario where it fires, scenario where it must stay silent)
    ("met.net.apply-g1g2-knowledge", _untreated, lambda: _untreated(ki67=70)),
    ("met.net.liver-directed", _untreated, _refractory),  # refractory: bone metastases
    ("met.net.ssa", _untreated, lambda: _untreated(sstr=False)),
    ("met.net.captem", _untreated, _refractory),  # refractory: CAPTEM already given
    ("met.net.fluoropyrimidine-oxaliplatin", _untreated, lambda: _untreated(site="C16.9")),  # gastric primary
    ("met.net.second-line-chemo", _refractory, _untreated),
    ("met.net.everolimus", _refractory, _untreated),
    ("met.net.sunitinib", _refractory, lambda: _refractory(site="C17.9")),  # small bowel: everolimus only
    ("met.net.ngs-refractory", _refractory, lambda: _refractory(ngs=True)),
    ("met.net.prrt", _refractory, lambda: _refractory(uptake=False)),
    ("met.net.debulking", _untreated, lambda: _untreated(ki67=70)),
]


@pytest.mark.parametrize(("rec_id", "fires", "silent"), HTTP_CASES, ids=[c[0] for c in HTTP_CASES])
def test_http_patient_view_delivers_and_withholds(call_hook, rec_id, fires, silent):
    fhir.assert_delivers(fhir.patient_view(call_hook, fires()), rec_id)
    assert fhir.delivered(fhir.patient_view(call_hook, silent()), rec_id) is None


def test_http_front_line_regimens_carry_one_medication_request_per_agent(call_hook):
    cards = fhir.patient_view(call_hook, _untreated())
    captem = fhir.created(fhir.assert_delivers(cards, "met.net.captem"))
    assert len(captem) == 1 and len(captem[0]) == 2
    assert fhir.rxnorm_codes(captem[0]) == {"194000"}  # capecitabine; temozolomide has no verified code
    assert "temozolomide" in fhir.text_of(captem[0])
    folfox, capox = fhir.created(fhir.assert_delivers(cards, "met.net.fluoropyrimidine-oxaliplatin"))
    assert fhir.rxnorm_codes(folfox) == {"4492", "6313", "32592"}
    assert fhir.rxnorm_codes(capox) == {"194000", "32592"}
    card = fhir.assert_delivers(cards, "met.net.ssa")
    assert card["selectionBehavior"] == "at-most-one"
    for group in fhir.created(card):  # octreotide / lanreotide codes are not verified: text only
        assert fhir.rxnorm_codes(group) == set()


def test_http_second_line_after_captem_does_not_offer_captem_again(call_hook):
    card = fhir.assert_delivers(fhir.patient_view(call_hook, _refractory()), "met.net.second-line-chemo")
    groups = fhir.created(card)
    assert [fhir.rxnorm_codes(g) for g in groups] == [{"4492", "6313", "32592"}, {"4492", "6313", "51499"}]
    assert all("temozolomide" not in fhir.text_of(g) for g in groups)


def test_http_prrt_uptake_not_recorded_is_a_data_gap_not_a_card(call_hook):
    cards = fhir.patient_view(call_hook, fhir.replace(_refractory(), "b-net-pancreas-refractory-uptake", None))
    assert fhir.delivered(cards, "met.net.prrt") is None
    gap = fhir.delivered(cards, "data-gap.sstr-uptake-vs-liver")
    assert gap is not None and "met.net.prrt" in gap["detail"]


@pytest.mark.parametrize("rec_id", [c[0] for c in HTTP_CASES])
def test_demo_patients_cover_the_entry(rec_id):
    fhir.assert_demo_coverage(rec_id)
