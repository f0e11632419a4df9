"""The review console in headless Chromium: sign in, the live queue, keyboard review, the
decision on the decisions stream, edit with a diff, reject with a reason, another client's
reviewer, attacker-controlled text kept inert, CSRF, and an axe-core accessibility check."""

from __future__ import annotations

import http.server
import threading
import time

import orjson
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select

from tests.api.console_support import add_reviewer, draft_via_api
from tests.browser.conftest import screenshot
from tests.browser.helpers import axe as _axe, sign_in as _sign_in, wait as _wait
from tests.integration.conftest import push
from worker.ingress.consumer import Ingress

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def _draft(api, client_id: str, event_id: str, message: str = "Any vans in stock?",  # noqa: ANN001
           lead: str = "Dana Lead") -> dict:
    return draft_via_api(api, client_id, event_id, message, lead)



def _decisions(api) -> list[dict]:  # noqa: ANN001
    stream = api.rt.settings.outbound_decisions_stream
    return [orjson.loads(f[b"payload"]) for _id, f in api.rt.redis.xrange(stream)]


def _selected(driver) -> str:  # noqa: ANN001
    return driver.execute_script(
        "var a = document.querySelector('#pane article.draft');"
        "return a ? a.getAttribute('data-draft-id') : '';")


def _press(driver, key: str) -> None:  # noqa: ANN001
    driver.find_element(By.TAG_NAME, "body").send_keys(key)



def test_sign_in_see_a_new_draft_arrive_live_and_approve_it_with_the_keyboard(api, browser):
    secret = add_reviewer(api.rt, "alpha", "kim", {"name": "Ava"})
    first = _draft(api, "alpha", "e-1")
    browser.get(api.server.url + "/login")
    assert not _axe(browser), _axe(browser)
    screenshot(browser, "login")
    _sign_in(browser, api.server.url, "alpha", "kim", secret)
    assert _selected(browser) == first["draftId"]
    _wait(browser, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-live") == "on")

    # A lead writes in on the inbound stream; the open queue shows the draft without a reload.
    browser.execute_script("window.__sameDocument = true;")
    ingress = api.rt.call(Ingress, name="browser-test")
    ingress.setup()
    push(api.rt, "chat", {"eventId": "live-1", "clientId": "alpha", "leadId": "lead-live",
                          "leadName": "Robin Live", "conversationId": "c-live",
                          "message": "Can I test drive the blue estate on Saturday?"})
    ingress.handle(ingress.read(block_ms=2000))
    row = _wait(browser, ec.presence_of_element_located(
        (By.XPATH, "//a[contains(@class,'row')][.//span[@class='lead'][text()='Robin Live']]")))
    live_id = row.get_attribute("data-id")
    assert browser.execute_script("return window.__sameDocument === true;")  # no reload
    rows = browser.find_elements(By.CSS_SELECTOR, "#queue-list a.row")
    assert rows[0].get_attribute("data-id") == live_id  # newest first
    assert not _axe(browser), _axe(browser)
    screenshot(browser, "queue")
    screenshot(browser, "queue", width=390, height=844)
    browser.set_window_size(1280, 900)

    _press(browser, "k")  # up to the newest
    _wait(browser, lambda d: _selected(d) == live_id)
    assert "blue estate" in browser.find_element(By.ID, "pane").text
    _press(browser, "j")
    _wait(browser, lambda d: _selected(d) == first["draftId"])
    _press(browser, "k")
    _wait(browser, lambda d: _selected(d) == live_id)
    _press(browser, "a")
    _wait(browser, lambda d: any(x["draftId"] == live_id for x in _decisions(api)))
    [decision] = _decisions(api)
    assert decision["decision"] == "approved" and decision["reviewer"] == "kim"
    assert decision["clientId"] == "alpha" and "blue estate" in decision["text"]
    # The approved draft left the queue; the next pending one is shown.
    _wait(browser, lambda d: _selected(d) == first["draftId"])
    ids = [r.get_attribute("data-id") for r in
           browser.find_elements(By.CSS_SELECTOR, "#queue-list a.row")]
    assert live_id not in ids


def test_edit_inline_with_a_diff_then_reject_another_with_a_reason(api, browser):
    secret = add_reviewer(api.rt, "alpha", "kim", {"name": "Ava"})
    one = _draft(api, "alpha", "e-1", "Do you have vans?")
    two = _draft(api, "alpha", "e-2", "What does a service cost?", lead="Sam Service")
    _sign_in(browser, api.server.url, "alpha", "kim", secret)
    assert _selected(browser) == two["draftId"]
    _press(browser, "j")
    _wait(browser, lambda d: _selected(d) == one["draftId"])
    _press(browser, "e")
    box = browser.find_element(By.ID, "edit-text")
    _wait(browser, lambda d: d.switch_to.active_element == box)
    box.clear()
    box.send_keys("Hello, yes: three vans are in stock today.")
    diff = browser.find_element(By.ID, "edit-diff")
    assert diff.find_elements(By.TAG_NAME, "ins") and diff.find_elements(By.TAG_NAME, "del")
    screenshot(browser, "edit")
    browser.find_element(By.CSS_SELECTOR, "#edit-form button[type=submit]").click()
    _wait(browser, lambda d: len(_decisions(api)) == 1)
    assert _decisions(api)[0]["text"] == "Hello, yes: three vans are in stock today."
    assert _decisions(api)[0]["decision"] == "edited"

    _wait(browser, lambda d: _selected(d) == two["draftId"])
    _press(browser, "r")
    _wait(browser, lambda d: d.switch_to.active_element.get_attribute("id") == "reject-reason")
    Select(browser.find_element(By.ID, "reject-reason")).select_by_visible_text(
        "Promises we cannot keep (price, availability, dates)")
    browser.find_element(By.ID, "reject-note").send_keys("we never quote service prices")
    browser.find_element(By.CSS_SELECTOR, "#reject-form button[type=submit]").click()
    _wait(browser, lambda d: "Nothing here" in d.find_element(By.ID, "queue-list").text)
    shown = api.client_with_key("alpha").get(f"/api/agent/drafts/{two['draftId']}").json()
    assert shown["status"] == "rejected" and shown["reviewedBy"] == "kim"
    assert shown["rejectionReason"].endswith("we never quote service prices")
    assert len(_decisions(api)) == 1  # a rejection sends nothing

    browser.get(api.server.url + f"/drafts/{one['draftId']}?status=")
    assert browser.find_element(By.CSS_SELECTOR, ".diff ins").text.strip()
    assert "Edited by kim" in browser.find_element(By.CSS_SELECTOR, ".decided").text
    assert not _axe(browser), _axe(browser)


class _Counter(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802
        _Counter.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


def test_lead_and_model_text_stay_inert_in_the_browser(api, browser):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Counter)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    evil = f"http://127.0.0.1:{server.server_address[1]}"
    _Counter.hits.clear()
    secret = add_reviewer(api.rt, "alpha", "kim", {"name": "Ava"})
    message = (f'Hi <script>window.__xss = 1</script> <img src="{evil}/onerror.png" '
               f'onerror="window.__xss = 2"> ![pixel]({evil}/markdown.png) '
               f'<a href="{evil}/click">click me</a> see {evil}/plain '
               f'<iframe src="{evil}/frame"></iframe> <svg onload="window.__xss = 3"></svg>')
    draft = _draft(api, "alpha", "x-1", message, lead='<b onmouseover="window.__xss=4">Eve</b>')
    try:
        _sign_in(browser, api.server.url, "alpha", "kim", secret)
        browser.get(api.server.url + f"/drafts/{draft['draftId']}")
        pane = browser.find_element(By.ID, "pane")
        time.sleep(1.0)
        assert browser.execute_script("return window.__xss === undefined;")
        for tag in ("script", "img", "iframe", "svg", "b"):
            assert not pane.find_elements(By.TAG_NAME, tag), tag
        assert not pane.find_elements(By.CSS_SELECTOR, f"a[href^='{evil}']")
        text = pane.text
        assert "<script>window.__xss = 1</script>" in text  # shown as text, as the lead wrote it
        assert f"![pixel]({evil}/markdown.png)" in text
        assert '<b onmouseover="window.__xss=4">Eve</b>' in text
        # The model's reply quotes the lead (the fake model echoes what the prompt fence let
        # through): shown as text as well.
        assert "window.__xss = 1" in browser.find_element(By.ID, "reply-text").text
        assert _Counter.hits == []  # nothing was fetched from the attacker's host
        screenshot(browser, "inert")
    finally:
        server.shutdown()


def test_another_clients_reviewer_gets_nothing_and_csrf_is_enforced(api, browser):
    add_reviewer(api.rt, "alpha", "kim", {"name": "Ava"})
    secret_b = add_reviewer(api.rt, "beta", "lee", {"name": "Bob"})
    theirs = _draft(api, "alpha", "a-1", "Alpha's private question about a trade-in",
                    lead="Alpha Lead")
    _sign_in(browser, api.server.url, "beta", "lee", secret_b)
    assert "trade-in" not in browser.page_source and "Alpha Lead" not in browser.page_source
    browser.get(api.server.url + f"/drafts/{theirs['draftId']}")
    assert "Not found" in browser.find_element(By.TAG_NAME, "h1").text
    assert "trade-in" not in browser.page_source
    browser.get(api.server.url + "/?status=")
    assert theirs["draftId"] not in browser.page_source

    # A state-changing request without the CSRF token is refused, even with the session.
    status = browser.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "fetch('/logout', {method: 'POST', credentials: 'same-origin'})"
        ".then(function (r) { done(r.status); });")
    assert status == 403
    assert browser.find_element(By.CSS_SELECTOR, ".who").text.startswith("lee")
