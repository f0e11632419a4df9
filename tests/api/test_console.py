"""The review console over HTTP (no browser): sign-in, sessions, CSRF, headers, isolation,
decisions. tests/browser drives the same pages in Chromium."""

from __future__ import annotations

import orjson

from tests.api.console_support import add_reviewer, csrf_of, draft_via_api, sign_in


def _draft(api, client_id: str, event_id: str, message: str = "Any vans in stock?",  # noqa: ANN001
           lead: str = "Dana Lead") -> dict:
    return draft_via_api(api, client_id, event_id, message, lead)


def test_the_console_needs_a_sign_in_and_refuses_a_wrong_secret(api):
    base = api.server.url
    add_reviewer(api.rt, "alpha", "kim", {"name": "Ava"})
    import httpx

    anon = httpx.Client(base_url=base, headers={"Accept": "text/html"})
    assert anon.get("/").status_code == 303 and anon.get("/").headers["location"] == "/login"
    assert anon.get("/events").status_code in (303, 401)
    page = anon.get("/login")
    refused = anon.post("/login", data={"csrf": csrf_of(page.text), "client": "alpha",
                                        "name": "kim", "secret": "not-it"})
    assert refused.status_code == 401 and "Unknown dealer, name or secret" in refused.text
    no_token = anon.post("/login", data={"client": "alpha", "name": "kim", "secret": "x"})
    assert no_token.status_code == 401 and "expired" in no_token.text


def test_session_cookie_headers_and_logout(api):
    secret = add_reviewer(api.rt, "alpha", "kim", {"name": "Ava"})
    http = sign_in(api.server.url, "alpha", "kim", secret)
    cookie = next(c for c in http.cookies.jar if c.name == "ar_session")
    assert cookie.has_nonstandard_attr("HttpOnly")
    assert cookie.get_nonstandard_attr("SameSite", "").lower() == "strict"
    page = http.get("/")
    assert page.status_code == 200 and "kim" in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "img-src 'self'" in csp and "frame-ancestors 'none'" in csp
    # Signing out ends the session on the server, not only in this browser.
    token = cookie.value
    out = http.post("/logout", data={"csrf": csrf_of(page.text)})
    assert out.status_code == 303
    import httpx

    replay = httpx.Client(base_url=api.server.url, cookies={"ar_session": token},
                          headers={"Accept": "text/html"})
    assert replay.get("/").status_code == 303


def test_state_changes_without_the_csrf_token_are_refused(api):
    secret = add_reviewer(api.rt, "alpha", "kim", {"name": "Ava"})
    draft = _draft(api, "alpha", "e-1")
    http = sign_in(api.server.url, "alpha", "kim", secret)
    refused = http.post(f"/drafts/{draft['draftId']}/approve", data={})
    assert refused.status_code == 403
    wrong = http.post(f"/drafts/{draft['draftId']}/approve", data={"csrf": "guess"})
    assert wrong.status_code == 403
    assert http.post("/logout", data={}).status_code == 403
    shown = api.client_with_key("alpha").get(f"/api/agent/drafts/{draft['draftId']}").json()
    assert shown["status"] == "pending_review"


def test_a_reviewer_approves_and_the_decision_is_announced_with_their_name(api):
    secret = add_reviewer(api.rt, "alpha", "kim", {"name": "Ava"})
    first = _draft(api, "alpha", "e-1")
    second = _draft(api, "alpha", "e-2", "Is the red one still there?")
    http = sign_in(api.server.url, "alpha", "kim", secret)
    page = http.get("/")
    assert page.text.index(second["draftId"]) < page.text.index(first["draftId"])  # newest first
    oldest = http.get("/", params={"order": "oldest"}).text
    assert oldest.index(first["draftId"]) < oldest.index(second["draftId"])  # waiting longest
    items = http.get("/queue/items", params={"order": "oldest"}).text
    assert items.index(first["draftId"]) < items.index(second["draftId"])  # live refresh too
    done = http.post(f"/drafts/{first['draftId']}/edit",
                     data={"csrf": csrf_of(page.text), "text": "Yes: two vans in stock."})
    assert done.status_code == 303
    stream = api.rt.settings.outbound_decisions_stream
    [(_, fields)] = api.rt.redis.xrange(stream)
    decision = orjson.loads(fields[b"payload"])
    assert decision["draftId"] == first["draftId"] and decision["decision"] == "edited"
    assert decision["text"] == "Yes: two vans in stock." and decision["reviewer"] == "kim"
    view = http.get(f"/drafts/{first['draftId']}")
    assert "Sent as edited by" in view.text and "<ins>" in view.text
    rejected = http.post(f"/drafts/{second['draftId']}/reject",
                         data={"csrf": csrf_of(page.text), "reason": "Wrong tone for us",
                               "note": "too casual"})
    assert rejected.status_code == 303
    shown = api.client_with_key("alpha").get(f"/api/agent/drafts/{second['draftId']}").json()
    assert shown["rejectionReason"] == "Wrong tone for us: too casual"
    assert shown["reviewedBy"] == "kim"
    assert len(api.rt.redis.xrange(stream)) == 1  # a rejection announces nothing


def test_a_reviewer_of_one_client_sees_nothing_of_another(api):
    secret_a = add_reviewer(api.rt, "alpha", "kim", {"name": "Ava"})
    add_reviewer(api.rt, "beta", "kim", {"name": "Bob"})
    theirs = _draft(api, "beta", "b-1", "Beta's secret question about a lease")
    alpha = sign_in(api.server.url, "alpha", "kim", secret_a)
    page = alpha.get("/")
    assert theirs["draftId"] not in page.text and "lease" not in page.text
    assert alpha.get(f"/drafts/{theirs['draftId']}").status_code == 404
    assert alpha.get(f"/drafts/{theirs['draftId']}/pane").status_code == 404
    assert "lease" not in alpha.get("/queue/items", params={"status": ""}).text
    acted = alpha.post(f"/drafts/{theirs['draftId']}/approve", data={"csrf": csrf_of(page.text)})
    assert "refused" in acted.headers.get("location", "")
    shown = api.client_with_key("beta").get(f"/api/agent/drafts/{theirs['draftId']}").json()
    assert shown["status"] == "pending_review"
    assert api.rt.redis.xrange(api.rt.settings.outbound_decisions_stream) == []
    # The same name in another client is another login: alpha's secret does not open beta.
    import httpx

    anon = httpx.Client(base_url=api.server.url)
    login = anon.get("/login")
    assert anon.post("/login", data={"csrf": csrf_of(login.text), "client": "beta",
                                     "name": "kim", "secret": secret_a}).status_code == 401


def test_sign_in_is_rate_limited_per_login_and_per_address_across_processes(api):
    import httpx

    from worker.console import throttle

    secret = add_reviewer(api.rt, "alpha", "kim", {"name": "Ava"})
    add_reviewer(api.rt, "alpha", "lee")
    anon = httpx.Client(base_url=api.server.url, headers={"Accept": "text/html"})

    def attempt(name: str, given: str) -> httpx.Response:
        page = anon.get("/login")
        return anon.post("/login", data={"csrf": csrf_of(page.text), "client": "alpha",
                                         "name": name, "secret": given})

    for _ in range(throttle.MAX_PER_NAME):
        assert attempt("kim", "guess").status_code == 401
    blocked = attempt("kim", secret)  # even the right secret, until the window passes
    assert blocked.status_code == 429 and "Too many failed sign-ins" in blocked.text
    assert "Try again in 15 minutes" in blocked.text
    # The count is in Redis, so every API process sees it.
    ns = api.rt.settings.redis_namespace
    assert throttle.blocked_for(api.rt.redis, ns, "alpha", "kim", "127.0.0.1") > 0
    # Another login from the same address is not blocked yet; past the per-address bound it is.
    assert attempt("lee", "guess").status_code == 401
    for i in range(throttle.MAX_PER_IP - throttle.MAX_PER_NAME - 1):
        assert attempt(f"nobody-{i}", "guess").status_code == 401
    assert attempt("lee", "guess").status_code == 429
