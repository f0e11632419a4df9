"""The seams between the pipeline and the outside world, by name. The composition root
(worker/bootstrap.py) wires the real adapters; tests/support/fakes.py has in-memory ones."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # types only: the ports module imports nothing at run time
    from sqlalchemy.orm import Session

    from schema.agent_config import ResolvedConfig
    from worker.adapters.client_limits import LimitPolicy
    from worker.store.models import InboundMessage


@dataclass(frozen=True)
class ModelResponse:
    content: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float


@dataclass(frozen=True)
class CallAudit:
    """One model call attempt, written beside the draft (or the failure) it led to."""

    model: str
    attempt: int
    latency_ms: int
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    error: str | None = None


@dataclass
class DraftRecord:
    """A draft as it will be stored: its columns, the payload reviewers get, and its calls."""

    draft: dict[str, Any]  # Draft columns
    outbox_payload: dict[str, Any]
    calls: list[CallAudit] = field(default_factory=list)


class ModelClient(Protocol):
    def complete_json(self, model: str, messages: list[dict[str, str]]) -> ModelResponse:
        """One call. Raises worker.errors.TransientError or PermanentError subclasses."""


@dataclass(frozen=True)
class Handover:
    """A stored message for a drafting worker, `delay_seconds` from now (a burst window: a
    newer message in its conversation meanwhile makes it skip the model)."""

    client_id: str
    message_id: str
    channel: str
    delay_seconds: float = 0.0


class Dispatcher(Protocol):
    def enqueue(self, handovers: list[Handover]) -> None:
        """Hand each stored message to a drafting worker, in order, all at once (the ingress
        hands over a whole batch)."""


class Publisher(Protocol):
    def publish(
        self, stream: str, payloads: list[dict], notices: Sequence[tuple[str, dict]] = ()
    ) -> None:
        """Append each payload to `stream`, in order, and publish each (channel, payload) of
        `notices` on its pub/sub channel (no delivery guarantee) — all in one round trip."""

    def notify(self, channel: str, payload: dict) -> None:
        """Publish one payload on a pub/sub channel (no delivery guarantee)."""


class Embedder(Protocol):
    def embed(self, texts: list[str], timeout: float | None = None) -> list[list[float]]:
        """Unit-length vectors, one per text. Raises TransientError or PermanentError."""


class Sessions(Protocol):
    """A sessionmaker: `sessions()` reads, `sessions.begin()` is one transaction."""

    def __call__(self) -> Session: ...

    def begin(self) -> AbstractContextManager[Session]: ...


class Configs(Protocol):
    def resolve(self, client_id: str) -> ResolvedConfig | None:
        """The client's active config (defaults if none), None if the client is unknown."""

    def invalidate(self, client_id: str | None = None) -> None:
        """Forget the cached config of one client (or all)."""


class Limits(Protocol):
    def defer_until(self, client_id: str, policy: LimitPolicy) -> tuple[datetime, str] | None:
        """When the client may draft again and why, or None to go ahead (counts one draft)."""

    def record_usage(self, client_id: str, tokens: int, cost_usd: float) -> None:
        """Count tokens and cost towards the client's daily budget."""


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""


@dataclass(frozen=True)
class Claimed:
    """A message leased for drafting, with what its draft is written from."""

    message: InboundMessage
    # The lead wrote again in this conversation: the message was skipped for good (the newer
    # message gets the draft) and nothing was recalled.
    superseded: bool
    lead_key: str | None  # the message's lead (leads.lead_key), if it names one
    recalled: list[Any] = field(default_factory=list)
    recall_note: str | None = None  # why nothing was recalled, when recall was cut short


class DraftStore(Protocol):
    """What the drafting use case stores; each call is one transaction (two per draft: the
    database's share of a draft's CPU is mostly per transaction, not per row)."""

    def claim(
        self, client_id: str, message_id: str, lease_seconds: int, owner: str, recall: Recall
    ) -> Claimed | None:
        """Lease the message for drafting (attempts + 1), unless it is drafted, failed for good
        or leased to another owner; in the same transaction skip it for good if the lead wrote
        again since, else `recall` what its draft is shown."""

    def save_draft(
        self, message: InboundMessage, record: DraftRecord, stream: str, stale_status: str
    ) -> str | None:
        """Draft, outbox row (pending drafts only), call audit and message status together.
        If the lead wrote again meanwhile, the draft is stored with `stale_status` instead
        (and no outbox row). Returns the status stored, or None when the message already had
        a draft (only the audit is written)."""

    def record_failure(
        self, message: InboundMessage, *, kind: str, error: str,
        next_attempt_at: datetime | None, calls: list[CallAudit],
    ) -> None:
        """Release the lease with the reason there is no draft, and the calls that led to it."""

    def mark_published(
        self, client_id: str, draft_ids: list[str], stream: str | None = None
    ) -> None:
        """The drafts' outbox rows (of `stream`, if given) reached their outbound stream. May
        be written a moment later, in a batch (see `close`)."""

    def close(self) -> None:
        """Write what is still held (publication marks); the process is stopping."""


# Recall for one claimed message, inside its claim's transaction, given its lead key: what the
# prompt may use, and a note when recall was cut short.
Recall = Callable[["Session", "InboundMessage", "str | None"], "tuple[list[Any], str | None]"]
