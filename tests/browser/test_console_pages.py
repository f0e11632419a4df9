"""The console's other pages in headless Chromium: the agent config (a change becomes
version 2 with its diff), the knowledge base (an upload turns ready, processed through Celery
by a real `agent-runtime worker`), operations; each page passes axe-core and is kept as a
screenshot."""

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


HOURS = "# Service\n\n## Opening hours\n\nOur workshop is open Monday to Friday 8-18.\n"
_DROP = """
var dt = new DataTransfer();
dt.items.add(new File([arguments[0]], arguments[1], {type: 'text/markdown'}));
var zone = document.getElementById('drop-zone');
zone.dispatchEvent(new DragEvent('dragover', {dataTransfer: dt, bubbles: true, cancelable: true}));
zone.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));
"""


_ROW = ("var name = arguments[0]; var row = Array.prototype.find.call("
        "document.querySelectorAll('#kb-docs tr[data-id]'), function (r) {"
        "  var a = r.querySelector('a'); return a && a.textContent === name; });")


def _status(driver, name: str) -> str:  # noqa: ANN001
    """The status the documents table shows (read in one go: htmx may swap the table)."""
    return driver.execute_script(
        "var rows = document.querySelectorAll('#kb-docs tr[data-id]');"
        "for (var i = 0; i < rows.length; i++) {"
        "  var a = rows[i].querySelector('a');"
        "  if (a && a.textContent === arguments[0]) { return rows[i].getAttribute('data-status'); }"
        "} return '';", name)


def test_upload_a_document_and_watch_it_turn_ready(api_with_worker, browser, tmp_path):
    api = api_with_worker
    secret = add_reviewer(api.rt, "alpha", "ann", {"name": "Ava"}, admin=True)
    sign_in(browser, api.server.url, "alpha", "ann", secret)
    browser.find_element(By.LINK_TEXT, "Knowledge base").click()
    new_folder = wait(browser, ec.presence_of_element_located((By.ID, "new-folder")))
    new_folder.send_keys("service")
    new_folder.submit()
    wait(browser, ec.presence_of_element_located(
        (By.XPATH, "//nav[@class='tree']//a[text()='service'][@aria-current='page']")))
    assert not axe(browser), axe(browser)
    browser.execute_script("window.__sameDocument = true;")

    # Chosen with the file input (keyboard users), and dropped on the drop zone.
    path = tmp_path / "hours.md"
    path.write_text(HOURS)
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 nothing useful")
    browser.find_element(By.ID, "upload-files").send_keys(f"{path}\n{broken}")
    browser.execute_script(_DROP, "# VIP\n\nFleet customers get a courtesy car.\n", "vip.md")
    for name in ("hours.md", "broken.pdf", "vip.md"):
        item = wait(browser, ec.presence_of_element_located(
            (By.CSS_SELECTOR, f"#upload-progress li[data-file='{name}'][data-state='uploaded']")))
        assert item.find_element(By.TAG_NAME, "progress").get_attribute("value") == "100"
    # Queued → processing → ready (or failed with its reason), without a reload.
    wait(browser, lambda d: _status(d, "hours.md") == "ready" and _status(d, "vip.md") == "ready"
         and _status(d, "broken.pdf") == "failed")
    assert browser.execute_script("return window.__sameDocument === true;")
    # The folder tree counts the three new documents, still without a reload.
    wait(browser, lambda d: d.find_element(
        By.XPATH, "//ul[@id='kb-tree']//a[text()='service']/..").text == "service (3)")
    # (rows are read afresh each time: a late swap of the table may replace them)
    row = _ROW + "return row ? [row.innerText, !!row.querySelector('button')] : null;"
    text, has_retry = browser.execute_script(row, "broken.pdf")
    assert "PDF could not be read" in text and has_retry
    shown = api.client_with_key("alpha").get("/api/agent/kb/documents",
                                             params={"folder": "service"}).json()
    assert {d["filename"]: d["status"] for d in shown["documents"]} == {
        "hours.md": "ready", "vip.md": "ready", "broken.pdf": "failed"}
    assert not axe(browser), axe(browser)
    screenshot(browser, "knowledge-base")

    # Retry the failed one: queued again, and failed again with the same reason.
    browser.execute_script(_ROW + "row.querySelector('button').click();", "broken.pdf")
    wait(browser, lambda d: "Queued again" in d.find_element(By.TAG_NAME, "main").text)
    wait(browser, lambda d: _status(d, "broken.pdf") == "failed")

    # The audience editor, its count, and what a lead with a tag would be shown.
    browser.find_element(By.LINK_TEXT, "vip.md").click()
    segments = wait(browser, ec.presence_of_element_located((By.ID, "aud-segments")))
    segments.send_keys("tier:vip")
    browser.find_element(By.CSS_SELECTOR, "form.audience button[type=submit]").click()
    wait(browser, lambda d: "Audience saved" in d.find_element(By.TAG_NAME, "main").text)
    assert browser.find_element(By.ID, "audience-count").text == "1 tag and 0 user ids"
    assert not axe(browser), axe(browser)
    screenshot(browser, "knowledge-document")
    browser.get(api.server.url + "/knowledge/preview")
    browser.find_element(By.ID, "pv-q").send_keys("courtesy car")
    browser.find_element(By.CSS_SELECTOR, ".preview-form button").click()
    wait(browser, ec.presence_of_element_located((By.ID, "hits-h")))
    assert "vip.md" not in browser.find_element(By.TAG_NAME, "main").text
    segs = browser.find_element(By.ID, "pv-segments")
    segs.send_keys("tier:vip")
    browser.find_element(By.CSS_SELECTOR, ".preview-form button").click()
    wait(browser, lambda d: "vip.md" in d.find_element(By.CSS_SELECTOR, "ol.hits").text)
    assert not axe(browser), axe(browser)
    screenshot(browser, "knowledge-preview")


def test_the_operations_page_shows_health_review_charts_and_kept_aside_events(api, browser):
    from tests.api.console_support import draft_via_api
    from tests.integration.conftest import push
    from worker.ingress.consumer import Ingress

    secret = add_reviewer(api.rt, "alpha", "kim", {"name": "Ava"})
    approved = draft_via_api(api, "alpha", "e-1", "Any vans in stock?", "Dana Lead")
    rejected = draft_via_api(api, "alpha", "e-2", "What does a service cost?", "Sam Service")
    http = api.client_with_key("alpha")
    assert http.post(f"/api/agent/drafts/{approved['draftId']}/approve",
                     json={}).status_code == 200
    assert http.post(f"/api/agent/drafts/{rejected['draftId']}/reject",
                     json={"reason": "wrong tone"}).status_code == 200
    # An event that cannot be drafted is kept aside by the real ingress, with its reason.
    ingress = api.rt.call(Ingress, name="browser-ops")
    ingress.setup()
    push(api.rt, "chat", {"eventId": "bad-1", "clientId": "alpha", "leadId": "l-1",
                          "conversationId": "c-1"})
    ingress.handle(ingress.read(block_ms=2000))

    sign_in(browser, api.server.url, "alpha", "kim", secret)
    browser.find_element(By.LINK_TEXT, "Operations").click()
    main = wait(browser, ec.presence_of_element_located((By.ID, "health-h")))
    assert main.text.startswith("Health")
    checks = [r.text for r in browser.find_elements(By.CSS_SELECTOR, "section[aria-labelledby='health-h'] tbody tr")]
    assert any(c.startswith("database ok") for c in checks), checks
    review = browser.find_element(By.CSS_SELECTOR, "section[aria-labelledby='review-h']").text
    assert "Approval rate: 50 %" in review
    hourly = browser.find_element(By.ID, "hourly-h").text
    assert hourly.endswith("(2)")
    bars = browser.find_elements(By.CSS_SELECTOR, "section[aria-labelledby='hourly-h'] svg rect")
    assert any(float(b.get_attribute("height")) > 0 for b in bars)
    kept = browser.find_element(By.CSS_SELECTOR, "section[aria-labelledby='kept-h']").text
    assert "Events kept aside (1)" in kept and "bad-1" in kept and "message" in kept
    assert not axe(browser), axe(browser)
    screenshot(browser, "operations")
    screenshot(browser, "operations", width=390, height=844)
