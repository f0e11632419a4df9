"""Erasing one lead of one client from every table that holds what they wrote or got."""

from __future__ import annotations

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session

from worker.store.models import (
    Conversation,
    Draft,
    InboundMessage,
    Lead,
    LlmCall,
    MemoryItem,
    Outbox,
    RejectedEvent,
)
from worker.store import tenancy


def erase_lead(session: Session, client_id: str, lead_key: str) -> dict[str, int]:
    """Delete the lead, their conversations, messages, drafts (with outbox rows and model-call
    audit), memory items and kept-aside events; returns how many rows of each went.

    Kept-aside events are matched by the lead key decoded when they were kept aside: those the
    client claimed, and for an e-mail key also those that named no client (unroutable mail
    from the same address; a leadId means something only within its client)."""
    tenancy.bind(session, client_id)
    lead_ids = list(session.scalars(
        select(Lead.id).where(Lead.client_id == client_id, Lead.lead_key == lead_key)))
    conversations = session.execute(
        select(Conversation.id, Conversation.external_id)
        .where(Conversation.client_id == client_id, Conversation.lead_id.in_(lead_ids))
    ).all()
    message_ids = list(session.scalars(
        select(InboundMessage.id).where(
            InboundMessage.client_id == client_id,
            or_(InboundMessage.lead_id.in_(lead_ids),
                InboundMessage.conversation_id.in_([c.id for c in conversations])),
        )))
    draft_ids = list(session.scalars(
        select(Draft.id).where(Draft.client_id == client_id,
                               Draft.inbound_message_id.in_(message_ids))))
    sources = [f"message:{m}" for m in message_ids] + [f"draft:{d}" for d in draft_ids]

    def gone(stmt) -> int:  # noqa: ANN001
        return session.execute(stmt, execution_options={"synchronize_session": False}).rowcount

    return {
        "memoryItems": gone(delete(MemoryItem).where(
            MemoryItem.client_id == client_id,
            or_(MemoryItem.lead_key == lead_key,
                MemoryItem.source_ref.in_(sources),
                MemoryItem.conversation_id.in_([c.external_id for c in conversations])))),
        "outbox": gone(delete(Outbox).where(Outbox.client_id == client_id,
                                            Outbox.draft_id.in_(draft_ids))),
        "drafts": gone(delete(Draft).where(Draft.client_id == client_id,
                                           Draft.id.in_(draft_ids))),
        "llmCalls": gone(delete(LlmCall).where(LlmCall.client_id == client_id,
                                               LlmCall.inbound_message_id.in_(message_ids))),
        "inboundMessages": gone(delete(InboundMessage).where(
            InboundMessage.client_id == client_id, InboundMessage.id.in_(message_ids))),
        "conversations": gone(delete(Conversation).where(
            Conversation.client_id == client_id,
            Conversation.id.in_([c.id for c in conversations]))),
        "leads": gone(delete(Lead).where(Lead.client_id == client_id, Lead.id.in_(lead_ids))),
        "rejectedEvents": gone(delete(RejectedEvent).where(
            RejectedEvent.lead_key == lead_key,
            or_(RejectedEvent.claimed_client_id == client_id,
                and_(RejectedEvent.claimed_client_id.is_(None),
                     RejectedEvent.lead_key.startswith("email:"))))),
    }
