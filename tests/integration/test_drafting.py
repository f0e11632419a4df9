"""The drafting stage end to end on real Postgres and Redis, with the model reached through
litellm's real HTTP path against the local fake server."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from tests.integration.conftest import outbound, push, set_config
from worker.ingress.consumer import Ingress
from worker.pipeline.draft import draft_message
from worker.pipeline.publish import relay_outbox
from worker.store.models import Draft, InboundMessage, LlmCall, MemoryItem, Outbox

CONTRACT_KEYS = {
    "schemaVersion", "draftId", "eventId", "clientId", "channel", "conversationId", "leadId",
    "reply", "quickReplies", "status", "configId", "configVersion", "model", "degraded",
    "memoryRefs", "usage", "latencyMs", "createdAt",
}


def _ingest(rt, channel: str, payload: dict) -> str:  # noqa: ANN001
    """Push one event through ingress; returns the stored message id."""
    push(rt, channel, payload)
    ingress = rt.call(Ingress, "t")
    ingress.setup()
    ingress.handle(ingress.read(block_ms=None))
    client_id, message_id, _ = rt.dispatcher.handed[-1]
    return message_id


def _draft(rt, client_id: str, payload: dict, channel: str = "chat"):  # noqa: ANN001, ANN202
    message_id = _ingest(rt, channel, {"clientId": client_id, **payload})
    return rt.call(draft_message, client_id, message_id, attempt_id="test"), message_id


def _script(fake_llm, model: str, responses: list[str]) -> None:  # noqa: ANN001
    httpx.post(fake_llm.url.rsplit("/v1", 1)[0] + "/_script",
               json={"model": model, "responses": responses}).raise_for_status()


def test_draft_is_written_in_the_clients_voice_and_published(rt):
    config_id = set_config(rt, "dealer-a", name="Ava of Alpha Cars", industry="automotive")
    outcome, _ = _draft(rt, "dealer-a", {"eventId": "e1", "message": "Is the red one for sale?",
                                         "leadId": "L1", "conversationId": "conv-1"})
    assert outcome.status == "drafted"
    [draft] = outbound(rt)
    assert CONTRACT_KEYS <= draft.keys()
    assert "subject" not in draft  # chat drafts carry no e-mail fields
    assert draft["eventId"] == "e1" and draft["clientId"] == "dealer-a"
    assert draft["leadId"] == "L1" and draft["conversationId"] == "conv-1"
    assert "Ava of Alpha Cars" in draft["reply"]  # the fake model echoes the system prompt's name
    assert "Is the red one for sale?" in draft["reply"]
    assert len(draft["quickReplies"]) == 4  # the model offered five
    assert draft["configId"] == config_id and draft["configVersion"] == 1
    assert draft["model"] == "openai/primary" and draft["degraded"] is False
    assert draft["usage"]["promptTokens"] > 0 and draft["usage"]["completionTokens"] > 0
    assert draft["status"] == "pending_review"
    rt.store.flush()  # publication marks are written in batches
    with rt.sessions() as s:
        assert s.scalar(select(Outbox.published_at)) is not None
        call = s.scalar(select(LlmCall))
        assert (call.client_id, call.model, call.attempt, call.error) == (
            "dealer-a", "openai/primary", 1, None)


def test_email_draft_has_reply_subject_without_stacking_and_in_reply_to(rt):
    set_config(rt, "dealer-a")
    _draft(rt, "dealer-a", {"eventId": "m1", "message": "Hello", "subject": "Re: Offer",
                            "messageId": "<abc@x>"}, channel="email")
    _draft(rt, "dealer-a", {"eventId": "m2", "message": "Hello", "subject": "Offer",
                            "messageId": "<def@x>"}, channel="email")
    subjects = [(d["subject"], d["inReplyTo"]) for d in outbound(rt)]
    assert subjects == [("Re: Offer", "<abc@x>"), ("Re: Offer", "<def@x>")]


def test_the_same_message_is_never_drafted_twice(rt):
    set_config(rt, "dealer-a")
    outcome, message_id = _draft(rt, "dealer-a", {"eventId": "e1", "message": "Hi"})
    again = rt.call(draft_message, "dealer-a", message_id, attempt_id="redelivered")
    assert (outcome.status, again.status) == ("drafted", "skipped")
    assert len(outbound(rt)) == 1
    with rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Draft)) == 1


def test_rate_limits_are_retried_and_every_attempt_is_audited(make_runtime, fake_llm):
    rt = make_runtime(llm_model="openai/flaky-a")
    set_config(rt, "dealer-a")
    _script(fake_llm, "flaky-a", ["429", "500", "ok"])
    outcome, _ = _draft(rt, "dealer-a", {"eventId": "e1", "message": "Hi"})
    assert outcome.status == "drafted"
    with rt.sessions() as s:
        calls = s.scalars(select(LlmCall).order_by(LlmCall.attempt)).all()
    assert [(c.attempt, c.error is None) for c in calls] == [(1, False), (2, False), (3, True)]
    assert "429" in calls[0].error and "500" in calls[1].error


def test_unparseable_output_and_timeouts_fall_back_to_the_next_model(make_runtime, fake_llm):
    rt = make_runtime(llm_model="openai/garbage-a", llm_fallback_models="openai/timeout-b,openai/good",
                      llm_timeout_seconds=0.5, llm_max_attempts=2)
    set_config(rt, "dealer-a")
    outcome, _ = _draft(rt, "dealer-a", {"eventId": "e1", "message": "Hi"})
    [draft] = outbound(rt)
    assert outcome.status == "drafted" and draft["model"] == "openai/good"
    with rt.sessions() as s:
        tried = s.execute(select(LlmCall.model, LlmCall.error).order_by(LlmCall.created_at)).all()
    assert [m for m, _ in tried] == ["openai/garbage-a"] * 2 + ["openai/timeout-b"] * 2 + ["openai/good"]
    assert "not the requested JSON" in tried[0][1]
    assert "Timeout" in tried[2][1]


def test_provider_down_means_failed_for_now_not_drafted(make_runtime):
    rt = make_runtime(llm_model="openai/ratelimit-all")
    set_config(rt, "dealer-a")
    outcome, message_id = _draft(rt, "dealer-a", {"eventId": "e1", "message": "Hi"})
    assert outcome.status == "failed"
    assert outbound(rt) == []
    with rt.sessions() as s:
        message = s.get(InboundMessage, message_id)
        assert s.scalar(select(func.count()).select_from(Draft)) == 0
    assert (message.status, message.failure_kind) == ("failed", "transient")
    assert message.next_attempt_at is not None and "RateLimit" in message.last_error


def test_model_refusing_for_good_yields_an_honest_degraded_draft(make_runtime):
    rt = make_runtime(llm_model="openai/badrequest-a")
    set_config(rt, "dealer-a", name="Ava")
    outcome, _ = _draft(rt, "dealer-a", {"eventId": "e1", "message": "Price?", "leadName": "Bo"})
    [draft] = outbound(rt)
    assert outcome.status == "degraded"
    assert draft["degraded"] is True and draft["model"] is None
    assert "Bo" in draft["reply"] and "Ava" in draft["reply"]


def test_no_model_configured_uses_the_offline_drafter(make_runtime):
    rt = make_runtime(llm_model=None)
    set_config(rt, "dealer-a", name="Ava")
    outcome, _ = _draft(rt, "dealer-a", {"eventId": "e1", "message": "Hi"})
    [draft] = outbound(rt)
    assert outcome.status == "degraded" and draft["degraded"] is True
    with rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(LlmCall)) == 0


def test_allowed_per_message_override_is_used(rt):
    set_config(rt, "dealer-a", allowedModels=["openai/premium"])
    _draft(rt, "dealer-a", {"eventId": "e1", "message": "Hi", "model": "openai/premium"})
    assert outbound(rt)[0]["model"] == "openai/premium"


def test_recall_brings_the_leads_earlier_messages_and_never_another_tenants(rt):
    set_config(rt, "dealer-a")
    set_config(rt, "dealer-b")
    _, first = _draft(rt, "dealer-a", {"eventId": "a1", "message": "I like the red one", "leadId": "L1"})
    _draft(rt, "dealer-b", {"eventId": "b1", "message": "Secret of tenant B", "leadId": "L1"})
    _draft(rt, "dealer-a", {"eventId": "a2", "message": "Still available?", "leadId": "L1"})
    drafts = {d["eventId"]: d for d in outbound(rt)}
    [ref] = drafts["a2"]["memoryRefs"]
    assert ref["kind"] == "inbound_message"
    with rt.sessions() as s:  # the ref names the memory item written for the first message
        assert s.get(MemoryItem, ref["id"]).source_ref == f"message:{first}"
    assert drafts["b1"]["memoryRefs"] == []  # same leadId, other tenant: nothing shared


def test_a_new_config_version_is_used_and_stamped(rt):
    set_config(rt, "dealer-a", name="Old Name")
    _draft(rt, "dealer-a", {"eventId": "e1", "message": "Hi"})
    new_id = set_config(rt, "dealer-a", name="New Name")
    _draft(rt, "dealer-a", {"eventId": "e2", "message": "Hi"})
    first, second = outbound(rt)
    assert "Old Name" in first["reply"] and first["configVersion"] == 1
    assert "New Name" in second["reply"] and second["configVersion"] == 2
    assert second["configId"] == new_id


def test_client_without_config_gets_conservative_defaults(rt):
    from worker.store import tenants

    with rt.sessions.begin() as s:
        tenants.register_client(s, "bare")
    _draft(rt, "bare", {"eventId": "e1", "message": "Hi"})
    [draft] = outbound(rt)
    assert draft["configId"] is None and draft["configVersion"] == 0
    assert draft["degraded"] is False


def test_outbox_rows_left_unpublished_are_relayed_once(make_runtime):
    rt = make_runtime(outbox_sweep_after_seconds=0, outbox_mark_every_seconds=0)

    class BrokenPublisher:
        def publish(self, stream, payloads, notices=()):  # noqa: ANN001
            raise ConnectionError("redis went away")

    working = rt.publisher
    rt.publisher = BrokenPublisher()
    set_config(rt, "dealer-a")
    with pytest.raises(ConnectionError):
        _draft(rt, "dealer-a", {"eventId": "e1", "message": "Hi"})
    assert outbound(rt) == []
    rt.publisher = working
    assert rt.call(relay_outbox) == 1
    assert rt.call(relay_outbox) == 0
    [draft] = outbound(rt)
    assert draft["eventId"] == "e1"


def test_failures_past_the_budget_wait_for_an_operator_then_draft(make_runtime, fake_llm):
    from typer.testing import CliRunner

    from worker.cli.main import app
    from worker.pipeline.reprocess import reprocess_due

    rt = make_runtime(llm_model="openai/flaky-budget", max_draft_attempts=1)
    set_config(rt, "dealer-a")
    _script(fake_llm, "flaky-budget", ["429", "429", "429"])
    outcome, message_id = _draft(rt, "dealer-a", {"eventId": "e1", "message": "Hi"})
    assert outcome.status == "failed"
    with rt.sessions() as s:
        assert s.get(InboundMessage, message_id).failure_kind == "permanent"
    assert rt.call(reprocess_due) == 0  # permanent: beat leaves it alone

    runner = CliRunner()
    env = {"DATABASE_URL": rt.settings.database_url, "COLUMNS": "200"}
    listed = runner.invoke(app, ["failed", "list", "dealer-a"], env=env)
    assert message_id in listed.output and "gave up after 1" in listed.output
    assert runner.invoke(app, ["failed", "list", "dealer-b"], env=env).output.count("e1") == 0
    retried = runner.invoke(app, ["failed", "retry", "dealer-a", message_id], env=env)
    assert retried.exit_code == 0, retried.output

    rt.dispatcher.handed.clear()
    assert rt.call(reprocess_due) == 1
    assert rt.dispatcher.handed == [("dealer-a", message_id, "chat")]
    assert rt.call(draft_message, "dealer-a", message_id, attempt_id="operator").status == "drafted"
    assert [d["eventId"] for d in outbound(rt)] == ["e1"]


def test_over_the_rate_limit_a_message_waits_and_is_drafted_later(rt):
    set_config(rt, "dealer-a", rateLimitPerMinute=2)
    outcomes = [_draft(rt, "dealer-a", {"eventId": f"e{i}", "message": "Hi"}) for i in range(3)]
    assert [o.status for o, _ in outcomes] == ["drafted", "drafted", "deferred"]
    _, waiting_id = outcomes[2]
    with rt.sessions() as s:
        waiting = s.get(InboundMessage, waiting_id)
    assert (waiting.status, waiting.failure_kind, waiting.attempts) == ("failed", "deferred", 0)
    assert "rate limit of 2" in waiting.last_error
    assert waiting.next_attempt_at is not None  # beat hands it back when the window opens
    # Another tenant is not held back by this one's limit.
    set_config(rt, "dealer-b", rateLimitPerMinute=2)
    assert _draft(rt, "dealer-b", {"eventId": "b1", "message": "Hi"})[0].status == "drafted"


def test_daily_token_budget_defers_once_spent(rt):
    set_config(rt, "dealer-a", dailyTokenBudget=1)
    first, _ = _draft(rt, "dealer-a", {"eventId": "e1", "message": "Hi"})
    second, _ = _draft(rt, "dealer-a", {"eventId": "e2", "message": "Hi"})
    assert (first.status, second.status) == ("drafted", "deferred")
    assert "daily token budget" in second.reason


def test_a_provider_that_is_down_is_switched_off_and_the_offline_drafter_takes_over(make_runtime,
                                                                                      fake_llm):
    rt = make_runtime(llm_model="openai/error500-down", breaker_fail_max=3, llm_max_attempts=3)
    set_config(rt, "dealer-a")
    first, _ = _draft(rt, "dealer-a", {"eventId": "e1", "message": "Hi"})
    assert first.status == "failed"  # three 500s in a row: retry later, and the breaker opens
    calls_so_far = _stats(fake_llm).get("error500-down", 0)
    second, _ = _draft(rt, "dealer-a", {"eventId": "e2", "message": "Hi"})
    assert second.status == "degraded"  # provider skipped at once, holding reply instead
    assert _stats(fake_llm).get("error500-down", 0) == calls_so_far  # not hammered
    assert outbound(rt)[-1]["degraded"] is True


def _stats(fake_llm) -> dict:  # noqa: ANN001
    return httpx.get(fake_llm.url.rsplit("/v1", 1)[0] + "/_stats").json()


def test_chat_drafts_are_pushed_to_the_conversation_channel(rt):
    set_config(rt, "dealer-a")
    pubsub = rt.redis.pubsub()
    pubsub.subscribe("agent:drafts:conv-live")
    pubsub.get_message(timeout=1)  # the subscribe confirmation
    _draft(rt, "dealer-a", {"eventId": "e1", "message": "Hi", "conversationId": "conv-live"})
    pushed = pubsub.get_message(timeout=5)
    pubsub.close()
    import orjson

    assert pushed is not None and orjson.loads(pushed["data"])["eventId"] == "e1"


def test_a_chat_draft_overtaken_by_a_newer_message_is_stale_and_not_published(make_runtime):
    rt = make_runtime(llm_model="openai/slow-300")
    set_config(rt, "dealer-a")
    first_id = _ingest(rt, "chat", {"clientId": "dealer-a", "eventId": "e1",
                                    "message": "Do you have it in red?", "conversationId": "c1"})
    import threading

    result = {}
    worker = threading.Thread(
        target=lambda: result.update(o=rt.call(draft_message, "dealer-a", first_id, "w1")))
    worker.start()  # the model takes 300 ms; meanwhile the lead writes again
    second_id = _ingest(rt, "chat", {"clientId": "dealer-a", "eventId": "e2",
                                     "message": "Or blue?", "conversationId": "c1"})
    worker.join()
    assert result["o"].status == "stale"
    assert rt.call(draft_message, "dealer-a", second_id, "w2").status == "drafted"
    [published] = outbound(rt)
    assert published["eventId"] == "e2"
    with rt.sessions() as s:  # the newest answers both
        assert [s.get(MemoryItem, r["id"]).source_ref for r in published["memoryRefs"]] == [
            f"message:{first_id}"]
    with rt.sessions() as s:
        stale = s.scalar(select(Draft).where(Draft.event_id == "e1"))
    assert stale.status == "stale"


def test_a_chat_message_already_overtaken_is_not_sent_to_the_model(make_runtime, fake_llm):
    rt = make_runtime(llm_model="openai/overtaken")
    set_config(rt, "dealer-a")
    first_id = _ingest(rt, "chat", {"clientId": "dealer-a", "eventId": "e1", "message": "Hi",
                                    "conversationId": "c1"})
    _ingest(rt, "chat", {"clientId": "dealer-a", "eventId": "e2", "message": "Hello?",
                         "conversationId": "c1"})
    assert rt.call(draft_message, "dealer-a", first_id, "w1").status == "skipped"
    assert _stats(fake_llm).get("overtaken", 0) == 0
    with rt.sessions() as s:
        assert "superseded" in s.get(InboundMessage, first_id).last_error
