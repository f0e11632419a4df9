"""Helpers of the console tests: a reviewer login and a signed-in httpx client."""

from __future__ import annotations

import re

import httpx

from worker.console import credentials
from worker.store import reviewers, tenants


def add_reviewer(rt, client_id: str, name: str, config: dict | None = None,  # noqa: ANN001
                 admin: bool = False) -> str:
    """Registers the client (with `config` active), creates the login (an admin one with
    `admin`); returns its secret."""
    secret = credentials.new_secret()
    with rt.sessions.begin() as session:
        tenants.register_client(session, client_id)
        if config is not None and tenants.active_config(session, client_id) is None:
            tenants.activate_new_config(session, client_id, config)
        reviewers.add(session, client_id, name, credentials.hash_secret(secret), admin)
    rt.configs.invalidate(client_id)
    return secret


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def sign_in(base_url: str, client_id: str, name: str, secret: str) -> httpx.Client:
    http = httpx.Client(base_url=base_url, timeout=30, headers={"Accept": "text/html"})
    page = http.get("/login")
    done = http.post("/login", data={"csrf": csrf_of(page.text), "client": client_id,
                                     "name": name, "secret": secret})
    assert done.status_code == 303, done.text
    return http


def draft_via_api(api, client_id: str, event_id: str, message: str = "Any vans in stock?",  # noqa: ANN001
                  lead: str = "Dana Lead") -> dict:
    """A chat message sent through POST /api/agent/reply, drafted by the real pipeline; waits
    for the draft (a loaded machine may take longer than one reply wait)."""
    import time

    http = api.client_with_key(client_id)
    sent = http.post("/api/agent/reply", params={"wait": 25}, json={
        "eventId": event_id, "message": message, "leadId": f"lead-{event_id}",
        "conversationId": f"c-{event_id}", "leadName": lead})
    deadline = time.monotonic() + 120
    while sent.status_code == 202 and time.monotonic() < deadline:
        time.sleep(0.3)
        sent = http.get(f"/api/agent/reply/{event_id}")
    assert sent.status_code == 200, sent.text
    return sent.json()
