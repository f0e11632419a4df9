"""The drafting use case: one stored message in, one draft (or one recorded failure) out.

Each step is a stage taking the ports it uses; the composition root (worker/bootstrap.py)
passes them by name.
"""

from __future__ import annotations

import time

from worker import metrics
from worker.errors import AllModelsUnavailable, Deferred, PermanentError
from worker.logs import log
from worker.pipeline.failures import Outcome, record_deferral, record_failure
from worker.pipeline.publish import publish_drafts
from worker.pipeline.record import assess_written, draft_record
from worker.pipeline.reply import write_reply
from worker.ports import Clock, Configs, DraftStore, Limits, ModelClient, Publisher, Recall
from worker.retry import RetryPolicy
from worker.settings import Settings
from worker.statuses import DraftStatus

__all__ = ["Outcome", "draft_message"]


def draft_message(
    client_id: str, message_id: str, attempt_id: str, *,
    store: DraftStore, recall: Recall, configs: Configs, model_client: ModelClient,
    limits: Limits, publisher: Publisher, model_retry: RetryPolicy, draft_retry: RetryPolicy,
    clock: Clock, settings: Settings,
) -> Outcome:
    """`attempt_id` names this delivery (the task id); it owns the message's lease."""
    started = time.perf_counter()
    claimed = store.claim(client_id, message_id, settings.draft_lease_seconds, attempt_id, recall)
    if claimed is None:
        return Outcome("skipped", reason="already drafted, failed for good, or in progress")
    if claimed.superseded:
        return Outcome("skipped", reason="superseded by a newer message in its conversation")
    message, recalled = claimed.message, claimed.recalled
    config = configs.resolve(client_id)
    failed = dict(store=store, draft_retry=draft_retry, clock=clock)
    if config is None:
        error = PermanentError(f"client {client_id!r} is not registered")
        return record_failure(message, error, [], **failed)
    try:
        written = write_reply(message, config, recalled, model_client=model_client,
                              limits=limits, model_retry=model_retry, settings=settings)
    except Deferred as deferred:
        return record_deferral(message, deferred, store=store)
    except AllModelsUnavailable as exc:
        return record_failure(message, exc, exc.calls, **failed)  # type: ignore[attr-defined]
    except PermanentError as exc:  # e.g. a model the client does not allow
        return record_failure(message, exc, [], **failed)

    assessment = assess_written(message, config, written, recalled, claimed.lead_key,
                                settings.lead_hash_key)
    latency_ms = int((time.perf_counter() - started) * 1000)
    record = draft_record(message, config, written, recalled, latency_ms, clock.now(),
                          assessment)
    record.draft["recall_note"] = claimed.recall_note
    # The lead wrote again while the model was busy: the draft is kept, marked stale (chat) or
    # withdrawn (e-mail) and unpublished; the newest message's own draft, which recalls this
    # one, replaces it.
    stale_status = DraftStatus.STALE if message.channel == "chat" else DraftStatus.WITHDRAWN
    status = store.save_draft(message, record, settings.outbound_stream, stale_status)
    metrics.model_calls(written.calls)
    if status is None:
        return Outcome("skipped", reason="another worker drafted it first")
    stale = status != DraftStatus.PENDING_REVIEW
    if not stale:
        status = "drafted" if written.model else "degraded"
    usage = written.usage
    metrics.draft_assessed([f.code for f in assessment.flags], assessment.review.kinds)
    metrics.draft_outcome(status, client_id, usage.prompt_tokens, usage.completion_tokens,
                          usage.cost_usd)
    if stale:
        log.info("draft.superseded", client_id=client_id, event_id=message.event_id,
                 draft_id=record.draft["id"], status=status)
        return Outcome(str(status), record.draft["id"])
    publish_drafts(client_id, [record.outbox_payload], publisher=publisher, store=store,
                   stream=settings.outbound_stream)
    log.info(
        "draft.created",
        client_id=client_id,
        event_id=message.event_id,
        draft_id=record.draft["id"],
        config_version=config.version,
        model=written.model,
        degraded=written.model is None,
        latency_ms=latency_ms,
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        cost_usd=usage.cost_usd,
        flags=[f.code for f in assessment.flags],
        needs_human=assessment.review.needed,
    )
    return Outcome(status, record.draft["id"])
