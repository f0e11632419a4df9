"""The console's other pages in headless Chromium: the agent config (a change becomes
version 2 with its diff), the knowledge base (an upload turns ready), operations; each page
passes axe-core and is kept as a screenshot."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from tests.api.console_support import add_reviewer
from tests.browser.conftest import screenshot
from tests.browser.helpers import axe, sign_in, wait

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def test_change_the_config_and_see_version_2_with_its_diff(api, browser):
    secret = add_reviewer(api.rt, "alpha", "ann", {"name": "Ava", "tonality": "warm"},
                          admin=True)
    sign_in(browser, api.server.url, "alpha", "ann", secret)
    browser.find_element(By.LINK_TEXT, "Agent config").click()
    wait(browser, ec.presence_of_element_located((By.ID, "f-tonality")))
    assert not axe(browser), axe(browser)
    screenshot(browser, "config")

    # A refused value is named beside its field; nothing is saved.
    confidence = browser.find_element(By.ID, "f-minConfidence")
    confidence.clear()
    confidence.send_keys("1.5")
    browser.find_element(By.CSS_SELECTOR, ".config-form button[type=submit]").click()
    error = wait(browser, ec.presence_of_element_located((By.ID, "e-minConfidence")))
    assert "less than or equal to 1" in error.text
    assert browser.find_element(By.ID, "f-minConfidence").get_attribute("aria-invalid") == "true"
    assert not browser.find_elements(By.ID, "v2")
    assert not axe(browser), axe(browser)

    confidence = browser.find_element(By.ID, "f-minConfidence")
    confidence.clear()
    confidence.send_keys("0.7")
    tone = browser.find_element(By.ID, "f-tonality")
    tone.clear()
    tone.send_keys("warm and brief")
    browser.find_element(By.CSS_SELECTOR, ".config-form button[type=submit]").click()
    saved = wait(browser, ec.presence_of_element_located((By.ID, "saved")))
    assert "version 2" in saved.text
    version_2 = browser.find_element(By.ID, "v2")
    assert "active" in version_2.find_element(By.TAG_NAME, "h3").text
    inserted = " ".join(e.text for e in version_2.find_elements(By.CSS_SELECTOR, ".diff ins"))
    assert "brief" in inserted and "0.7" in inserted
    assert "Tone" in version_2.text and "Minimum confidence" in version_2.text
    assert version_2.find_element(By.CSS_SELECTOR, "svg.chart title").text.startswith("Drafts")
    active = api.client_with_key("alpha").get("/api/agent/config/active").json()
    assert active["version"] == 2 and active["minConfidence"] == 0.7
    assert not axe(browser), axe(browser)
    screenshot(browser, "config-v2")
