"""In a real browser: patient-view for each patient, follow the card's explanation link, check the page.

Patients (tests/browser/patients.py): metastatic G3 NET, metastatic NEC, cervical NEC (FIGO IB1),
and a NEN of unknown differentiation. Screenshots go to test-output/screenshots/ (the docs'
docs/img/explanation.png is copied from one of them).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from cds_service.rendering.cards import templates
from tests.browser.conftest import full_page_screenshot
from tests.browser.patients import PATIENTS, Patient

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

EXPLAIN_LABEL = templates()["explain_link_label"]
LEVEL_WORDS = ("Consensus recommendation", "Majority recommendation", "Panel statement", "No consensus")


def patient_view(base: str, patient: Patient) -> list[dict]:
    response = requests.post(f"{base}/cds-services/nanets-g3-nen-patient-view", json=patient.request(), timeout=30)
    assert response.status_code == 200, response.text[:300]
    return response.json()["cards"]


@pytest.fixture(params=list(PATIENTS), ids=list(PATIENTS))
def patient(request) -> Patient:
    return PATIENTS[request.param]


def test_the_explanation_link_opens_the_patients_path_recommendations_and_gaps(
    driver, live_server, screenshots, patient
):
    cards = patient_view(live_server, patient)
    assert cards, "the patient gets cards"
    links = {link["url"] for card in cards for link in card.get("links", []) if link["label"] == EXPLAIN_LABEL}
    assert len(links) == 1
    url = links.pop()
    assert urlsplit(url).netloc == urlsplit(live_server).netloc
    driver.get(url)
    assert driver.find_element(By.TAG_NAME, "h1").text.startswith("Why these cards")

    # the highlighted path, in the SVG and in words
    chosen = {
        (g.get_attribute("data-step"), g.get_attribute("data-value"))
        for g in driver.find_elements(By.CSS_SELECTOR, "svg g[data-chosen='true']")
    }
    assert chosen == patient.path
    steps = driver.find_element(By.CSS_SELECTOR, "[data-testid='path-steps']").text
    decided = {(step, value) for step, value in patient.path if value != "unknown"}
    assert steps.count("this patient") == len(decided)
    assert steps.count("unknown: data gap") == len(patient.path) - len(decided)
    svg = driver.find_element(By.CSS_SELECTOR, "svg[data-testid='path-svg']")
    assert svg.get_attribute("role") == "img" and svg.size["width"] > 600

    # the recommendations that fired are the cards the EHR got
    card_topics = {c["source"]["topic"]["code"] for c in cards}
    fired = {a.get_attribute("data-rec-id") for a in driver.find_elements(By.CSS_SELECTOR, "[data-testid='fired']")}
    assert fired and fired <= card_topics
    assert set(patient.fired) <= fired
    assert not [rec for rec in fired if rec.startswith(patient.never)]
    assert fired == {t for t in card_topics if not t.startswith(("data-gap.", "data-quality.", "scope."))}
    for level in driver.find_elements(By.CSS_SELECTOR, "[data-testid='fired'] [data-testid='level']"):
        assert level.text.split(":")[0] in (
            "Consensus recommendation",
            "Majority recommendation",
            "Panel statement",
            "No consensus",
        )

    # every data-gap card of the response is explained on the page
    gap_cards = {
        t.removeprefix("data-gap.") for t in card_topics if t.startswith("data-gap.") and t != "data-gap.unreadable"
    }
    page_gaps = {a.get_attribute("data-fact") for a in driver.find_elements(By.CSS_SELECTOR, "[data-testid='gap']")}
    assert gap_cards <= page_gaps
    assert set(patient.gaps) <= page_gaps
    for fact in patient.gaps:
        dashed = driver.find_elements(By.CSS_SELECTOR, "svg g[data-gap='true']")
        assert fact not in ("differentiation", "stage") or dashed, "a missing deciding fact is drawn as a gap"

    driver.set_window_size(1280, 1500)
    driver.execute_script("window.scrollTo(0, 0)")
    driver.save_screenshot(str(screenshots / f"explanation-{patient.name}.png"))  # what opens first
    full_page_screenshot(driver, screenshots / f"explanation-{patient.name}-full.png")


def test_the_page_works_with_the_keyboard_and_fits_a_narrow_ehr_panel(driver, live_server, screenshots):
    patient = PATIENTS["metastatic-nec"]
    cards = patient_view(live_server, patient)
    url = next(link["url"] for link in cards[0]["links"] if link["label"] == EXPLAIN_LABEL)
    driver.get(url)
    body = driver.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    first = driver.switch_to.active_element
    assert first.text == "Skip to content" and first.is_displayed()
    summary = driver.find_element(By.CSS_SELECTOR, "details[data-testid='silent'] > summary")
    details = summary.find_element(By.XPATH, "..")
    assert details.get_attribute("open") is None
    driver.execute_script("arguments[0].focus()", summary)
    driver.switch_to.active_element.send_keys(Keys.ENTER)
    assert details.get_attribute("open") is not None
    outline = driver.execute_script("return getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "focus is visible"
    try:
        for width in (1280, 420):
            driver.set_window_size(width, 900)
            sizes = driver.execute_script(
                "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
            )
            assert sizes[0] <= sizes[1], f"horizontal overflow at {width}px: {sizes}"
        full_page_screenshot(driver, screenshots / "explanation-narrow.png", width=420)
    finally:
        driver.set_window_size(1280, 1000)


def test_an_expired_or_forged_link_shows_a_plain_page(driver, live_server):
    driver.get(f"{live_server}/explain/not-a-real-token")
    assert driver.find_element(By.TAG_NAME, "h1").text == "This explanation link is not valid"
    assert "Traceback" not in driver.page_source
