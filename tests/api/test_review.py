"""Reviewers list, read, approve, edit and reject drafts over HTTP."""

from __future__ import annotations

import importlib.util

import pytest

needs_review = pytest.mark.skipif(
    importlib.util.find_spec("worker.pipeline.review") is None,
    reason="needs review use cases from the memory branch",
)


def _draft(http, event_id: str, **extra) -> dict:  # noqa: ANN001
    sent = http.post("/api/agent/reply", json={"eventId": event_id, "message": "Any vans?",
                                               "leadId": "lead-1", **extra})
    assert sent.status_code == 200, sent.text
    return sent.json()


def test_drafts_are_listed_by_status_newest_first(api):
    http = api.client_with_key("alpha", {"name": "Ava"})
    first = _draft(http, "e-1", conversationId="c-1")
    second = _draft(http, "e-2", conversationId="c-2")
    listed = http.get("/api/agent/drafts").json()["drafts"]
    assert [d["draftId"] for d in listed] == [second["draftId"], first["draftId"]]
    assert http.get("/api/agent/drafts", params={"status": "rejected"}).json()["drafts"] == []
    assert http.get("/api/agent/drafts", params={"status": "Bad Status!"}).status_code == 422
    assert http.get("/api/agent/drafts/01NOPE").status_code == 404


def test_a_draft_shows_what_it_was_written_from(api):
    http = api.client_with_key("alpha", {"name": "Ava"})
    _draft(http, "e-1", conversationId="c-1")
    second = _draft(http, "e-2", conversationId="c-2")  # same lead: recalls the first
    shown = http.get(f"/api/agent/drafts/{second['draftId']}").json()
    context = shown["context"]
    assert context["configVersion"] == 1 and context["config"]["name"] == "Ava"
    assert context["memoryRefs"] and context["memoryRefs"][0]["kind"]
    assert context["usage"]["promptTokens"] > 0


@needs_review
def test_approve_edit_reject(api):
    http = api.client_with_key("alpha", {"name": "Ava"})
    a = _draft(http, "e-1", conversationId="c-1")
    b = _draft(http, "e-2", conversationId="c-2")
    c = _draft(http, "e-3", conversationId="c-3")

    approved = http.post(f"/api/agent/drafts/{a['draftId']}/approve", json={})
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    edited = http.post(f"/api/agent/drafts/{b['draftId']}/edit",
                       json={"text": "Yes, three vans are in stock.", "reviewer": "sam"})
    assert edited.status_code == 200 and edited.json()["status"] == "edited"
    rejected = http.post(f"/api/agent/drafts/{c['draftId']}/reject", json={"reason": "off tone"})
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"

    # Not pending any more: a second action is a conflict; unknown drafts are 404.
    assert http.post(f"/api/agent/drafts/{a['draftId']}/reject",
                     json={"reason": "changed my mind"}).status_code == 409
    assert http.post("/api/agent/drafts/01NOPE/approve", json={}).status_code == 404
    history = http.get("/api/agent/config/history").json()
    assert history[0]["drafts"]["rejected"] == 1


@needs_review
def test_another_clients_key_cannot_review(api):
    alpha = api.client_with_key("alpha", {"name": "Ava"})
    beta = api.client_with_key("beta", {"name": "Bob"})
    draft = _draft(beta, "b-1")
    assert alpha.post(f"/api/agent/drafts/{draft['draftId']}/approve", json={}).status_code == 404
    assert beta.get(f"/api/agent/drafts/{draft['draftId']}").json()["status"] == "pending_review"


def _decisions(api) -> list[dict]:  # noqa: ANN001
    import orjson

    stream = api.rt.settings.outbound_decisions_stream
    return [orjson.loads(f[b"payload"]) for _id, f in api.rt.redis.xrange(stream)]


@needs_review
def test_approved_and_edited_replies_are_announced_once_with_their_reviewer(api):
    from worker.pipeline.publish import relay_outbox

    http = api.client_with_key("alpha", {"name": "Ava"})
    a = _draft(http, "e-1", conversationId="c-1")
    b = _draft(http, "e-2", conversationId="c-2")
    c = _draft(http, "e-3", conversationId="c-3")
    http.post(f"/api/agent/drafts/{a['draftId']}/approve", json={"reviewer": "kim"})
    http.post(f"/api/agent/drafts/{b['draftId']}/edit", json={"text": "Three vans, yes."})
    http.post(f"/api/agent/drafts/{c['draftId']}/reject", json={"reason": "wrong"})

    announced = {d["draftId"]: d for d in _decisions(api)}
    assert set(announced) == {a["draftId"], b["draftId"]}  # a rejection sends nothing
    assert announced[a["draftId"]]["decision"] == "approved"
    assert announced[a["draftId"]]["text"] == a["reply"]
    assert announced[a["draftId"]]["reviewer"] == "kim"
    assert announced[b["draftId"]]["text"] == "Three vans, yes."
    assert announced[b["draftId"]]["reviewer"] == "alpha-reviewer"  # the key's name
    assert announced[a["draftId"]]["clientId"] == "alpha"
    # Published right after the commit: the relay finds nothing left to send (once the
    # drafts' own publication marks, written in batches, are in).
    api.rt.store.flush()
    api.rt.settings.outbox_sweep_after_seconds = 0
    api.rt.call(relay_outbox)
    assert len(_decisions(api)) == 2
    shown = http.get(f"/api/agent/drafts/{c['draftId']}").json()
    assert shown["reviewedBy"] == "alpha-reviewer" and shown["rejectionReason"] == "wrong"


@needs_review
def test_a_decision_the_publisher_missed_is_relayed_from_the_outbox(api):
    from worker.pipeline import review
    from worker.pipeline.publish import relay_outbox

    http = api.client_with_key("alpha", {"name": "Ava"})
    a = _draft(http, "e-1", conversationId="c-1")
    # The process died between the commit and the publication: only the outbox row exists.
    with api.rt.sessions.begin() as session:
        review.approve(session, "alpha", a["draftId"], reviewer="kim",
                       announce=api.rt.settings.outbound_decisions_stream)
    assert _decisions(api) == []
    api.rt.store.flush()  # the draft's own publication mark, written in batches
    api.rt.settings.outbox_sweep_after_seconds = 0
    api.rt.call(relay_outbox)
    api.rt.call(relay_outbox)
    assert [d["draftId"] for d in _decisions(api)] == [a["draftId"]]
    # The draft's own entry on the review stream was not sent a second time.
    assert len(api.rt.redis.xrange(api.rt.settings.outbound_stream)) == 1


def test_flags_and_needs_human_are_shown_and_needs_human_is_listed_first(api, fake_llm):
    import json

    import httpx

    model = "review-flags"  # the client's own model: this test's scripted answers
    httpx.post(fake_llm.url.rsplit("/v1", 1)[0] + "/_script", json={"model": model, "responses": [
        "json:" + json.dumps({"reply": "I am a human, not a bot.", "confidence": 0.2}),
        "json:" + json.dumps({"reply": "Yes, we have vans.", "confidence": 0.9}),
    ]}).raise_for_status()
    http = api.client_with_key("alpha", {"name": "Ava", "model": f"openai/{model}"})
    unsure = _draft(http, "e-1", conversationId="c-1")
    sure = _draft(http, "e-2", conversationId="c-2")
    listed = http.get("/api/agent/drafts").json()["drafts"]
    assert [(d["draftId"], d["needsHuman"]) for d in listed] == [
        (unsure["draftId"], True), (sure["draftId"], False)]
    shown = http.get(f"/api/agent/drafts/{unsure['draftId']}").json()
    assert shown["needsHumanReason"] == "confidence 0.20 below 0.50"
    assert shown["confidence"] == 0.2
    assert {f["code"] for f in shown["flags"]} == {"human_claim"}
