"""The drafting use case on in-memory ports (tests/support/fakes.py): every outcome a reviewer
or an operator can see — a draft, a degraded draft, a deferral, a failure for good, a failure
for now with its retry time, a draft the lead overtook — with no database, Redis or model."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from tests.support.fakes import (
    FakeConfigs,
    FakeLimits,
    FakeModel,
    FakePublisher,
    FakeStore,
    FixedClock,
    inbound,
    model_json,
    no_recall,
)
from worker.errors import PermanentError as ModelPermanentError
from worker.errors import TransientError as ModelTransientError
from worker.pipeline.draft import draft_message
from worker.retry import RetryPolicy
from worker.settings import Settings

OUTBOUND = "test:outbound"


@dataclass
class Ports:
    store: FakeStore = field(default_factory=FakeStore)
    configs: FakeConfigs = field(default_factory=FakeConfigs)
    model_client: FakeModel = field(default_factory=FakeModel)
    limits: FakeLimits = field(default_factory=FakeLimits)
    publisher: FakePublisher = field(default_factory=FakePublisher)
    clock: FixedClock = field(default_factory=FixedClock)
    settings: Settings = field(default_factory=lambda: Settings(
        llm_model="m/primary", outbound_stream=OUTBOUND, retry_failed_after_seconds=60.0,
        max_draft_attempts=3, lead_hash_key="test-secret",
    ))

    def draft(self, message, attempt_id: str = "task-1"):  # noqa: ANN001, ANN201
        self.store.add(message)
        return draft_message(
            message.client_id, message.id, attempt_id,
            store=self.store, recall=no_recall, configs=self.configs,
            model_client=self.model_client, limits=self.limits, publisher=self.publisher,
            model_retry=RetryPolicy(max_attempts=2, base_seconds=0.0, max_seconds=0.0),
            draft_retry=RetryPolicy(max_attempts=self.settings.max_draft_attempts,
                                    base_seconds=self.settings.retry_failed_after_seconds,
                                    max_seconds=float("inf"), jitter_min=0.8, jitter_max=1.2),
            clock=self.clock, settings=self.settings,
        )

    def published(self) -> list[dict]:
        return self.publisher.streams.get(OUTBOUND, [])


@pytest.fixture
def ports() -> Ports:
    p = Ports()
    p.configs.register("dealer-a", name="Ava from Lindqvist Motors")
    return p


def test_a_model_reply_is_drafted_stored_and_published_for_review(ports):
    message = inbound()
    outcome = ports.draft(message)
    assert outcome.status == "drafted"
    [payload] = ports.published()
    assert payload["draftId"] == outcome.draft_id
    assert payload["reply"] == "Yes, it is. Would you like a test drive?"
    assert (payload["model"], payload["degraded"]) == ("m/primary", False)
    assert ports.store.drafts[message.id].draft["status"] == "pending_review"
    assert outcome.draft_id in ports.store.published  # the outbox row is marked published
    assert ports.limits.usage == []  # no budget configured: usage is not counted


def test_without_any_model_the_offline_drafter_writes_a_degraded_draft(ports):
    ports.settings = Settings(llm_model=None, outbound_stream=OUTBOUND, lead_hash_key="k")
    outcome = ports.draft(inbound())
    assert outcome.status == "degraded"
    [payload] = ports.published()
    assert payload["degraded"] is True and payload["model"] is None
    assert "Ava from Lindqvist Motors" in payload["reply"]
    assert ports.model_client.calls == []


def test_every_model_refusing_falls_back_to_the_offline_drafter(ports):
    ports.model_client.scripts["m/primary"] = [ModelPermanentError("400 bad request")]
    outcome = ports.draft(inbound())
    assert outcome.status == "degraded"
    assert ports.published()[0]["degraded"] is True


def test_over_its_rate_limit_the_message_is_deferred_until_the_limit_allows(ports):
    ports.limits.until = ports.clock.now() + timedelta(seconds=42)
    message = inbound()
    outcome = ports.draft(message)
    assert outcome.status == "deferred"
    failure = ports.store.failures[message.id]
    assert (failure.kind, failure.next_attempt_at) == ("deferred", ports.limits.until)
    assert message.attempts == 0  # waiting is not a failed attempt
    assert ports.model_client.calls == [] and ports.published() == []


def test_an_unregistered_client_fails_for_good_with_the_reason(ports):
    message = inbound(client_id="nobody")
    outcome = ports.draft(message)
    assert outcome.status == "failed"
    failure = ports.store.failures[message.id]
    assert failure.kind == "permanent" and failure.next_attempt_at is None
    assert "'nobody' is not registered" in failure.error


def test_a_model_the_client_does_not_allow_fails_for_good(ports):
    message = inbound(model_override="m/other")
    assert ports.draft(message).status == "failed"
    assert ports.store.failures[message.id].kind == "permanent"
    assert "allowedModels" in ports.store.failures[message.id].error


def test_a_provider_down_fails_for_now_and_schedules_the_next_attempt_with_backoff(ports):
    ports.model_client.scripts["m/primary"] = [ModelTransientError("503 overloaded")]
    message = inbound()
    outcome = ports.draft(message)
    assert outcome.status == "failed"
    failure = ports.store.failures[message.id]
    assert failure.kind == "transient"
    wait = (failure.next_attempt_at - ports.clock.now()).total_seconds()
    assert 0.8 * 60 <= wait <= 1.2 * 60  # first attempt: retry_failed_after_seconds, ±20 %
    assert [c.model for c in failure.calls] == ["m/primary", "m/primary"]  # audited
    assert ports.published() == []

    ports.clock.advance(wait)  # beat hands it back: the second attempt waits twice as long
    ports.draft(message, attempt_id="task-2")
    second = ports.store.failures[message.id]
    wait = (second.next_attempt_at - ports.clock.now()).total_seconds()
    assert 0.8 * 120 <= wait <= 1.2 * 120


def test_past_its_attempt_budget_a_transient_failure_waits_for_an_operator(ports):
    ports.model_client.scripts["m/primary"] = [ModelTransientError("503 overloaded")]
    message = inbound(attempts=2)  # the third attempt is the last (max_draft_attempts=3)
    ports.draft(message)
    failure = ports.store.failures[message.id]
    assert failure.kind == "permanent" and failure.next_attempt_at is None
    assert failure.error.startswith("gave up after 3 attempts")


def test_a_message_the_lead_already_overtook_is_skipped_without_a_model_call(ports):
    message = inbound()
    ports.store.newer[message.id] = [True]
    outcome = ports.draft(message)
    assert outcome.status == "skipped" and "superseded" in outcome.reason
    assert message.status == "skipped"
    assert ports.model_client.calls == [] and ports.store.drafts == {}


@pytest.mark.parametrize(("channel", "status"), [("chat", "stale"), ("email", "withdrawn")])
def test_a_draft_overtaken_while_it_was_written_is_kept_but_never_published(ports, channel,
                                                                             status):
    message = inbound(channel=channel, subject="Golf" if channel == "email" else None)
    ports.store.newer[message.id] = [False, True]  # not at the claim; by the time it is saved
    outcome = ports.draft(message)
    assert outcome.status == status
    assert ports.store.drafts[message.id].draft["status"] == status
    assert ports.published() == []


def test_a_second_delivery_of_a_drafted_message_does_nothing(ports):
    message = inbound()
    ports.draft(message)
    again = ports.draft(message, attempt_id="task-redelivered")
    assert again.status == "skipped"
    assert len(ports.published()) == 1 and len(ports.model_client.calls) == 1


def test_a_client_budget_counts_the_tokens_the_draft_used(ports):
    ports.configs.register("dealer-a", name="Ava", dailyTokenBudget=10_000)
    ports.draft(inbound())
    assert ports.limits.usage == [("dealer-a", 150, 0.001)]


def test_unparseable_model_output_then_a_good_answer_is_drafted(ports):
    ports.model_client.scripts["m/primary"] = ["not json", model_json("Fine.")]
    outcome = ports.draft(inbound())
    assert outcome.status == "drafted"
    assert ports.published()[0]["reply"] == "Fine."
