"""Tables. Every row that belongs to a tenant carries `client_id`, and every query filters on it."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    REAL,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from ulid import ULID

JsonType = JSONB()


def new_id() -> str:
    return str(ULID())


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {
        datetime: DateTime(timezone=True),
        dict[str, Any]: JsonType,
        list[Any]: JsonType,
    }


class Client(Base):
    __tablename__ = "clients"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ClientAddress(Base):
    """An inbound e-mail address that routes mail without a clientId to its client."""

    __tablename__ = "client_addresses"

    address: Mapped[str] = mapped_column(String(320), primary_key=True)  # lower-case
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AgentConfig(Base):
    __tablename__ = "agent_configs"
    __table_args__ = (
        UniqueConstraint("client_id", "version", name="uq_agent_configs_client_version"),
        # Exactly one active config per client, enforced by the database.
        Index(
            "uq_agent_configs_one_active",
            "client_id",
            unique=True,
            postgresql_where=text("active"),
        ),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    # The contract's config fields, as given (camelCase JSON), validated by schema.agent_config.
    fields: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Lead(Base):
    __tablename__ = "leads"
    __table_args__ = (UniqueConstraint("client_id", "lead_key", name="uq_leads_client_key"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    # The producer's leadId, or HMAC-SHA256(LEAD_HASH_KEY, normalized e-mail): never the address.
    lead_key: Mapped[str] = mapped_column(String(200))
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
    new_text: Mapped[str] = mapped_column(Text)  # what goes to the prompt
    # The rawMime or message exactly as it came (UTF-8); never shown to the model. 0010.
    raw: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    subject: Mapped[str | None] = mapped_column(String(1000))
    message_id: Mapped[str | None] = mapped_column(String(1000))
    in_reply_to: Mapped[str | None] = mapped_column(String(1000))
    topic: Mapped[str | None] = mapped_column(String(200))
    model_override: Mapped[str | None] = mapped_column(String(200))
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    # received → drafting → drafted | failed (retryable or permanent, see failure_kind);
    # skipped: recorded but never drafted (auto-replies, bounces), reason in last_error
    status: Mapped[str] = mapped_column(String(16), default="received")
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
    status: Mapped[str] = mapped_column(String(16), default="pending_review")
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
    # Guardrails and handoff (worker.pipeline.assessment); migration 0008.
    flags: Mapped[list[Any]] = mapped_column(default=list, server_default=text("'[]'"))
    confidence: Mapped[float | None] = mapped_column(Float)
    needs_human: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    needs_human_reason: Mapped[str | None] = mapped_column(Text)


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


class RejectedEvent(Base):
    """An inbound entry that could not be drafted because of what it is, kept whole."""

    __tablename__ = "rejected_events"
    __table_args__ = (UniqueConstraint("stream", "entry_id", name="uq_rejected_events_entry"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    stream: Mapped[str] = mapped_column(String(200))
    entry_id: Mapped[str] = mapped_column(String(64))
    # As claimed by the payload, unverified: may name no client, or one that does not exist.
    claimed_client_id: Mapped[str | None] = mapped_column(String(200))
    event_id: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    raw_payload: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Outbox(Base):
    """Drafts waiting to be (or already) published to the outbound stream."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("draft_id", name="uq_outbox_draft"),
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
    lead_key: Mapped[str | None] = mapped_column(String(200))  # as leads.lead_key
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


# --- Knowledge base: the client's own documents, their folders, audiences and search chunks. ---


class KbFolder(Base):
    """A folder of a client's knowledge base, named by its path ("" is the root, never stored)."""

    __tablename__ = "kb_folders"
    __table_args__ = (UniqueConstraint("client_id", "path", name="uq_kb_folders_client_path"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String(1000))  # "prices/2026", no leading or trailing /
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class KbDocument(Base):
    """One uploaded file. Its id stays the same through re-uploads, renames and moves."""

    __tablename__ = "kb_documents"
    __table_args__ = (
        # The filename (case-folded) is the key within a folder; a document being deleted no
        # longer holds it.
        Index(
            "uq_kb_documents_client_folder_name",
            "client_id",
            "folder",
            "name_key",
            unique=True,
            postgresql_where=text("status <> 'deleting'"),
        ),
        Index("ix_kb_documents_status_lease", "status", "lease_until"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    folder: Mapped[str] = mapped_column(String(1000), default="")
    filename: Mapped[str] = mapped_column(String(255))
    # The name as compared (NFKC case-fold, worker/knowledge/paths.py): unique per folder.
    name_key: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(16))  # markdown | text | html | csv | pdf | docx
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    # The file itself: Postgres is the system of record (no worker-local disk). Loaded on demand.
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    # Bumped by every re-upload, so a worker still busy with older content cannot publish it.
    content_version: Mapped[int] = mapped_column(Integer, default=1)
    # queued → processing → ready | failed (reason in error); deleting: gone for every reader
    status: Mapped[str] = mapped_column(String(16), default="queued")
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    chunk_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]


class KbDocumentSegment(Base):
    """A (groupId, itemId) segmentation tag: the document is shown to leads carrying it."""

    __tablename__ = "kb_document_segments"
    __table_args__ = (Index("ix_kb_document_segments_client", "client_id", "group_id", "item_id"),)

    document_id: Mapped[str] = mapped_column(
        ForeignKey("kb_documents.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))


class KbDocumentUser(Base):
    """A user id the document is shown to."""

    __tablename__ = "kb_document_users"
    __table_args__ = (Index("ix_kb_document_users_client", "client_id", "user_id"),)

    document_id: Mapped[str] = mapped_column(
        ForeignKey("kb_documents.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))


class KbChunk(Base):
    """A searchable piece of a ready document. The table also has `tsv`, a stored generated
    tsvector with a GIN index (migration 0005) that the ORM never writes."""

    __tablename__ = "kb_chunks"
    __table_args__ = (Index("ix_kb_chunks_document", "document_id", "position"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    document_id: Mapped[str] = mapped_column(ForeignKey("kb_documents.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    heading: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text)


class ApiKey(Base):
    """A key of the HTTP API: a client's (scoped to it) or an admin's (operators). Only the
    SHA-256 of the key is stored; `prefix` (its first characters) identifies it in listings."""

    __tablename__ = "api_keys"
    __table_args__ = (UniqueConstraint("key_hash", name="uq_api_keys_hash"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    client_id: Mapped[str | None] = mapped_column(
        ForeignKey("clients.id", ondelete="CASCADE"), index=True
    )
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
