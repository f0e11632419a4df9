"""Stage: why a message has no draft, recorded — and, when the failure is transient, when
beat hands it to a worker again (the reprocessing retry policy decides)."""

from __future__ import annotations

from dataclasses import dataclass

from worker import metrics
from worker.errors import Deferred
from worker.logs import log
from worker.ports import CallAudit, Clock, DraftStore
from worker.retry import RetryPolicy, is_transient
from worker.statuses import FailureKind
from worker.store.models import InboundMessage


@dataclass(frozen=True)
class Outcome:
    status: str  # drafted | degraded | stale | withdrawn | skipped | failed | deferred
    draft_id: str | None = None
    reason: str | None = None


def record_failure(
    message: InboundMessage, error: Exception, calls: list[CallAudit], *,
    store: DraftStore, draft_retry: RetryPolicy, clock: Clock,
) -> Outcome:
    """Transient failures get a later attempt, within the policy's budget; permanent ones
    wait for an operator."""
    decision = draft_retry.decide(message.attempts, error)
    kind = FailureKind.TRANSIENT if decision.retry else FailureKind.PERMANENT
    reason = f"{type(error).__name__}: {error}"
    if not decision.retry and is_transient(error):
        reason = f"gave up after {message.attempts} attempts; last: {reason}"
    store.record_failure(message, kind=kind, error=reason,
                         next_attempt_at=decision.at(clock.now()), calls=calls)
    metrics.model_calls(calls)
    metrics.draft_outcome("failed")
    metrics.failure("draft", kind)
    log.warning(
        "draft.failed",
        client_id=message.client_id,
        event_id=message.event_id,
        kind=kind,
        attempts=message.attempts,
        reason=reason[:300],
    )
    return Outcome("failed", reason=reason)


def record_deferral(message: InboundMessage, deferred: Deferred, *, store: DraftStore) -> Outcome:
    """Over a rate limit or budget: the message waits until the limit allows, without using up
    an attempt."""
    why = str(deferred)
    store.record_failure(message, kind=FailureKind.DEFERRED, error=why,
                         next_attempt_at=deferred.until, calls=[])
    metrics.draft_outcome("deferred")
    log.info("draft.deferred", client_id=message.client_id, event_id=message.event_id,
             until=deferred.until.isoformat(), reason=why)
    return Outcome("deferred", reason=why)

