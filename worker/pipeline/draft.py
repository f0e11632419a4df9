"""The drafting use case: one stored message in, one draft (or one recorded failure) out."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from schema.agent_config import ResolvedConfig
from schema.drafts import MemoryRef, ModelReply, OutboundDraft, Usage
from worker.errors import AllModelsRefused, AllModelsUnavailable, PermanentError
from worker import metrics
from worker.logs import log
from worker.pipeline.assessment import Assessment, DraftedFrom, assess
from worker.pipeline.generate import generate
from worker.pipeline.model_chain import model_chain
from worker.pipeline.offline_drafter import holding_reply
from worker.pipeline.prompt import LeadMessage, Recalled, build_messages
from worker.pipeline.publish import publish_drafts
from worker.pipeline.recall import recall_for
from worker.pipeline.reply_subject import reply_subject
from worker.adapters.client_limits import LimitPolicy
from worker.runtime import Runtime
from worker.settings import Settings
from worker.leads import lead_secret
from worker.store import drafts, memory, messages
from worker.store.drafts import CallAudit, DraftRecord
from worker.store.models import InboundMessage, new_id, utcnow


@dataclass(frozen=True)
class Outcome:
    status: str  # drafted | degraded | stale | withdrawn | skipped | failed | deferred
    draft_id: str | None = None
    reason: str | None = None


def draft_message(rt: Runtime, client_id: str, message_id: str, attempt_id: str) -> Outcome:
    """`attempt_id` names this delivery (the task id); it owns the message's lease."""
    started = time.perf_counter()
    with rt.sessions.begin() as session:
        message = messages.claim_message(
            session, client_id, message_id, rt.settings.draft_lease_seconds, attempt_id
        )
        if message is None:
            return Outcome("skipped", reason="already drafted, failed for good, or in progress")
        if _superseded(session, message):
            messages.mark_superseded(session, client_id, message.id)
            return Outcome("skipped", reason="superseded by a newer message in its conversation")
        recalled, recall_note = recall_for(
            session, client_id, message, rt.settings.recall_limit,
            rt.settings.recall_budget_seconds, rt.embedder,
        )
        lead_key = memory.lead_key_of(session, client_id, message.lead_id) if message.lead_id else None

    config = rt.configs.resolve(client_id)
    if config is None:
        return _fail(rt, message, PermanentError(f"client {client_id!r} is not registered"), [])
    lead_message = LeadMessage(
        channel=message.channel,
        text=message.new_text,
        lead_name=message.lead_name,
        subject=message.subject,
        topic=message.topic,
    )
    try:
        chain = model_chain(
            config.fields,
            message.model_override,
            rt.settings.llm_model,
            rt.settings.llm_fallback_models,
        )
    except PermanentError as exc:
        return _fail(rt, message, exc, [])

    calls: list[CallAudit] = []
    model_used: str | None = None
    usage = Usage()
    if chain:
        policy = limit_policy(config, rt.settings)
        deferral = rt.limits.defer_until(client_id, policy)
        if deferral is not None:
            return _defer(rt, message, *deferral)
        try:
            generated = generate(
                rt.model_client,
                chain,
                build_messages(config.fields, recalled, lead_message),
                rt.retry_policy,
            )
            reply, model_used, calls = generated.reply, generated.model, generated.calls
            usage = Usage(
                promptTokens=generated.prompt_tokens,
                completionTokens=generated.completion_tokens,
                costUsd=generated.cost_usd,
            )
            if policy.has_budget:  # counted only where a budget needs it: a round trip less
                rt.limits.record_usage(
                    client_id, usage.prompt_tokens + usage.completion_tokens, usage.cost_usd
                )
        except AllModelsUnavailable as exc:
            return _fail(rt, message, exc, exc.calls)  # type: ignore[attr-defined]
        except AllModelsRefused as exc:
            calls = exc.calls  # type: ignore[attr-defined]
            log.warning("draft.degraded", client_id=client_id, reason=str(exc)[:300])
            reply = holding_reply(config.fields, lead_message, recalled)
    else:
        reply = holding_reply(config.fields, lead_message, recalled)

    assessment = assess(
        reply, degraded=model_used is None, config=config.fields, secret=lead_secret(
            rt.settings.lead_hash_key),
        source=DraftedFrom(
            text=message.new_text, subject=message.subject, lead_name=message.lead_name,
            topic=message.topic, context=tuple(r.text for r in recalled), lead_key=lead_key,
            inbound_flags=message.inbound_flags or (),
        ),
    )
    latency_ms = int((time.perf_counter() - started) * 1000)
    record = _record(message, config, reply, model_used, usage, recalled, latency_ms, calls,
                     assessment)
    record.draft["recall_note"] = recall_note
    with rt.sessions.begin() as session:
        # The lead wrote again while the model was busy: keep this draft, marked stale (chat)
        # or withdrawn (e-mail) and unpublished; the newest message's own draft, which
        # recalls this one, replaces it.
        stale = _superseded(session, message)
        if stale:
            record.draft["status"] = "stale" if message.channel == "chat" else "withdrawn"
        saved = drafts.save_draft(
            session, client_id, message.id, record, rt.settings.outbound_stream
        )
    metrics.model_calls(calls)
    if not saved:
        return Outcome("skipped", reason="another worker drafted it first")
    metrics.draft_assessed([f.code for f in assessment.flags], assessment.review.kinds)
    metrics.draft_outcome(
        record.draft["status"] if stale else "drafted" if model_used else "degraded", client_id,
        usage.prompt_tokens, usage.completion_tokens, usage.cost_usd,
    )
    if stale:
        log.info("draft.superseded", client_id=client_id, event_id=message.event_id,
                 draft_id=record.draft["id"], status=record.draft["status"])
        return Outcome(record.draft["status"], record.draft["id"])
    publish_drafts(rt, client_id, [record.outbox_payload])
    outcome = Outcome("degraded" if model_used is None else "drafted", record.draft["id"])
    log.info(
        "draft.created",
        client_id=client_id,
        event_id=message.event_id,
        draft_id=outcome.draft_id,
        config_version=config.version,
        model=model_used,
        degraded=model_used is None,
        latency_ms=latency_ms,
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        cost_usd=usage.cost_usd,
        flags=[f.code for f in assessment.flags],
        needs_human=assessment.review.needed,
    )
    return outcome


def _record(
    message: InboundMessage,
    config: ResolvedConfig,
    reply: ModelReply,
    model: str | None,
    usage: Usage,
    recalled: list[Recalled],
    latency_ms: int,
    calls: list[CallAudit],
    assessment: Assessment = Assessment.NONE,
) -> DraftRecord:
    draft_id = new_id()
    created_at = utcnow()
    refs = tuple(MemoryRef(id=r.id, kind=r.kind, score=r.score) for r in recalled)
    outbound = OutboundDraft(
        draftId=draft_id,
        eventId=message.event_id,
        clientId=message.client_id,
        channel=message.channel,
        conversationId=message.external_conversation_id,
        leadId=message.external_lead_id,
        reply=reply.reply,
        quickReplies=reply.quick_replies,
        configId=config.config_id,
        configVersion=config.version,
        model=model,
        degraded=model is None,
        memoryRefs=refs,
        usage=usage,
        latencyMs=latency_ms,
        createdAt=created_at,
        subject=reply_subject(message.subject) if message.channel == "email" else None,
        inReplyTo=message.message_id if message.channel == "email" else None,
        flags=assessment.flags_json(),
        confidence=assessment.confidence,
        needsHuman=assessment.review.needed,
        needsHumanReason=assessment.review.reason,
    )
    columns = {
        "id": draft_id,
        "event_id": message.event_id,
        "channel": message.channel,
        "conversation_id": message.external_conversation_id,
        "lead_id": message.external_lead_id,
        "reply": reply.reply,
        "quick_replies": list(reply.quick_replies),
        "status": "pending_review",
        "config_id": config.config_id,
        "config_version": config.version,
        "model": model,
        "degraded": model is None,
        "memory_refs": [r.model_dump() for r in refs],
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "cost_usd": usage.cost_usd,
        "latency_ms": latency_ms,
        "subject": outbound.subject,
        "in_reply_to": outbound.in_reply_to,
        "created_at": created_at,
        "flags": assessment.flags_json(),
        "confidence": assessment.confidence,
        "needs_human": assessment.review.needed,
        "needs_human_reason": assessment.review.reason,
    }
    return DraftRecord(draft=columns, outbox_payload=outbound.to_payload(), calls=calls)


def _superseded(session, message: InboundMessage) -> bool:  # noqa: ANN001
    return messages.has_newer_in_conversation(session, message.client_id, message)


def limit_policy(config: ResolvedConfig, settings: Settings) -> LimitPolicy:
    fields = config.fields
    return LimitPolicy(
        per_minute=_first(fields.rate_limit_per_minute, settings.client_rate_limit_per_minute),
        daily_tokens=_first(fields.daily_token_budget, settings.client_daily_token_budget),
        daily_cost_usd=_first(fields.daily_cost_budget_usd, settings.client_daily_cost_budget_usd),
    )


def _first(value, default):  # noqa: ANN001, ANN202
    return default if value is None else value


def _defer(rt: Runtime, message: InboundMessage, until: datetime, why: str) -> Outcome:
    with rt.sessions.begin() as session:
        messages.record_failure(
            session, message.client_id, message.id, kind="deferred", error=why,
            next_attempt_at=until,
        )
    metrics.draft_outcome("deferred")
    log.info("draft.deferred", client_id=message.client_id, event_id=message.event_id,
             until=until.isoformat(), reason=why)
    return Outcome("deferred", reason=why)


def _fail(
    rt: Runtime, message: InboundMessage, error: Exception, calls: list[CallAudit]
) -> Outcome:
    """Record why the message has no draft. Transient failures get a later attempt, within a
    budget; permanent ones wait for an operator."""
    transient = isinstance(error, AllModelsUnavailable)
    out_of_budget = message.attempts >= rt.settings.max_draft_attempts
    kind = "transient" if transient and not out_of_budget else "permanent"
    next_at = None
    if kind == "transient":
        backoff = rt.settings.retry_failed_after_seconds * (2 ** (message.attempts - 1))
        next_at = utcnow() + timedelta(seconds=backoff * random.uniform(0.8, 1.2))
    reason = f"{type(error).__name__}: {error}"
    if out_of_budget and transient:
        reason = f"gave up after {message.attempts} attempts; last: {reason}"
    with rt.sessions.begin() as session:
        drafts.write_calls(session, message.client_id, message.id, None, calls)
        messages.record_failure(
            session, message.client_id, message.id, kind=kind, error=reason, next_attempt_at=next_at
        )
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
