"""The knowledge-base use cases, as the CLI (`agent-runtime kb …`) and the HTTP API call them.

Each runs in one transaction of its own and raises a KnowledgeError subclass (with the HTTP
status to answer) when the request cannot be done. Background work is handed to a
DocumentQueue only after the transaction committed; if that hand-over fails, the document is
still stored and the sweeper hands it over later.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from worker.audience import Audience, Segmentation
from worker.knowledge.errors import Conflict, InvalidInput, NotFound, TooLarge
from worker.knowledge.extract import kind_for
from worker.knowledge.paths import check_filename, normalize_folder
from worker.knowledge.ports import DocumentQueue
from worker.logs import log
from worker.store import kb_documents, knowledge, tenants
from worker.store.models import KbDocument

DEFAULT_MAX_UPLOAD_BYTES = 50 * 1024 * 1024


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

    def to_json(self) -> dict[str, Any]:
        data = {
            "id": self.id, "folder": self.folder, "filename": self.filename, "path": self.path,
            "kind": self.kind, "sizeBytes": self.size_bytes, "sha256": self.sha256,
            "status": self.status, "error": self.error, "chunkCount": self.chunk_count,
            "createdAt": self.created_at.isoformat(), "updatedAt": self.updated_at.isoformat(),
            "processedAt": self.processed_at.isoformat() if self.processed_at else None,
        }
        if self.segmentation is not None:
            data["segmentation"] = self.segmentation.to_json()
            data["audience"] = "everyone" if self.segmentation.is_everyone else "segmented"
        return data


@dataclass(frozen=True)
class UploadResult:
    document: DocumentView
    replaced: bool  # True when the name existed: same id, new content


def upload_document(
    sessions: sessionmaker[Session], queue: DocumentQueue, client_id: str, *,
    folder: str | None, filename: str, content: bytes, content_type: str | None = None,
    segmentation: Segmentation | Mapping[str, Any] | None = None,
    max_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
) -> UploadResult:
    """Store the file (replacing one of the same name in the folder) and queue it for
    processing. With `segmentation`, the document's audience is replaced in the same
    transaction: if the segmentation is refused, nothing was uploaded. Without it, a
    replaced document keeps its audience."""
    if len(content) > max_bytes:
        raise TooLarge(f"the file has {len(content):,} bytes; the limit is {max_bytes:,}")
    filename = check_filename(filename)
    folder = normalize_folder(folder)
    kind = kind_for(filename, content_type)
    with sessions.begin() as session:
        _require_client(session, client_id)
        kb_documents.ensure_folder(session, client_id, folder)
        document_id, replaced = kb_documents.upsert_document(
            session, client_id, folder, filename, kind=kind, content=content,
            sha256=hashlib.sha256(content).hexdigest(),
        )
        if segmentation is not None:
            if not isinstance(segmentation, Segmentation):
                segmentation = Segmentation.parse(segmentation)
            knowledge.replace_segmentation(session, client_id, document_id, segmentation)
        view = _view(session, client_id, document_id, with_segmentation=True)
    log.info("kb.document.uploaded", client_id=client_id, document_id=document_id,
             bytes=len(content), replaced=replaced)
    _hand_over(queue.process, client_id, document_id)
    return UploadResult(view, replaced)


def list_documents(
    sessions: sessionmaker[Session], client_id: str, *, folder: str | None = None,
    recursive: bool = False, name_contains: str | None = None, status: str | None = None,
    limit: int = 100, offset: int = 0,
) -> list[DocumentView]:
    """Documents in `folder` (None: all; with `recursive`, its subfolders too), optionally
    whose file name contains `name_contains` (case-insensitive), or with a given status."""
    with sessions() as session:
        normalized = None if folder is None else normalize_folder(folder)
        if normalized and not kb_documents.folder_exists(session, client_id, normalized):
            raise NotFound(f"no folder {normalized!r}")
        rows = kb_documents.list_documents(
            session, client_id, folder=normalized, recursive=recursive,
            name_contains=name_contains, status=status, limit=limit, offset=offset,
        )
        return [DocumentView.of(d) for d in rows]


def show_document(sessions: sessionmaker[Session], client_id: str, document_id: str) -> DocumentView:
    with sessions() as session:
        return _view(session, client_id, document_id, with_segmentation=True)


def rename_document(
    sessions: sessionmaker[Session], client_id: str, document_id: str, new_filename: str
) -> DocumentView:
    with sessions.begin() as session:
        doc = _document(session, client_id, document_id)
        return _relocate(session, client_id, doc, doc.folder, check_filename(new_filename))


def move_document(
    sessions: sessionmaker[Session], client_id: str, document_id: str, folder: str,
    new_filename: str | None = None,
) -> DocumentView:
    """Into `folder` (created if missing), optionally under a new name. The id stays."""
    with sessions.begin() as session:
        doc = _document(session, client_id, document_id)
        target = normalize_folder(folder)
        kb_documents.ensure_folder(session, client_id, target)
        name = check_filename(new_filename) if new_filename else doc.filename
        return _relocate(session, client_id, doc, target, name)


def delete_document(
    sessions: sessionmaker[Session], queue: DocumentQueue, client_id: str, document_id: str
) -> None:
    """Gone at once for every reader; its bytes and chunks are removed in the background."""
    with sessions.begin() as session:
        if not kb_documents.mark_deleting(session, client_id, document_id):
            raise NotFound(f"no document {document_id!r}")
    _hand_over(queue.purge, client_id)


def replace_segmentation(
    sessions: sessionmaker[Session], client_id: str, document_id: str,
    segmentation: Segmentation | Mapping[str, Any],
) -> DocumentView:
    return replace_segmentations(sessions, client_id, {document_id: segmentation})[0]


def replace_segmentations(
    sessions: sessionmaker[Session], client_id: str,
    items: Mapping[str, Segmentation | Mapping[str, Any]],
) -> list[DocumentView]:
    """Replace the audience of each document wholesale, all or nothing: an unknown document or
    a bad segmentation anywhere leaves every document as it was."""
    with sessions.begin() as session:
        views = []
        for document_id, raw in items.items():
            segmentation = raw if isinstance(raw, Segmentation) else Segmentation.parse(raw)
            _document(session, client_id, document_id)
            knowledge.replace_segmentation(session, client_id, document_id, segmentation)
            views.append(_view(session, client_id, document_id, with_segmentation=True))
        return views


def audience_count(sessions: sessionmaker[Session], client_id: str, document_id: str) -> dict:
    """{"everyone": bool, "segments": n, "userIds": n} of one document."""
    view = show_document(sessions, client_id, document_id)
    seg = view.segmentation or Segmentation()
    return {"everyone": seg.is_everyone, "segments": len(seg.segments),
            "userIds": len(seg.user_ids)}


def visible_documents(
    sessions: sessionmaker[Session], client_id: str, audience: Audience, limit: int = 1000
) -> list[DocumentView]:
    """What a lead with this audience may be shown (whatever the documents' status)."""
    with sessions() as session:
        return [DocumentView.of(d) for d in knowledge.visible_documents(
            session, client_id, audience, limit)]


def search(
    sessions: sessionmaker[Session], client_id: str, query: str, audience: Audience,
    limit: int = 5,
) -> list[knowledge.KnowledgeHit]:
    """Exactly what recall finds for a lead with this audience."""
    with sessions() as session:
        return knowledge.search_knowledge(session, client_id, query, audience, limit)


# --- folders ---


def create_folder(sessions: sessionmaker[Session], client_id: str, path: str) -> str:
    """Create the folder and any missing parents; Conflict if it exists already."""
    path = normalize_folder(path)
    if not path:
        raise InvalidInput("the root folder always exists")
    with sessions.begin() as session:
        _require_client(session, client_id)
        if kb_documents.folder_exists(session, client_id, path):
            raise Conflict(f"folder {path!r} exists already")
        kb_documents.ensure_folder(session, client_id, path)
    return path


def delete_folder(
    sessions: sessionmaker[Session], queue: DocumentQueue, client_id: str, path: str
) -> int:
    """Delete the folder, its subfolders and all their documents; returns how many documents."""
    path = normalize_folder(path)
    if not path:
        raise InvalidInput("the root folder cannot be deleted")
    with sessions.begin() as session:
        if not kb_documents.folder_exists(session, client_id, path):
            raise NotFound(f"no folder {path!r}")
        count = kb_documents.delete_folder(session, client_id, path)
    if count:
        _hand_over(queue.purge, client_id)
    return count


def rename_folder(sessions: sessionmaker[Session], client_id: str, old: str, new: str) -> str:
    """Rename or move a folder with everything in it; documents keep their ids."""
    old, new = normalize_folder(old), normalize_folder(new)
    if not old or not new:
        raise InvalidInput("the root folder cannot be renamed, nor anything renamed to it")
    if new == old or new.startswith(old + "/"):
        raise InvalidInput(f"cannot move folder {old!r} into itself ({new!r})")
    with sessions.begin() as session:
        if not kb_documents.folder_exists(session, client_id, old):
            raise NotFound(f"no folder {old!r}")
        if kb_documents.folder_exists(session, client_id, new):
            raise Conflict(f"folder {new!r} exists already")
        kb_documents.rename_folder(session, client_id, old, new)
    return new


def list_folders(sessions: sessionmaker[Session], client_id: str) -> list[str]:
    with sessions() as session:
        return kb_documents.list_folders(session, client_id)


def folder_tree(sessions: sessionmaker[Session], client_id: str) -> dict[str, Any]:
    """{"name", "path", "documents": n in this folder, "folders": [subtrees…]} from the root."""
    with sessions() as session:
        paths = kb_documents.list_folders(session, client_id)
        counts = kb_documents.document_counts(session, client_id)
    root: dict[str, Any] = {"name": "", "path": "", "documents": counts.get("", 0), "folders": []}
    nodes = {"": root}
    for path in paths:  # sorted, so a parent comes before its children
        parent, _, name = path.rpartition("/")
        node = {"name": name, "path": path, "documents": counts.get(path, 0), "folders": []}
        nodes.get(parent, root)["folders"].append(node)
        nodes[path] = node
    return root


# --- helpers ---


def _require_client(session: Session, client_id: str) -> None:
    if not tenants.client_exists(session, client_id):
        raise NotFound(f"client {client_id!r} is not registered")


def _document(session: Session, client_id: str, document_id: str) -> KbDocument:
    doc = kb_documents.get_document(session, client_id, document_id)
    if doc is None:
        raise NotFound(f"no document {document_id!r}")
    return doc


def _view(session: Session, client_id: str, document_id: str, *, with_segmentation: bool) -> DocumentView:
    doc = _document(session, client_id, document_id)
    segmentation = (
        knowledge.segmentation_of(session, client_id, document_id) if with_segmentation else None
    )
    return DocumentView.of(doc, segmentation)


def _relocate(session: Session, client_id: str, doc: KbDocument, folder: str, name: str) -> DocumentView:
    if (folder, name) != (doc.folder, doc.filename):
        if kb_documents.name_taken(session, client_id, folder, name):
            where = f"folder {folder!r}" if folder else "the root folder"
            raise Conflict(f"{name!r} exists already in {where}")
        try:
            kb_documents.relocate(session, client_id, doc.id, folder, name)
        except IntegrityError as exc:  # taken by a concurrent request since the check
            raise Conflict(f"{name!r} exists already there") from exc
    session.expire_all()
    return _view(session, client_id, doc.id, with_segmentation=False)


def _hand_over(enqueue, *args: str) -> None:  # noqa: ANN001
    try:
        enqueue(*args)
    except Exception as exc:  # the row is stored; the sweeper hands it over once it is stale
        log.warning("kb.enqueue_failed", args=args, error=repr(exc))
