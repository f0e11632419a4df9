"""Stage: the draft as it is stored and as reviewers receive it (a pure function)."""

from __future__ import annotations

from datetime import datetime

from schema.agent_config import ResolvedConfig
from schema.drafts import MemoryRef, OutboundDraft
from worker.leads import lead_secret
from worker.pipeline.assessment import Assessment, DraftedFrom, assess
from worker.pipeline.prompt import Recalled
from worker.pipeline.reply import Written
from worker.pipeline.reply_subject import reply_subject
from worker.ports import DraftRecord
from worker.statuses import DraftStatus
from worker.store.models import InboundMessage, new_id


def draft_record(
    message: InboundMessage,
    config: ResolvedConfig,
    written: Written,
    recalled: list[Recalled],
    latency_ms: int,
    created_at: datetime,
    assessment: Assessment = Assessment.NONE,
) -> DraftRecord:
    draft_id = new_id()
    reply, model, usage = written.reply, written.model, written.usage
    refs = tuple(MemoryRef(id=r.id, kind=r.kind, score=r.score) for r in recalled)
    email = message.channel == "email"
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
        subject=reply_subject(message.subject) if email else None,
        inReplyTo=message.message_id if email else None,
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
        "status": DraftStatus.PENDING_REVIEW,
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
    return DraftRecord(draft=columns, outbox_payload=outbound.to_payload(), calls=written.calls)


def assess_written(
    message: InboundMessage, config: ResolvedConfig, written: Written, recalled: list[Recalled],
    lead_key: str | None, lead_hash_key: object,
) -> Assessment:
    """The guardrail flags and the need for a person, from what the draft was written from."""
    return assess(
        written.reply, degraded=written.model is None, config=config.fields,
        secret=lead_secret(lead_hash_key),
        source=DraftedFrom(
            text=message.new_text, subject=message.subject, lead_name=message.lead_name,
            topic=message.topic, context=tuple(r.text for r in recalled), lead_key=lead_key,
            inbound_flags=message.inbound_flags or (),
        ),
    )
