"""The knowledge-base use cases, as the CLI (`agent-runtime kb …`) and the HTTP API call them.

Each runs in one transaction of its own and raises a KnowledgeError subclass (with the HTTP
status to answer) when the request cannot be done. Background work is handed to a
DocumentQueue only after the transaction committed; if that hand-over fails, the document is
still stored and the sweeper hands it over later.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from worker.audience import Audience, Segmentation
from worker.knowledge.bounds import sniff_text
from worker.knowledge.errors import (
    Conflict, ExtractionFailed, NotFound, TooLarge, UnsupportedType,
)
from worker.knowledge.extract import kind_for
from worker.knowledge.paths import check_filename, normalize_folder
from worker.knowledge.ports import DocumentQueue
from worker.knowledge.views import AudienceCount, DocumentView, UploadResult
from worker.logs import log
from worker.store import kb_documents, kb_folders, knowledge, tenants
from worker.store.models import KbDocument

DEFAULT_MAX_UPLOAD_BYTES = 50 * 1024 * 1024


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
    try:
        sniff_text(kind, content)
    except ExtractionFailed as exc:
        raise UnsupportedType(f"{filename!r}: {exc}") from exc
    with sessions.begin() as session:
        require_client(session, client_id)
        kb_folders.ensure_folder(session, client_id, folder)
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
    hand_over(queue.process, client_id, document_id)
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
        if normalized and not kb_folders.folder_exists(session, client_id, normalized):
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
        kb_folders.ensure_folder(session, client_id, target)
        name = check_filename(new_filename) if new_filename else doc.filename
        return _relocate(session, client_id, doc, target, name)


def delete_document(
    sessions: sessionmaker[Session], queue: DocumentQueue, client_id: str, document_id: str
) -> None:
    """Gone at once for every reader; its bytes and chunks are removed in the background."""
    with sessions.begin() as session:
        if not kb_documents.mark_deleting(session, client_id, document_id):
            raise NotFound(f"no document {document_id!r}")
    hand_over(queue.purge, client_id)


def retry_document(
    sessions: sessionmaker[Session], queue: DocumentQueue, client_id: str, document_id: str
) -> DocumentView:
    """Process a failed document again (e.g. after a worker ran out of time on it)."""
    with sessions.begin() as session:
        doc = _document(session, client_id, document_id)
        if not kb_documents.requeue_failed(session, client_id, document_id):
            raise Conflict(f"{doc.filename!r} has not failed (it is {doc.status}): nothing to "
                           "retry")
        session.expire_all()
        view = _view(session, client_id, document_id, with_segmentation=False)
    log.info("kb.document.retried", client_id=client_id, document_id=document_id)
    hand_over(queue.process, client_id, document_id)
    return view


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


def audience_count(
    sessions: sessionmaker[Session], client_id: str, document_id: str
) -> AudienceCount:
    """Whether the document is for everyone, and how many tags and user ids it is limited to."""
    view = show_document(sessions, client_id, document_id)
    seg = view.segmentation or Segmentation()
    return AudienceCount(seg.is_everyone, len(seg.segments), len(seg.user_ids))


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


# --- helpers ---


def require_client(session: Session, client_id: str) -> None:
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
        if kb_documents.name_taken(session, client_id, folder, name, besides=doc.id):
            where = f"folder {folder!r}" if folder else "the root folder"
            raise Conflict(f"{name!r} exists already in {where} (names are compared "
                           "ignoring case and character width)")
        try:
            kb_documents.relocate(session, client_id, doc.id, folder, name)
        except IntegrityError as exc:  # taken by a concurrent request since the check
            raise Conflict(f"{name!r} exists already there") from exc
    session.expire_all()
    return _view(session, client_id, doc.id, with_segmentation=False)


def hand_over(enqueue, *args: str) -> None:  # noqa: ANN001
    try:
        enqueue(*args)
    except Exception as exc:  # the row is stored; the sweeper hands it over once it is stale
        log.warning("kb.enqueue_failed", args=args, error=repr(exc))
