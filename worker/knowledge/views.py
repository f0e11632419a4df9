"""What the knowledge-base use cases hand back: plain values, no storage rows, no JSON
(the HTTP API and the CLI shape them: worker/api/kb_views.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from worker.audience import Segmentation
from worker.store.models import KbDocument


@dataclass(frozen=True)
class DocumentView:
    id: str
    folder: str
    filename: str
    kind: str
    size_bytes: int
    sha256: str
    status: str  # queued | processing | ready | failed
    error: str | None
    chunk_count: int
    created_at: datetime
    updated_at: datetime
    processed_at: datetime | None
    segmentation: Segmentation | None = None  # filled by show_document

    @property
    def path(self) -> str:
        return f"{self.folder}/{self.filename}" if self.folder else self.filename

    @classmethod
    def of(cls, doc: KbDocument, segmentation: Segmentation | None = None) -> DocumentView:
        return cls(
            id=doc.id, folder=doc.folder, filename=doc.filename, kind=doc.kind,
            size_bytes=doc.size_bytes, sha256=doc.sha256, status=doc.status, error=doc.error,
            chunk_count=doc.chunk_count, created_at=doc.created_at, updated_at=doc.updated_at,
            processed_at=doc.processed_at, segmentation=segmentation,
        )


@dataclass(frozen=True)
class UploadResult:
    document: DocumentView
    replaced: bool  # True when the name existed: same id, new content


@dataclass(frozen=True)
class AudienceCount:
    everyone: bool
    segments: int
    user_ids: int


@dataclass
class FolderNode:
    name: str
    path: str
    documents: int  # directly in this folder
    folders: list[FolderNode]
