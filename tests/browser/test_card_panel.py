"""The hook response as an EHR card panel shows it (tests/browser/card_panel.html, 400 px wide):
Markdown detail rendered (bold, lists, links), suggestion buttons and links present, nothing overflows.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests
from selenium.webdriver.common.by import By

from tests.browser.conftest import full_page_screenshot
from tests.browser.patients import PATIENTS

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+\S")
PANEL = (Path(__file__).resolve().parent / "card_panel.html").as_uri()

OVERFLOW_JS = """
const out = [];
for (const card of document.querySelectorAll('.card')) {
  const box = card.getBoundingClientRect();
  if (card.scrollWidth > card.clientWidth) out.push(['card', card.dataset.topic, card.scrollWidth, card.clientWidth]);
  for (const e of card.querySelectorAll('*')) {
    const r = e.getBoundingClientRect();
    if (r.width && r.right > box.right + 0.5) out.push([e.tagName, card.dataset.topic, r.right, box.right]);
  }
}
const panel = document.getElementById('panel');
if (panel.scrollWidth > panel.clientWidth) out.push(['panel', '', panel.scrollWidth, panel.clientWidth]);
return out;
"""


def test_the_markdown_subset_renderer_itself(driver):
    driver.get(PANEL)
    html = driver.execute_script(
        "return markdownToHtml(arguments[0])",
        "**Why:** a *b* `c_d`\n\n- one\n- two [doi](https://doi.org/10.1530/ERC-22-0206)\n\n1. first\n\n---\n<b>x</b>",
    )
    assert "<p><strong>Why:</strong> a <em>b</em> <code>c_d</code></p>" in html
    assert '<ul><li>one</li><li>two <a href="https://doi.org/10.1530/ERC-22-0206"' in html
    assert "<ol><li>first</li></ol>" in html and "<hr>" in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html  # raw HTML in a card is shown, never executed


@pytest.mark.parametrize("name", list(PATIENTS))
def test_cards_render_like_an_ehr_panel_without_overflow(driver, live_server, screenshots, name):
    patient = PATIENTS[name]
    response = requests.post(
        f"{live_server}/cds-services/nanets-g3-nen-patient-view", json=patient.request(), timeout=30
    ).json()
    cards = response["cards"]
    assert cards
    driver.get(PANEL)
    assert driver.execute_script("return renderResponse(arguments[0])", response) == len(cards)
    shown = driver.find_elements(By.CSS_SELECTOR, "#panel .card")
    assert len(shown) == len(cards)
    for card, element in zip(cards, shown, strict=True):
        assert element.find_element(By.CSS_SELECTOR, ".summary").text == card["summary"]
        assert element.find_element(By.CSS_SELECTOR, ".indicator").text.lower() == card["indicator"]
        detail = element.find_element(By.CSS_SELECTOR, ".detail")
        assert "**" not in detail.text, f"unrendered bold in {card['summary']!r}"
        assert "](" not in detail.text, f"unrendered link in {card['summary']!r}"
        if "**" in card["detail"]:
            assert detail.find_elements(By.TAG_NAME, "strong")
        if "](http" in card["detail"]:
            anchors = detail.find_elements(By.TAG_NAME, "a")
            assert anchors and all(a.get_attribute("href").startswith("http") for a in anchors)
        items = [line for line in card["detail"].splitlines() if LIST_ITEM.match(line)]
        assert len(detail.find_elements(By.CSS_SELECTOR, "ul li, ol li")) == len(items)
        buttons = element.find_elements(By.CSS_SELECTOR, ".suggestions button")
        assert [b.text for b in buttons] == [s["label"] for s in card.get("suggestions", [])]
        links = element.find_elements(By.CSS_SELECTOR, ".links a")
        assert [a.get_attribute("href") for a in links] == [link["url"] for link in card.get("links", [])]
    assert driver.execute_script(OVERFLOW_JS) == []
    full_page_screenshot(driver, screenshots / f"card-panel-{name}.png", width=460)
