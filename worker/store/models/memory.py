"""What recall searches: memory items."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    Index,
    REAL,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from worker.leads import MAX_LEAD_KEY
from worker.store.models.base import Base, new_id, utcnow


class MemoryItem(Base):
    """Something recall may show a draft: an inbound message, an approved reply, a draft, a note.

    Postgres generates two columns the ORM never writes (migration 0004): `tsv` (text
    weighted A, neighbours' text in `context` B and `context_far` C,
    GIN-indexed) and `doc_len`.
    """

    __tablename__ = "memory_items"
    __table_args__ = (
        UniqueConstraint("client_id", "source_ref", name="uq_memory_items_client_source"),
        Index("ix_memory_items_client_lead", "client_id", "lead_key", "created_at"),
        Index("ix_memory_items_client_conversation", "client_id", "conversation_id", "created_at"),
        Index("ix_memory_items_client_kind", "client_id", "kind", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    lead_key: Mapped[str | None] = mapped_column(String(MAX_LEAD_KEY))  # as leads.lead_key
    conversation_id: Mapped[str | None] = mapped_column(String(200))  # the producer's id
    kind: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    # Neighbours in its conversation: the items right before and after, and the ones beyond.
    context: Mapped[str] = mapped_column(Text, default="", server_default="")
    context_far: Mapped[str] = mapped_column(Text, default="", server_default="")
    # What wrote it ("message:<id>", "draft:<id>", "import:<externalId>"): writes are idempotent.
    source_ref: Mapped[str | None] = mapped_column(String(240))
    external_id: Mapped[str | None] = mapped_column(String(200))
    embedding: Mapped[list[float] | None] = mapped_column(
        ARRAY(REAL())
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
