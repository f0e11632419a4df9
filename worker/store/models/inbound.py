"""What arrives: leads, their conversations, inbound messages, rejected events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from worker.leads import MAX_LEAD_KEY
from worker.store.models.base import Base, new_id, utcnow
from worker.statuses import MessageStatus


class Lead(Base):
    __tablename__ = "leads"
    __table_args__ = (UniqueConstraint("client_id", "lead_key", name="uq_leads_client_key"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    # The producer's leadId, or HMAC-SHA256(LEAD_HASH_KEY, normalized e-mail): never the address.
    lead_key: Mapped[str] = mapped_column(String(MAX_LEAD_KEY))
    external_id: Mapped[str | None] = mapped_column(String(200))
    display_name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("client_id", "external_id", name="uq_conversations_client_external"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(16))
    lead_id: Mapped[str | None] = mapped_column(ForeignKey("leads.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class InboundMessage(Base):
    __tablename__ = "inbound_messages"
    __table_args__ = (
        UniqueConstraint("client_id", "event_id", name="uq_inbound_messages_client_event"),
        Index("ix_inbound_messages_client_lead", "client_id", "lead_id", "received_at"),
        Index("ix_inbound_messages_status_due", "status", "next_attempt_at"),
        Index("ix_inbound_messages_client_conversation", "client_id", "conversation_id", "id"),
        Index("ix_inbound_messages_client_message_id", "client_id", "message_id"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(16))
    lead_id: Mapped[str | None] = mapped_column(ForeignKey("leads.id", ondelete="SET NULL"))
    conversation_id: Mapped[str | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL")
    )
    external_conversation_id: Mapped[str | None] = mapped_column(String(200))
    external_lead_id: Mapped[str | None] = mapped_column(String(200))
    lead_name: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)  # the full text, cleaned (quotes included)
    # The rawMime or message exactly as it came (UTF-8); never shown to the model. 0010.
    raw: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    new_text: Mapped[str] = mapped_column(Text)  # what goes to the prompt
    subject: Mapped[str | None] = mapped_column(String(1000))
    message_id: Mapped[str | None] = mapped_column(String(1000))
    in_reply_to: Mapped[str | None] = mapped_column(String(1000))
    topic: Mapped[str | None] = mapped_column(String(200))
    model_override: Mapped[str | None] = mapped_column(String(200))
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    # received → drafting → drafted | failed (retryable or permanent, see failure_kind);
    # skipped: recorded but never drafted (auto-replies, bounces), reason in last_error
    status: Mapped[str] = mapped_column(String(16), default=MessageStatus.RECEIVED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None]
    # Who holds the lease: the task id, so a retry of the same task may take it back at once.
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    next_attempt_at: Mapped[datetime | None]
    # Raised by the ingress cleaning ([{code, detail}], e.g. hidden text removed); each is
    # carried onto the message's draft as a flag. Migration 0008.
    inbound_flags: Mapped[list[Any]] = mapped_column(default=list, server_default=text("'[]'"))
    failure_kind: Mapped[str | None] = mapped_column(String(16))  # transient | permanent
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RejectedEvent(Base):
    """An inbound entry that could not be drafted because of what it is, kept whole."""

    __tablename__ = "rejected_events"
    __table_args__ = (
        UniqueConstraint("stream", "entry_id", name="uq_rejected_events_entry"),
        Index("ix_rejected_events_client_lead", "claimed_client_id", "lead_key"),
        Index("ix_rejected_events_client_created", "claimed_client_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    stream: Mapped[str] = mapped_column(String(200))
    entry_id: Mapped[str] = mapped_column(String(64))
    # As claimed by the payload, unverified: may name no client, or one that does not exist.
    claimed_client_id: Mapped[str | None] = mapped_column(String(200))
    event_id: Mapped[str | None] = mapped_column(String(200))
    # Whose it is, when the payload tells (leadId, leadEmail or its rawMime's From), as
    # leads.lead_key: `leads erase` removes it with the rest of the lead. Migration 0013.
    lead_key: Mapped[str | None] = mapped_column(String(MAX_LEAD_KEY))
    reason: Mapped[str] = mapped_column(Text)
    raw_payload: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
