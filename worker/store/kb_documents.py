"""Knowledge-base documents: upload (replacing a same-named one), locate, rename, delete.

A document's (folder, filename) is unique among the client's documents that are not being
deleted. Folders: worker/store/kb_folders.py; processing leases: worker/store/kb_leases.py.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from worker.store.kb_folders import LIVE, under
from worker.store.knowledge import replace_chunks
from worker.store.models import KbChunk, KbDocument, new_id, utcnow
from worker.store import tenancy
from worker.text.names import name_key
from worker.statuses import DocumentStatus


def upsert_document(
    session: Session, client_id: str, folder: str, filename: str, *,
    kind: str, content: bytes, sha256: str,
) -> tuple[str, bool]:
    """(document id, replaced?). Re-uploading a name (as compared: case-folded) replaces the
    content, keeps the id and takes the new spelling of the name."""
    tenancy.bind(session, client_id)
    now = utcnow()
    stmt = insert(KbDocument).values(
        id=new_id(), client_id=client_id, folder=folder, filename=filename,
        name_key=name_key(filename), kind=kind,
        size_bytes=len(content), sha256=sha256, content=content, content_version=1,
        status=DocumentStatus.QUEUED, attempts=0, chunk_count=0, created_at=now, updated_at=now,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["client_id", "folder", "name_key"],
        index_where=text("status <> 'deleting'"),  # the partial unique index, word for word
        set_={
            "filename": filename, "kind": kind, "size_bytes": len(content), "sha256": sha256, "content": content,
            "content_version": KbDocument.content_version + 1, "status": DocumentStatus.QUEUED,
            "error": None, "attempts": 0, "lease_until": None, "lease_owner": None,
            "chunk_count": 0, "updated_at": now, "processed_at": None,
        },
    )
    document_id, version = session.execute(
        stmt.returning(KbDocument.id, KbDocument.content_version)
    ).one()
    if version > 1:  # the old text must not be found while the new one is processed
        replace_chunks(session, client_id, document_id, [])
    return document_id, version > 1


def get_document(session: Session, client_id: str, document_id: str) -> KbDocument | None:
    tenancy.bind(session, client_id)
    return session.scalar(
        select(KbDocument).where(
            KbDocument.client_id == client_id, KbDocument.id == document_id, LIVE
        )
    )


def list_documents(
    session: Session, client_id: str, *, folder: str | None, recursive: bool,
    name_contains: str | None, status: str | None, limit: int, offset: int,
) -> list[KbDocument]:
    tenancy.bind(session, client_id)
    stmt = select(KbDocument).where(KbDocument.client_id == client_id, LIVE)
    if folder is not None and not recursive:
        stmt = stmt.where(KbDocument.folder == folder)
    elif folder:
        stmt = stmt.where(under(KbDocument.folder, folder))
    if name_contains:
        escaped = name_contains.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(func.lower(KbDocument.filename).like(f"%{escaped}%", escape="\\"))
    if status:
        stmt = stmt.where(KbDocument.status == status)
    stmt = stmt.order_by(KbDocument.folder, KbDocument.filename, KbDocument.id)
    return list(session.scalars(stmt.limit(limit).offset(offset)))


def name_taken(
    session: Session, client_id: str, folder: str, filename: str, *, besides: str | None = None
) -> bool:
    """Whether another live document (not `besides`) holds the name, as compared."""
    tenancy.bind(session, client_id)
    stmt = select(KbDocument.id).where(
        KbDocument.client_id == client_id, KbDocument.folder == folder,
        KbDocument.name_key == name_key(filename), LIVE,
    )
    if besides is not None:
        stmt = stmt.where(KbDocument.id != besides)
    return session.scalar(stmt) is not None


def relocate(session: Session, client_id: str, document_id: str, folder: str, filename: str) -> None:
    tenancy.bind(session, client_id)
    session.execute(
        update(KbDocument)
        .where(KbDocument.client_id == client_id, KbDocument.id == document_id, LIVE)
        .values(folder=folder, filename=filename, name_key=name_key(filename),
                updated_at=utcnow()),
        execution_options={"synchronize_session": False},
    )


def mark_deleting(session: Session, client_id: str, document_id: str) -> bool:
    tenancy.bind(session, client_id)
    result = session.execute(
        update(KbDocument)
        .where(KbDocument.client_id == client_id, KbDocument.id == document_id, LIVE)
        .values(status=DocumentStatus.DELETING, lease_until=None, updated_at=utcnow()),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount > 0


def requeue_failed(session: Session, client_id: str, document_id: str) -> bool:
    """A failed document back to queued with a fresh count of attempts; False when it is not
    the client's or has not failed."""
    tenancy.bind(session, client_id)
    result = session.execute(
        update(KbDocument)
        .where(KbDocument.client_id == client_id, KbDocument.id == document_id,
               KbDocument.status == DocumentStatus.FAILED)
        .values(status=DocumentStatus.QUEUED, error=None, attempts=0, lease_until=None, lease_owner=None,
                updated_at=utcnow()),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount > 0


def purge_deleting(session: Session, client_id: str, limit: int) -> int:
    """Remove up to `limit` of the client's deleted documents for good (chunks and audience
    rows go with them, by foreign key)."""
    tenancy.bind(session, client_id)
    ids = list(session.scalars(
        select(KbDocument.id)
        .where(KbDocument.client_id == client_id, KbDocument.status == DocumentStatus.DELETING)
        .limit(limit)
    ))
    if ids:
        session.execute(
            delete(KbDocument).where(KbDocument.client_id == client_id, KbDocument.id.in_(ids)),
            execution_options={"synchronize_session": False},
        )
    return len(ids)


def chunk_texts(session: Session, client_id: str, document_id: str) -> list[KbChunk]:
    tenancy.bind(session, client_id)
    return list(session.scalars(
        select(KbChunk)
        .where(KbChunk.client_id == client_id, KbChunk.document_id == document_id)
        .order_by(KbChunk.position)
    ))
