"""In-memory fakes of the ports (worker/ports.py): the drafting stages run on these in unit
tests, with no database, Redis or model server. Each fake keeps what it was given, so a test
asserts what a user would notice (a draft, a failure and its retry time, a published entry)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson

from schema.agent_config import AgentConfigFields, ResolvedConfig
from worker.ports import CallAudit, Claimed, DraftRecord, Handover, ModelResponse
from worker.statuses import RETRYABLE, MessageStatus
from worker.store.models import InboundMessage, new_id


def inbound(client_id: str = "dealer-a", text: str = "Is the red Golf still available?",
            channel: str = "chat", **columns: Any) -> InboundMessage:
    """A stored inbound message, as the store hands it over (never flushed anywhere)."""
    values: dict[str, Any] = dict(
        id=new_id(), client_id=client_id, event_id=f"evt-{new_id()}", channel=channel,
        body=text, new_text=text, status=MessageStatus.RECEIVED, attempts=0,
        lead_id=None, conversation_id=None, external_conversation_id="conv-1",
        external_lead_id="lead-1", lead_name="Sam", subject=None, message_id=None,
        topic=None, model_override=None, metadata_={}, inbound_flags=[],
        received_at=datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc),
    )
    values.update(columns)
    return InboundMessage(**values)


@dataclass
class Failure:
    kind: str
    error: str
    next_attempt_at: datetime | None
    calls: list[CallAudit]


@dataclass
class FakeStore:
    """worker.ports.DraftStore in memory."""

    messages: dict[str, InboundMessage] = field(default_factory=dict)
    drafts: dict[str, DraftRecord] = field(default_factory=dict)  # by message id
    failures: dict[str, Failure] = field(default_factory=dict)  # the latest, by message id
    published: set[str] = field(default_factory=set)  # draft ids
    # How many times in a row `superseded` answers yes for a message (the lead wrote again).
    newer: dict[str, list[bool]] = field(default_factory=dict)
    lead_keys: dict[str, str] = field(default_factory=dict)

    def add(self, message: InboundMessage) -> InboundMessage:
        self.messages[message.id] = message
        return message

    def claim(self, client_id: str, message_id: str, lease_seconds: int, owner: str,  # noqa: ANN201
              recall):  # noqa: ANN001
        m = self.messages.get(message_id)
        if m is None or m.client_id != client_id:
            return None
        retryable = m.status == MessageStatus.FAILED and m.failure_kind in RETRYABLE
        if m.status != MessageStatus.RECEIVED and not retryable:
            return None
        m.status, m.attempts, m.lease_owner = MessageStatus.DRAFTING, m.attempts + 1, owner
        lead_key = self.lead_keys.get(m.id)
        if self._superseded(m):
            m.status = MessageStatus.SKIPPED
            return Claimed(m, True, lead_key)
        recalled, note = recall(None, m, lead_key)
        return Claimed(m, False, lead_key, recalled, note)

    def _superseded(self, message: InboundMessage) -> bool:
        answers = self.newer.get(message.id) or [False]
        return answers.pop(0) if len(answers) > 1 else answers[0]

    def save_draft(self, message: InboundMessage, record: DraftRecord, stream: str,
                   stale_status: str) -> str | None:
        if message.id in self.drafts:
            return None
        if self._superseded(message):
            record.draft["status"] = stale_status
        self.drafts[message.id] = record
        message.status = MessageStatus.DRAFTED
        return record.draft["status"]

    def record_failure(self, message: InboundMessage, *, kind: str, error: str,
                       next_attempt_at: datetime | None, calls: list[CallAudit]) -> None:
        self.failures[message.id] = Failure(kind, error, next_attempt_at, calls)
        message.status, message.failure_kind = MessageStatus.FAILED, kind
        if kind == "deferred":
            message.attempts -= 1

    def mark_published(
        self, client_id: str, draft_ids: list[str], stream: str | None = None
    ) -> None:
        self.published.update(draft_ids)

    def close(self) -> None:
        pass


@dataclass
class FakeConfigs:
    """worker.ports.Configs: registered clients and their config fields."""

    configs: dict[str, ResolvedConfig] = field(default_factory=dict)

    def register(self, client_id: str, **fields: Any) -> ResolvedConfig:
        resolved = ResolvedConfig(client_id=client_id, config_id=f"cfg-{client_id}", version=1,
                                  fields=AgentConfigFields.model_validate(fields))
        self.configs[client_id] = resolved
        return resolved

    def resolve(self, client_id: str) -> ResolvedConfig | None:
        return self.configs.get(client_id)

    def invalidate(self, client_id: str | None = None) -> None:
        pass


def model_json(reply: str = "Yes, it is. Would you like a test drive?", **extra: Any) -> str:
    return orjson.dumps({"reply": reply, "quickReplies": ["Book a test drive"], **extra}).decode()


@dataclass
class FakeModel:
    """worker.ports.ModelClient: per model, a script of answers (text) or errors to raise;
    the last entry repeats."""

    scripts: dict[str, list[str | Exception]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def complete_json(self, model: str, messages: list[dict[str, str]]) -> ModelResponse:
        self.calls.append(model)
        script = self.scripts.get(model) or [model_json()]
        answer = script.pop(0) if len(script) > 1 else script[0]
        if isinstance(answer, Exception):
            raise answer
        return ModelResponse(answer, prompt_tokens=120, completion_tokens=30, cost_usd=0.001)


@dataclass
class FakeLimits:
    """worker.ports.Limits: go ahead, or defer until `until` for `why`."""

    until: datetime | None = None
    why: str = "rate limit of 1 drafts per minute reached"
    usage: list[tuple[str, int, float]] = field(default_factory=list)

    def defer_until(self, client_id: str, policy: object) -> tuple[datetime, str] | None:
        return None if self.until is None else (self.until, self.why)

    def record_usage(self, client_id: str, tokens: int, cost_usd: float) -> None:
        self.usage.append((client_id, tokens, cost_usd))


@dataclass
class FakePublisher:
    """worker.ports.Publisher: entries per stream, notifications per channel."""

    streams: dict[str, list[dict]] = field(default_factory=dict)
    notified: list[tuple[str, dict]] = field(default_factory=list)

    def publish(
        self, stream: str, payloads: list[dict], notices: Sequence[tuple[str, dict]] = ()
    ) -> None:
        self.streams.setdefault(stream, []).extend(payloads)
        self.notified.extend(notices)

    def notify(self, channel: str, payload: dict) -> None:
        self.notified.append((channel, payload))


@dataclass
class FakeDispatcher:
    """worker.ports.Dispatcher: what was handed to a drafting worker."""

    handed: list[tuple[str, str, str]] = field(default_factory=list)
    delays: dict[str, float] = field(default_factory=dict)  # message id -> delay_seconds

    def enqueue(self, handovers: list[Handover]) -> None:
        for h in handovers:
            self.handed.append((h.client_id, h.message_id, h.channel))
            self.delays[h.message_id] = h.delay_seconds


@dataclass
class FixedClock:
    """worker.ports.Clock that only moves when told to."""

    at: datetime = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)

    def now(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


def no_recall(session: object, message: InboundMessage,
              lead_key: str | None) -> tuple[list, str | None]:
    """worker.ports.Recall with nothing remembered."""
    return [], None
