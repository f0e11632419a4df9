"""Retention: a client's messages, drafts, model-call audit and kept-aside events older than
its `retentionDays` are deleted (beat's `privacy.retention`, worker/retention.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from worker.store import tenancy
from worker.store.models import Draft, InboundMessage, LlmCall, MemoryItem, Outbox, RejectedEvent
from worker.store.models import utcnow


def purge_older_than(
    session: Session, client_id: str, days: int, now: datetime | None = None
) -> dict[str, int]:
    """Delete what the client keeps no longer; returns how many rows of each went. Ages are
    ours (when the row was stored), never the producer's receivedAt: an event that claims to
    be old is not deleted before it is drafted. Memory items written from a deleted message or
    draft go with it (they hold its text); imported items and notes stay."""
    tenancy.bind(session, client_id)
    cutoff = (now or utcnow()) - timedelta(days=days)
    old_messages = select(InboundMessage.id).where(
        InboundMessage.client_id == client_id, InboundMessage.created_at < cutoff)
    old_drafts = select(Draft.id).where(
        Draft.client_id == client_id,
        or_(Draft.created_at < cutoff, Draft.inbound_message_id.in_(old_messages)))
    message_ids = list(session.scalars(old_messages))
    draft_ids = list(session.scalars(old_drafts))
    sources = [f"message:{m}" for m in message_ids] + [f"draft:{d}" for d in draft_ids]

    def gone(stmt) -> int:  # noqa: ANN001
        return session.execute(stmt, execution_options={"synchronize_session": False}).rowcount

    return {
        "memoryItems": gone(delete(MemoryItem).where(
            MemoryItem.client_id == client_id, MemoryItem.source_ref.in_(sources))),
        "outbox": gone(delete(Outbox).where(Outbox.client_id == client_id,
                                            Outbox.draft_id.in_(draft_ids))),
        "drafts": gone(delete(Draft).where(Draft.client_id == client_id,
                                           Draft.id.in_(draft_ids))),
        "llmCalls": gone(delete(LlmCall).where(LlmCall.client_id == client_id,
                                               LlmCall.created_at < cutoff)),
        "inboundMessages": gone(delete(InboundMessage).where(
            InboundMessage.client_id == client_id, InboundMessage.id.in_(message_ids))),
        "rejectedEvents": gone(delete(RejectedEvent).where(
            RejectedEvent.claimed_client_id == client_id, RejectedEvent.created_at < cutoff)),
    }
