"""What the worker writes: drafts, the outbox, the audit of model calls."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from worker.store.models.base import Base, new_id, utcnow
from worker.statuses import DraftStatus


class Draft(Base):
    __tablename__ = "drafts"
    __table_args__ = (
        UniqueConstraint("inbound_message_id", name="uq_drafts_inbound_message"),
        Index("ix_drafts_client_status", "client_id", "status", "created_at"),
        Index("ix_drafts_client_conversation", "client_id", "conversation_id", "status"),
        Index("ix_drafts_client_review_order", "client_id", "status", "needs_human", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    inbound_message_id: Mapped[str] = mapped_column(
        ForeignKey("inbound_messages.id", ondelete="CASCADE")
    )
    event_id: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(16))
    conversation_id: Mapped[str | None] = mapped_column(String(200))  # the producer's id
    lead_id: Mapped[str | None] = mapped_column(String(200))  # the producer's id
    reply: Mapped[str] = mapped_column(Text)
    quick_replies: Mapped[list[Any]] = mapped_column(default=list)
    # pending_review → approved | edited | rejected
    status: Mapped[str] = mapped_column(String(16), default=DraftStatus.PENDING_REVIEW)
    config_id: Mapped[str | None] = mapped_column(String(26))
    config_version: Mapped[int] = mapped_column(Integer)
    model: Mapped[str | None] = mapped_column(String(200))
    degraded: Mapped[bool] = mapped_column(Boolean, default=False)
    memory_refs: Mapped[list[Any]] = mapped_column(default=list)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    latency_ms: Mapped[int] = mapped_column(Integer, default=0)
    subject: Mapped[str | None] = mapped_column(String(1000))
    in_reply_to: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Review (worker.pipeline.review) and recall outcome; migration 0004.
    edited_text: Mapped[str | None] = mapped_column(Text)
    edit_distance: Mapped[int | None] = mapped_column(Integer)
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[datetime | None]
    recall_note: Mapped[str | None] = mapped_column(String(200))
    reviewed_by: Mapped[str | None] = mapped_column(String(200))  # migration 0011
    # Guardrails and handoff (worker.pipeline.assessment); migration 0008.
    flags: Mapped[list[Any]] = mapped_column(default=list, server_default=text("'[]'"))
    confidence: Mapped[float | None] = mapped_column(Float)
    needs_human: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    needs_human_reason: Mapped[str | None] = mapped_column(Text)


class Outbox(Base):
    """Drafts waiting to be (or already) published to the outbound stream."""

    __tablename__ = "outbox"
    __table_args__ = (
        # One row per draft and stream: the draft for review, later the decision on it.
        UniqueConstraint("draft_id", "stream", name="uq_outbox_draft_stream"),
        Index(
            "ix_outbox_unpublished",
            "created_at",
            postgresql_where=text("published_at IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    draft_id: Mapped[str] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"))
    stream: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]


class LlmCall(Base):
    """One row per model call attempt: what it cost and how it ended."""

    __tablename__ = "llm_calls"
    __table_args__ = (Index("ix_llm_calls_client_created", "client_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    inbound_message_id: Mapped[str | None] = mapped_column(String(26))
    config_id: Mapped[str | None] = mapped_column(String(26))
    model: Mapped[str] = mapped_column(String(200))
    attempt: Mapped[int] = mapped_column(Integer)
    latency_ms: Mapped[int] = mapped_column(Integer)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
