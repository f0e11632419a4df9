"""Knowledge base: the client's own documents, their folders, audiences and search chunks."""

from __future__ import annotations

from datetime import datetime

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

from worker.store.models.base import Base, new_id, utcnow
from worker.statuses import DocumentStatus


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
    status: Mapped[str] = mapped_column(String(16), default=DocumentStatus.QUEUED)
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
    __table_args__ = (
        Index("ix_kb_chunks_document", "document_id", "position"),
        Index("ix_kb_chunks_client_document", "client_id", "document_id"),  # row-level security
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    document_id: Mapped[str] = mapped_column(ForeignKey("kb_documents.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    heading: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text)
