"""The explanation page end to end: hook -> link on every card -> page; expired and forged links."""

from __future__ import annotations

import socket
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from cds_service import create_app
from cds_service.explain.service import Explainer
from cds_service.explain.summary import explanation
from cds_service.guideline.evaluate import evaluate
from cds_service.pipeline import HookResult
from cds_service.rendering.cards import CardContext, render_cards, templates
from tests.explain import conftest as f
from tests.support.fhir import hook_request, patient

EXPLAIN_LABEL = templates()["explain_link_label"]


class Clock:
    def __init__(self):
        self.now = 1_900_000_000.0

    def __call__(self) -> float:
        return self.now


class Page(HTMLParser):
    """Tags with their attributes, and the visible text."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data):
        self.text.append(data)

    def all(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k.replace("_", "-")) == v for k, v in attrs.items())]

    @property
    def words(self) -> str:
        return " ".join(" ".join(self.text).split())


def make_app(tmp_path, **config):
    return create_app(
        {"CDS_AUTH": "off", "DATABASE_URL": f"sqlite:///{tmp_path / 'fb.sqlite3'}", "TESTING": True, **config}
    )


@pytest.fixture()
def facts_are(monkeypatch):
    """Stand in for the extractors: the hook sees the given PatientFacts (rules, cards, page are real)."""

    def use(facts):
        monkeypatch.setattr("cds_service.pipeline.build_facts", lambda record, *, today: facts)

    return use


def post_patient_view(client, *resources):
    request = hook_request("patient-view", *resources, patient_id=f.PATIENT)
    response = client.post("/cds-services/nanets-g3-nen-patient-view", json=request)
    assert response.status_code == 200
    return response.get_json()["cards"]


def explain_links(card):
    return [link for link in card.get("links", []) if link["label"] == EXPLAIN_LABEL]


def test_every_card_links_to_the_explanation_of_this_evaluation(client, facts_are):
    facts_are(f.nec_metastatic())
    cards = post_patient_view(client)
    assert len(cards) >= 2
    urls = set()
    for card in cards:
        [link] = explain_links(card)
        assert link["type"] == "absolute"
        parts = urlsplit(link["url"])
        assert parts.scheme == "http" and parts.netloc and parts.path.startswith("/explain/")
        assert f.PATIENT not in link["url"] and "pt-" not in link["url"]
        urls.add(link["url"])
    assert len(urls) == 1, "one evaluation, one link, shared by its cards"
    page = client.get(urlsplit(urls.pop()).path)
    assert page.status_code == 200 and page.mimetype == "text/html"
    words = Page(page.get_data(as_text=True)).words
    for card in cards:
        if card["source"]["topic"]["code"].startswith(("met.", "workup.")):
            assert card["summary"] in words


def test_two_evaluations_get_two_different_links(client, facts_are):
    facts_are(f.nec_metastatic())
    first = explain_links(post_patient_view(client)[0])[0]["url"]
    second = explain_links(post_patient_view(client)[0])[0]["url"]
    assert first != second


def test_no_smart_link_unless_a_smart_client_is_configured(client, facts_are, tmp_path):
    facts_are(f.nec_metastatic())
    assert all(link["type"] != "smart" for card in post_patient_view(client) for link in card.get("links", []))
    smart_app = make_app(tmp_path, SMART_CLIENT_ID="nen-explain", SMART_ISSUERS="https://ehr.example/fhir")
    cards = post_patient_view(smart_app.test_client())
    for card in cards:
        [smart] = [link for link in card["links"] if link["type"] == "smart"]
        assert smart["url"] == "http://localhost/explain/smart/launch"


def test_no_link_and_nothing_cached_when_there_are_no_cards(tmp_path):
    app = make_app(tmp_path)
    explainer: Explainer = app.extensions["nen_explain"]
    evaluation = evaluate("patient-view", f.nec_metastatic())
    result = HookResult({"cards": []}, None, evaluation.facts, evaluation)  # type: ignore[arg-type]
    explainer.attach(result, {}, CardContext("h", "http://svc", f.PATIENT), "http://svc")
    assert result.body == {"cards": []}
    assert len(explainer.store) == 0


def test_cards_go_out_without_the_link_when_the_cache_is_down(tmp_path, facts_are):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = make_app(tmp_path, REDIS_URL=f"redis://127.0.0.1:{port}/0", EXPLAIN_SECRET="x" * 32)
    facts_are(f.nec_metastatic())
    cards = post_patient_view(app.test_client())
    assert cards and all(not explain_links(card) for card in cards)


def _page(client, facts) -> tuple[int, Page]:
    app = client.application
    evaluation = evaluate("patient-view", facts)
    cards = render_cards(evaluation, CardContext("h", "http://svc", facts.patient_id))
    token = app.extensions["nen_explain"].publish(explanation(evaluation, None, cards))
    response = client.get(f"/explain/{token}")
    return response.status_code, Page(response.get_data(as_text=True))


def test_the_page_shows_the_highlighted_path_recommendations_and_gaps(client):
    status, page = _page(client, f.nec_metastatic())
    assert status == 200
    chosen = {(a["data-step"], a["data-value"]) for a in page.all("g", data_chosen="true")}
    assert chosen == {("differentiation", "NEC"), ("site", "GEP"), ("stage", "metastatic"), ("course", "first-line")}
    words = page.words
    assert "✓ this patient" in words  # the highlight is written, not only coloured
    fired = {a["data-rec-id"] for a in page.all("article", data_testid="fired")}
    evaluation = evaluate("patient-view", f.nec_metastatic())
    assert fired == {d.rec.id for d in evaluation.fired}
    assert "Consensus recommendation: the NANETS panel agreed." in words
    assert {a["data-rec-id"] for a in page.all("details", data_testid="silent")} == {
        d.rec.id for d in evaluation.decisions if d.outcome.value == "silent"
    }
    assert {a["data-fact"] for a in page.all("article", data_testid="gap")} == {g.fact for g, _ in evaluation.gaps()}
    assert "Observation/ki67-1" in words and "Observation/old-ki67" in words and "status entered-in-error" in words


def test_an_unknown_differentiation_is_drawn_as_a_data_gap_in_words_too(client):
    status, page = _page(client, f.unknown_differentiation())
    assert status == 200
    gaps = page.all("g", data_gap="true")
    assert {a["data-step"] for a in gaps} >= {"differentiation", "stage"}
    assert "? data gap (this patient)" in page.words
    assert "Tumor differentiation (NET vs NEC)" in page.words


def test_the_page_meets_the_accessibility_basics(client):
    status, page = _page(client, f.cervical_nec())
    assert status == 200
    [html] = page.all("html")
    assert html["lang"] == "en"
    assert len(page.all("h1")) == 1 and len(page.all("h2")) >= 5
    [svg] = page.all("svg")
    assert svg["role"] == "img" and svg["aria-labelledby"] == "path-title path-desc"
    assert page.all("title", id="path-title") and page.all("desc", id="path-desc")
    assert page.all("a", href="#main"), "a skip link"
    assert page.all("summary"), "expandable sections use native, keyboard-focusable <details>"
    for region in page.all("div", role="region"):
        assert region["tabindex"] == "0", "scrollable tables can be reached with the keyboard"


def test_the_page_loads_nothing_from_the_internet(client):
    status, page = _page(client, f.g3_net_metastatic())
    assert status == 200
    assert not page.all("script") and not page.all("link") and not page.all("img") and not page.all("iframe")
    external = [a["href"] for a in page.all("a") if a.get("href", "").startswith("http")]
    assert external == ["https://doi.org/10.1530/ERC-22-0206"]
    for a in page.all("a"):
        if a.get("href", "").startswith("http"):
            assert "noreferrer" in a["rel"]


def test_the_page_is_not_cached_and_leaks_no_referrer(client):
    evaluation = evaluate("patient-view", f.nec_metastatic())
    token = client.application.extensions["nen_explain"].publish(explanation(evaluation, None, []))
    response = client.get(f"/explain/{token}")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("token", ["nonsense", "a" * 22 + ".1900000000." + "b" * 43, "x.y.z"])
def test_a_forged_link_gets_a_plain_html_404(client, token):
    response = client.get(f"/explain/{token}")
    assert response.status_code == 404 and response.mimetype == "text/html"
    body = response.get_data(as_text=True)
    assert "not valid" in body and "Traceback" not in body and "resourceType" not in body


def test_an_expired_link_gets_410_and_says_so(tmp_path):
    app = make_app(tmp_path)
    clock = Clock()
    explainer = Explainer(app.config["SETTINGS"], clock=clock)
    app.extensions["nen_explain"] = explainer
    evaluation = evaluate("patient-view", f.nec_metastatic())
    token = explainer.publish(explanation(evaluation, None, []))
    client = app.test_client()
    assert client.get(f"/explain/{token}").status_code == 200
    clock.now += app.config["SETTINGS"].explain_token_seconds
    response = client.get(f"/explain/{token}")
    assert response.status_code == 410 and response.mimetype == "text/html"
    assert "expired" in response.get_data(as_text=True)


def test_a_link_whose_evaluation_left_the_cache_is_expired(tmp_path):
    app = make_app(tmp_path, EXPLAIN_CACHE_ENTRIES=1)
    explainer = app.extensions["nen_explain"]
    evaluation = evaluate("patient-view", f.nec_metastatic())
    first = explainer.publish(explanation(evaluation, None, []))
    explainer.publish(explanation(evaluation, None, []))  # evicts the first (bounded cache)
    assert app.test_client().get(f"/explain/{first}").status_code == 410


def test_a_patient_resource_in_prefetch_never_reaches_the_link_or_page(client, facts_are):
    facts_are(f.nec_metastatic())
    person = patient(f.PATIENT) | {"name": [{"family": "Testperson"}], "birthDate": "1961-02-03"}
    request = hook_request("patient-view", patient_id=f.PATIENT)
    request["prefetch"]["patient"] = person
    response = client.post("/cds-services/nanets-g3-nen-patient-view", json=request)
    url = explain_links(response.get_json()["cards"][0])[0]["url"]
    body = client.get(urlsplit(url).path).get_data(as_text=True)
    for secret in (f.PATIENT, "Testperson", "1961-02-03"):
        assert secret not in url and secret not in body


def test_a_real_record_end_to_end_without_stand_ins(client):
    """Extractors, rules, cards, link and page together, for a metastatic pancreatic NEC."""
    from tests.support.fhir import ki67, m_category, nen_condition, secondary

    resources = [
        nen_condition("NEC", site="C25.4", id="e2e-nen", patient_id=f.PATIENT),
        ki67(80, id="e2e-ki67", patient_id=f.PATIENT),
        m_category(id="e2e-m1", patient_id=f.PATIENT),
        secondary("C78.7", id="e2e-liver", patient_id=f.PATIENT),
    ]
    cards = post_patient_view(client, *resources)
    assert cards and all(len(explain_links(card)) == 1 for card in cards)
    page = Page(client.get(urlsplit(explain_links(cards[0])[0]["url"]).path).get_data(as_text=True))
    chosen = {(a["data-step"], a["data-value"]) for a in page.all("g", data_chosen="true")}
    assert chosen == {("differentiation", "NEC"), ("site", "GEP"), ("stage", "metastatic"), ("course", "first-line")}
    facts = {a["data-fact"] for a in page.all("tr") if "data-fact" in a}
    assert {"differentiation", "site", "ki67_percent", "stage"} <= facts
    assert "Condition/e2e-liver" in page.words and "Observation/e2e-ki67" in page.words
    fired = {a["data-rec-id"] for a in page.all("article", data_testid="fired")}
    assert "met.nec.platinum-etoposide" in fired and not any(r.startswith("met.net.") for r in fired)
