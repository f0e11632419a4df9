"""Keys: the client comes from the key; another client's things do not exist for it."""

from __future__ import annotations

import time

from worker.adapters.invalidation import announce
from worker.store import api_keys


def test_requests_without_a_valid_key_are_refused(api):
    assert api.server.client().get("/api/agent/config/active").status_code == 401
    assert api.server.client("ar_wrong").get("/api/agent/config/active").status_code == 401
    bearer = api.client_with_key("alpha")
    key = bearer.headers["X-API-Key"]
    via_bearer = api.server.client(Authorization=f"Bearer {key}")
    assert via_bearer.get("/api/agent/config/active").status_code == 200


def test_a_revoked_key_stops_working_in_every_process_at_once(api):
    http = api.client_with_key("alpha")
    assert http.get("/api/agent/config/active").status_code == 200  # now cached
    with api.rt.sessions.begin() as session:
        [key_row] = api_keys.list_keys(session, "alpha")
        api_keys.revoke_key(session, key_row.prefix)
    announce(api.rt.redis, api.rt.settings.redis_namespace, "keys")
    deadline = time.monotonic() + 10
    while http.get("/api/agent/config/active").status_code != 401:
        assert time.monotonic() < deadline, "a revoked key is still accepted"
        time.sleep(0.01)


def test_client_a_gets_404_for_anything_of_client_b(api):
    alpha = api.client_with_key("alpha", {"name": "Ava"})
    beta = api.client_with_key("beta", {"name": "Bob"})
    sent = beta.post("/api/agent/reply", json={"eventId": "b-1", "message": "Hello?"})
    assert sent.status_code == 200, sent.text
    draft_id = sent.json()["draftId"]

    assert alpha.get(f"/api/agent/drafts/{draft_id}").status_code == 404
    assert alpha.get("/api/agent/reply/b-1").status_code == 404
    assert alpha.get("/api/agent/drafts").json()["drafts"] == []
    assert alpha.get("/api/agent/config/active").json()["name"] == "Ava"
    assert beta.get(f"/api/agent/drafts/{draft_id}").status_code == 200


def test_the_client_in_a_request_body_is_ignored(api):
    alpha = api.client_with_key("alpha", {"name": "Ava"})
    api.client_with_key("beta", {"name": "Bob"})
    sent = alpha.post("/api/agent/reply",
                      json={"eventId": "x-1", "clientId": "beta", "message": "Hi"})
    assert sent.status_code == 200, sent.text
    assert "Ava" in sent.json()["reply"]
    assert alpha.get(f"/api/agent/drafts/{sent.json()['draftId']}").status_code == 200


def test_an_admin_key_acts_for_the_client_it_names(api):
    api.client_with_key("alpha", {"name": "Ava"})
    ops = api.admin()
    assert ops.get("/api/agent/config/active").status_code == 400
    assert ops.get("/api/agent/config/active",
                   headers={"X-Client-Id": "alpha"}).json()["name"] == "Ava"
    assert ops.get("/api/agent/config/active",
                   headers={"X-Client-Id": "nobody"}).status_code == 404
