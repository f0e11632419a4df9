"""Kept-aside events for people: `rejected list|show`, GET /api/agent/rejected and the
console's operations page; each client sees its own only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.api.console_support import add_reviewer, draft_via_api, sign_in
from tests.conftest import REDIS_URL
from worker.store import rejections
from worker.store.rejections import Rejection

BIN = str(Path(sys.executable).parent / "agent-runtime")


def _keep_aside(rt) -> None:  # noqa: ANN001
    with rt.sessions.begin() as session:
        rejections.keep_aside(session, [
            Rejection("agent:inbound:chat", "1-0", b'{"clientId":"alpha","eventId":"bad-1"}',
                      "missing field: message", "alpha", "bad-1"),
            Rejection("agent:inbound:chat", "2-0", b'{"clientId":"beta","x":"<script>"}',
                      "missing field: eventId", "beta", None),
            Rejection("agent:inbound:email", "3-0", b"\xff\xfenot json", "not JSON"),
        ])


def test_kept_aside_events_over_the_api_are_the_callers_own(api):
    alpha = api.client_with_key("alpha")
    api.client_with_key("beta")
    _keep_aside(api.rt)
    listed = alpha.get("/api/agent/rejected").json()
    assert [(e["eventId"], e["reason"]) for e in listed] == [("bad-1", "missing field: message")]
    shown = alpha.get(f"/api/agent/rejected/{listed[0]['id']}").json()
    assert json.loads(shown["payload"])["eventId"] == "bad-1"
    beta_id = api.client_with_key("beta").get("/api/agent/rejected").json()[0]["id"]
    assert alpha.get(f"/api/agent/rejected/{beta_id}").status_code == 404
    unclaimed = api.admin().get("/api/agent/rejected").json()
    assert [e["reason"] for e in unclaimed] == ["not JSON"]


def test_rejected_list_and_show_on_the_command_line(database_url):
    from worker.settings import Settings
    from worker.store.db import make_engine, make_session_factory

    engine = make_engine(Settings(database_url=database_url))
    from types import SimpleNamespace

    with make_session_factory(engine).begin() as session:
        from worker.store import tenants

        tenants.register_client(session, "alpha")
        tenants.register_client(session, "beta")
    _keep_aside(SimpleNamespace(sessions=make_session_factory(engine)))
    engine.dispose()
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": REDIS_URL}
    run = lambda *a: subprocess.run([BIN, *a], env=env, capture_output=True, text=True,  # noqa: E731
                                    timeout=120)
    listed = json.loads(run("rejected", "list", "alpha").stdout)
    assert [e["reason"] for e in listed] == ["missing field: message"]
    shown = json.loads(run("rejected", "show", listed[0]["id"], "alpha").stdout)
    assert "bad-1" in shown["payload"]
    unclaimed = json.loads(run("rejected", "list").stdout)
    shown = json.loads(run("rejected", "show", unclaimed[0]["id"]).stdout)
    assert shown["payload"].endswith("not json")  # undecodable bytes replaced, not a crash
    refused = run("rejected", "show", listed[0]["id"], "beta")
    assert refused.returncode == 2 and "no kept-aside event" in refused.stderr


def test_the_operations_page_shows_health_charts_and_the_clients_kept_aside_events(api):
    secret = add_reviewer(api.rt, "alpha", "kim", {"name": "Ava"})
    add_reviewer(api.rt, "beta", "lee", {"name": "Bob"})
    _keep_aside(api.rt)
    draft = draft_via_api(api, "alpha", "e-1")
    http = sign_in(api.server.url, "alpha", "kim", secret)
    http.post(f"/drafts/{draft['draftId']}/approve",
              data={"csrf": __import__("tests.api.console_support", fromlist=["x"]).csrf_of(
                  http.get("/").text)})
    page = http.get("/operations")
    assert page.status_code == 200
    text = page.text
    assert "missing field: message" in text and "missing field: eventId" not in text
    assert ">not JSON</td>" not in text  # unclaimed events are the operators', not a dealer's
    assert "Approval rate: <strong>100 %" in text
    assert "Drafts per hour, last 24 h (1)" in text
    assert "<svg" in text and "<rect" in text and "database" in text
