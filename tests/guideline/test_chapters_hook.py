"""Every part-A entry through the HTTP patient-view hook: a patient where it fires and one where it
must stay silent, read from the response as CONTRACT.md says (topic code = catalog id; every
suggested resource's instantiatesCanonical = <service base>/fhir/PlanDefinition/<id>).

Chapters: pathology, imaging, biomarkers, cardiac, localized GI, surveillance/monitoring, general.
"""

from __future__ import annotations

import pytest

from tests.guideline.workup_fhir import (
    NED,
    PROGRESSION,
    STABLE,
    brain_mri,
    card,
    chemoradiation,
    chromogranin_ihc,
    colonoscopy,
    created,
    ct,
    delivered,
    echo,
    etoposide_allergy,
    fdg,
    five_hiaa,
    flag,
    ki,
    liver_mets,
    m0,
    medication,
    medication_statement,
    msi_stable,
    nen,
    ngs_report,
    p53,
    pending,
    rb,
    request,
    resection,
    sstr,
    status,
    symptom,
    synaptophysin,
    topics,
)
from tests.support.fhir import ICD10, ICDO3, SNOMED, cc, condition

CISPLATIN, ETOPOSIDE, CAPECITABINE = ("2555", "cisplatin"), ("4179", "etoposide"), ("194000", "capecitabine")


def nec_met(site="C18.7", dx=20):
    return [nen("NEC", site, dx=dx), ki(80), liver_mets(dx)]


def net_met(site="C25.4", dx=20):
    return [nen("NET", site, dx=dx), ki(30), liver_mets(dx)]


def unknown_diff(ki67=35):
    cond = condition(cc(ICD10, "C7A.8"), body_site=cc(ICDO3, "C25.4"), onset=None, id="nen-1")
    cond["onsetDateTime"] = nec_met()[0]["onsetDateTime"]
    return [cond, ki(ki67), liver_mets()]


def nec_local(site="C20.9", dx=60):
    return [nen("NEC", site, dx=dx), ki(70), m0()]


def net_local(site="C25.4", dx=60, ki67=30):
    return [nen("NET", site, dx=dx), ki(ki67), m0()]


def on_platinum_etoposide(days=100, active=True):
    state = "active" if active else "completed"
    return [medication(*CISPLATIN, days, state), medication(*ETOPOSIDE, days, state)]


def completed_platinum_etoposide(start=130, end=20):
    return [medication_statement(*CISPLATIN, start, end), medication_statement(*ETOPOSIDE, start, end)]


def net_surveilled(*extra):
    return [
        nen("NET", "C17.2", dx=500),
        ki(30, days=480),
        m0(480),
        resection(420, "Small bowel resection"),
        status(NED, 410),
        *extra,
    ]


def nec_surveilled(*extra):
    return [nen("NEC", "C20.9", dx=500), ki(70, days=480), m0(480), chemoradiation(420), status(NED, 410), *extra]


CARCINOID = condition(cc(ICD10, "E34.0"), verification="provisional", onset="2026-01-01")

# (catalog id, resources where it fires, resources where it stays silent)
CASES = [
    # ---- pathology
    ("path.ki67-required", [nen("NEC"), liver_mets()], [*nec_met()]),
    ("path.high-grade-criteria", unknown_diff(35), unknown_diff(15)),
    ("path.differentiation-ihc", unknown_diff(35), [*unknown_diff(35), p53(True), rb(True)]),
    (
        "path.insm1",
        [*nec_met(), synaptophysin(False), chromogranin_ihc(False)],
        [*nec_met(), synaptophysin(True), chromogranin_ihc(False)],
    ),
    ("path.site-of-origin-ihc", nec_met("C80.9"), nec_met("C18.7")),
    (
        "path.rebiopsy-net-progression",
        [*net_met(dx=400), status(PROGRESSION, 10), flag("accelerating-progression", True)],
        [*net_met(dx=400), status(PROGRESSION, 10), flag("accelerating-progression", False)],
    ),
    # ---- imaging and endoscopy
    ("workup.anatomic-imaging", nec_met(), [*nec_met(), ct(15)]),
    ("workup.net.sstr-pet", net_met(), [*net_met(), sstr(10, True)]),
    ("workup.fdg-pet", [*net_met(), sstr(10, False)], [*net_met(), sstr(10, True)]),
    (
        "workup.discordant-pet",
        [*net_met(), sstr(10, False), fdg(8, True)],
        [*net_met(), sstr(10, True), fdg(8, True)],
    ),
    ("workup.brain-mri", [*net_met(), symptom("R51.9", 7)], [*net_met(), symptom("R51.9", 7), brain_mri(3)]),
    ("workup.endoscopy", nec_met("C18.7"), [*nec_met("C18.7"), colonoscopy(10)]),
    # ---- biomarkers and molecular
    ("workup.hormones-if-syndrome", [*net_met(), condition(cc(ICD10, "E16.1"), onset="2026-01-01")], net_met()),
    ("workup.nec.mmr-msi", nec_met(), [*nec_met(), msi_stable()]),
    ("workup.nec.ngs", nec_met(), [*nec_met(), ngs_report()]),
    ("workup.net.mmr-ngs", net_met(), [*net_met(), ngs_report()]),
    # ---- cardiac
    ("cardiac.5hiaa", [*net_met("C17.2"), CARCINOID], [*net_met("C17.2"), CARCINOID, five_hiaa(False)]),
    (
        "cardiac.echo-if-5hiaa-elevated",
        [*net_met("C17.2"), CARCINOID, five_hiaa(True)],
        [*net_met("C17.2"), CARCINOID, five_hiaa(True), echo(3)],
    ),
    # ---- localized GI / pancreatic disease
    ("local.net.resection", net_local(), [*net_local(), resection(30, "Distal pancreatectomy")]),
    ("local.net.distal-pancreatectomy", net_local("C25.2"), net_local("C25.0")),
    (
        "local.net.adjuvant-trial",
        [*net_local("C25.2", ki67=30), resection(30, "Distal pancreatectomy")],
        [*net_local("C25.2", ki67=60), resection(30, "Distal pancreatectomy")],
    ),
    ("local.nec.multidisciplinary", nec_local(), [nen("NEC", "C20.9", dx=60), ki(70), liver_mets(60)]),
    ("local.nec.platinum-etoposide-rt", nec_local(), [*nec_local(), *on_platinum_etoposide(20)]),
    ("local.nec.carboplatin-paclitaxel", [*nec_local(), etoposide_allergy()], nec_local()),
    (
        "local.nec.capecitabine-consolidation",
        [*nec_local(dx=200), *completed_platinum_etoposide()],
        [*nec_local(dx=200), *completed_platinum_etoposide(), chemoradiation(5)],
    ),
    (
        "local.nec.adjuvant-chemort-positive-margin",
        [*nec_local(), resection(30), flag("surgical-margin-positive", True)],
        [*nec_local(), resection(30), flag("surgical-margin-positive", False)],
    ),
    (
        "local.nec.adjuvant-chemo",
        [*nec_local("C25.0"), resection(30, "Pancreaticoduodenectomy"), flag("radiation-not-amenable", True)],
        [*nec_local("C25.0"), resection(30, "Pancreaticoduodenectomy"), flag("radiation-not-amenable", False)],
    ),
    ("local.nec.trial", nec_local(), [*nec_local(), *on_platinum_etoposide(20)]),
    # ---- surveillance (Table 2) and monitoring (Table 3)
    ("surveillance.net", net_surveilled(ct(300)), net_surveilled(ct(300), status(PROGRESSION, 5))),
    (
        "surveillance.nec",
        nec_surveilled(ct(300)),
        nec_surveilled(ct(300), pending(cc(SNOMED, "1148701004", "CT abdomen pelvis with contrast"))),
    ),
    (
        "monitoring.net",
        [*net_met(dx=200), medication(*CAPECITABINE, 100), ct(95)],
        [*net_met(dx=200), medication(*CAPECITABINE, 100, "completed"), ct(95)],
    ),
    (
        "monitoring.nec",
        [*nec_met(dx=200), *on_platinum_etoposide(100), ct(100)],
        [*nec_met(dx=200), *on_platinum_etoposide(100, active=False), ct(100)],
    ),
    # ---- general
    ("general.clinical-trial", nec_met(), [*nec_met(dx=400), *on_platinum_etoposide(300), status(STABLE, 10)]),
    ("general.expert-center", nec_met(), [*nec_met(dx=400), *on_platinum_etoposide(300)]),
]


@pytest.mark.parametrize(("rec_id", "fires", "_silent"), CASES, ids=[c[0] for c in CASES])
def test_fires(call_hook, rec_id, fires, _silent):
    status_code, body = call_hook(request(*fires))
    assert status_code == 200
    assert rec_id in topics(body), f"{rec_id} did not fire; got {topics(body)}"
    got = card(body, rec_id)
    for resource in created(got):
        assert resource["instantiatesCanonical"] == [f"http://localhost/fhir/PlanDefinition/{rec_id}"]
        assert resource["subject"] == {"reference": "Patient/pt-1"}


@pytest.mark.parametrize(("rec_id", "_fires", "silent"), CASES, ids=[c[0] for c in CASES])
def test_silent(call_hook, rec_id, _fires, silent):
    status_code, body = call_hook(request(*silent))
    assert status_code == 200
    assert rec_id not in delivered(body), f"{rec_id} fired for the silent case"
    assert body["cards"], "the silent case is still an in-scope patient with other cards"


# ---------------------------------------------------------------- card shapes that matter clinically


def test_order_cards_suggest_the_activity_with_its_verified_code(call_hook):
    _, body = call_hook(request(*nec_met()))
    resources = created(card(body, "workup.nec.ngs"))
    assert [r["code"] for r in resources] == [{"text": resources[0]["code"]["text"]}]  # no verified NGS code
    ct_card = card(body, "workup.anatomic-imaging")
    assert ct_card["selectionBehavior"] == "at-most-one" and len(ct_card["suggestions"]) == 2
    codes = {c["code"] for r in created(ct_card) for c in r["code"].get("coding", [])}
    assert {"1148701004", "36813-4", "432369004"} <= codes


def test_lack_of_consensus_cards_are_info_and_say_the_panel_could_not_agree(call_hook):
    _, body = call_hook(request(*net_met(), sstr(10, False), fdg(8, True)))
    for rec_id in ("workup.net.mmr-ngs", "workup.discordant-pet"):
        c = card(body, rec_id)
        assert c["indicator"] == "info"
        assert "could not agree" in c["detail"]


def test_overdue_schedule_is_a_warning_with_an_order_suggestion(call_hook):
    _, body = call_hook(request(*nec_surveilled(ct(300))))
    c = card(body, "surveillance.nec")
    assert c["indicator"] == "warning"
    resources = created(c)
    assert resources and all(
        r["instantiatesCanonical"] == ["http://localhost/fhir/PlanDefinition/surveillance.nec"] for r in resources
    )


def test_schedule_not_yet_due_is_info_with_the_due_date(call_hook):
    _, body = call_hook(request(*nec_surveilled(ct(20))))
    c = card(body, "surveillance.nec")
    assert c["indicator"] == "info"
    assert "suggestions" not in c
    assert "due 20" in c["summary"] and "{due}" not in c["summary"]


def test_unknown_differentiation_gives_a_gap_not_an_sstr_pet_guess(call_hook):
    _, body = call_hook(request(*unknown_diff(35)))
    assert "workup.net.sstr-pet" not in delivered(body)
    assert "data-gap.differentiation" in topics(body) or any(
        "workup.net.sstr-pet" in c["detail"] for c in body["cards"]
    )


# ---------------------------------------------------------------- scope


def test_no_nen_no_cards(call_hook):
    colon_adenocarcinoma = condition(cc(ICD10, "C18.7"), morphology="8140/3", onset="2026-01-01")
    status_code, body = call_hook(request(colon_adenocarcinoma))
    assert status_code == 200 and body["cards"] == []


def test_g2_net_gets_only_the_scope_card(call_hook):
    _, body = call_hook(request(nen("NET", "C25.4"), ki(12), liver_mets()))
    assert topics(body) == ["scope.not-applicable"]
