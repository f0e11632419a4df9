"""POST /api/agent/reply: the front end's chat path, through the same pipeline as a stream
event."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from worker.store.models import Draft, InboundMessage

CONFIG = {"name": "Ava of Alpha Cars", "industry": "automotive",
          "allowedModels": ["openai/premium"]}


def test_a_message_comes_back_as_a_draft_in_the_clients_voice(api):
    http = api.client_with_key("alpha", CONFIG)
    config_id = http.get("/api/agent/config/active").json()["configId"]
    sent = http.post("/api/agent/reply", json={
        "eventId": "e-1", "message": "Is the blue estate still available?",
        "conversationId": "chat-1", "leadId": "lead-7",
    })
    assert sent.status_code == 200, sent.text
    body = sent.json()
    assert "Ava of Alpha Cars" in body["reply"]
    assert 1 <= len(body["quickReplies"]) <= 4
    assert body["usedConfigId"] == config_id and body["memoryContextDocs"] == []
    assert body["status"] == "pending_review" and body["degraded"] is False

    listed = http.get("/api/agent/drafts", params={"status": "pending_review"}).json()["drafts"]
    assert [d["draftId"] for d in listed] == [body["draftId"]]
    shown = http.get(f"/api/agent/drafts/{body['draftId']}").json()
    assert shown["context"]["configVersion"] == 1
    assert shown["context"]["config"]["name"] == "Ava of Alpha Cars"
    assert shown["context"]["leadMessage"]["text"] == "Is the blue estate still available?"


def test_the_next_draft_uses_a_config_put_a_moment_before(api):
    http = api.client_with_key("alpha", CONFIG)
    assert http.post("/api/agent/reply", json={"eventId": "e-1", "message": "Hi"}).json()[
        "reply"].count("Ava") == 1
    put = http.put("/api/agent/config/active", json={**CONFIG, "name": "Bea of Alpha Cars"})
    second = http.post("/api/agent/reply", json={"eventId": "e-2", "message": "Hi again"}).json()
    assert "Bea of Alpha Cars" in second["reply"]
    assert second["usedConfigId"] == put.json()["configId"]


def test_the_same_event_id_is_drafted_once(api, make_runtime):
    http = api.client_with_key("alpha", CONFIG)
    first = http.post("/api/agent/reply", json={"eventId": "e-1", "message": "Hello"}).json()
    again = http.post("/api/agent/reply", json={"eventId": "e-1", "message": "Hello"}).json()
    assert again["draftId"] == first["draftId"]
    api.dispatcher.join()
    with api.rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Draft)) == 1
        assert session.scalar(select(func.count()).select_from(InboundMessage)) == 1


def test_what_the_stream_would_keep_aside_is_refused_with_the_reason(api):
    http = api.client_with_key("alpha", CONFIG)
    cases = [
        ({"message": ""}, "message"),
        ({"message": "   "}, "message"),
        ({"message": "Hi", "model": "openai/other"}, "allowedModels"),
        ({"message": "Hi\u0000there"}, "NUL"),
        ({"eventId": "", "message": "Hi"}, "eventId"),
    ]
    for body, fragment in cases:
        response = http.post("/api/agent/reply", json=body)
        assert response.status_code == 422, body
        assert fragment in response.text, (body, response.text)
    assert http.post("/api/agent/reply", json={"message": "Hi", "model": "openai/premium"}
                     ).status_code == 200


def test_a_slow_draft_answers_202_and_can_be_fetched_later(api):
    http = api.client_with_key("alpha", {**CONFIG, "model": "openai/slow-1500"})
    pending = http.post("/api/agent/reply", params={"wait": 0},
                        json={"eventId": "slow-1", "message": "Hello"})
    assert pending.status_code == 202, pending.text
    assert pending.json()["location"] == "/api/agent/reply/slow-1"
    deadline = time.monotonic() + 30
    while (later := http.get(pending.json()["location"])).status_code == 202:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert later.status_code == 200 and "Ava" in later.json()["reply"]
