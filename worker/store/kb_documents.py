"""Knowledge-base documents and folders: upload, locate, lease for processing, delete.

Folders are paths ("prices/2026"); the root "" is never stored. A document's (folder,
filename) is unique among the client's documents that are not being deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import ColumnElement, and_, delete, func, literal, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from worker.knowledge.chunking import Chunk
from worker.store.knowledge import replace_chunks
from worker.store.models import KbChunk, KbDocument, KbFolder, new_id, utcnow

_LIVE = KbDocument.status != "deleting"


@dataclass(frozen=True)
class Claim:
    kind: str
    content_version: int


# --- folders ---


def parents_and_self(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))] if path else []


def ensure_folder(session: Session, client_id: str, path: str) -> None:
    """Create `path` and its parents where missing (mkdir -p)."""
    for p in parents_and_self(path):
        session.execute(
            insert(KbFolder)
            .values(id=new_id(), client_id=client_id, path=p, created_at=utcnow())
            .on_conflict_do_nothing(index_elements=["client_id", "path"])
        )


def folder_exists(session: Session, client_id: str, path: str) -> bool:
    if not path:
        return True
    return session.scalar(
        select(KbFolder.id).where(KbFolder.client_id == client_id, KbFolder.path == path)
    ) is not None


def list_folders(session: Session, client_id: str) -> list[str]:
    return list(session.scalars(
        select(KbFolder.path).where(KbFolder.client_id == client_id).order_by(KbFolder.path)
    ))


def document_counts(session: Session, client_id: str) -> dict[str, int]:
    """Live documents per folder path."""
    rows = session.execute(
        select(KbDocument.folder, func.count())
        .where(KbDocument.client_id == client_id, _LIVE)
        .group_by(KbDocument.folder)
    )
    return {folder: n for folder, n in rows}


def _under(column, path: str) -> ColumnElement[bool]:  # noqa: ANN001
    escaped = path.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return or_(column == path, column.like(escaped + "/%", escape="\\"))


def rename_folder(session: Session, client_id: str, old: str, new: str) -> None:
    """Move folder `old` with everything under it to `new` (which must not exist yet)."""
    ensure_folder(session, client_id, new.rpartition("/")[0])
    cut = len(old) + 1
    session.execute(
        update(KbFolder)
        .where(KbFolder.client_id == client_id, _under(KbFolder.path, old))
        .values(path=literal(new) + func.substr(KbFolder.path, cut)),
        execution_options={"synchronize_session": False},
    )
    session.execute(
        update(KbDocument)
        .where(KbDocument.client_id == client_id, _under(KbDocument.folder, old))
        .values(folder=literal(new) + func.substr(KbDocument.folder, cut), updated_at=utcnow()),
        execution_options={"synchronize_session": False},
    )


def delete_folder(session: Session, client_id: str, path: str) -> int:
    """Remove the folder and its subfolders; their documents are marked for deletion."""
    marked = session.execute(
        update(KbDocument)
        .where(KbDocument.client_id == client_id, _under(KbDocument.folder, path), _LIVE)
        .values(status="deleting", lease_until=None, updated_at=utcnow()),
        execution_options={"synchronize_session": False},
    ).rowcount
    session.execute(
        delete(KbFolder).where(KbFolder.client_id == client_id, _under(KbFolder.path, path)),
        execution_options={"synchronize_session": False},
    )
    return marked


# --- documents ---


def upsert_document(
    session: Session, client_id: str, folder: str, filename: str, *,
    kind: str, content: bytes, sha256: str,
) -> tuple[str, bool]:
    """(document id, replaced?). Re-uploading a name replaces the content and keeps the id."""
    now = utcnow()
    stmt = insert(KbDocument).values(
        id=new_id(), client_id=client_id, folder=folder, filename=filename, kind=kind,
        size_bytes=len(content), sha256=sha256, content=content, content_version=1,
        status="queued", attempts=0, chunk_count=0, created_at=now, updated_at=now,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["client_id", "folder", "filename"],
        index_where=text("status <> 'deleting'"),  # the partial unique index, word for word
        set_={
            "kind": kind, "size_bytes": len(content), "sha256": sha256, "content": content,
            "content_version": KbDocument.content_version + 1, "status": "queued",
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
    return session.scalar(
        select(KbDocument).where(
            KbDocument.client_id == client_id, KbDocument.id == document_id, _LIVE
        )
    )


def list_documents(
    session: Session, client_id: str, *, folder: str | None, recursive: bool,
    name_contains: str | None, status: str | None, limit: int, offset: int,
) -> list[KbDocument]:
    stmt = select(KbDocument).where(KbDocument.client_id == client_id, _LIVE)
    if folder is not None and not recursive:
        stmt = stmt.where(KbDocument.folder == folder)
    elif folder:
        stmt = stmt.where(_under(KbDocument.folder, folder))
    if name_contains:
        escaped = name_contains.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(func.lower(KbDocument.filename).like(f"%{escaped}%", escape="\\"))
    if status:
        stmt = stmt.where(KbDocument.status == status)
    stmt = stmt.order_by(KbDocument.folder, KbDocument.filename, KbDocument.id)
    return list(session.scalars(stmt.limit(limit).offset(offset)))


def name_taken(session: Session, client_id: str, folder: str, filename: str) -> bool:
    return session.scalar(
        select(KbDocument.id).where(
            KbDocument.client_id == client_id, KbDocument.folder == folder,
            KbDocument.filename == filename, _LIVE,
        )
    ) is not None


def relocate(session: Session, client_id: str, document_id: str, folder: str, filename: str) -> None:
    session.execute(
        update(KbDocument)
        .where(KbDocument.client_id == client_id, KbDocument.id == document_id, _LIVE)
        .values(folder=folder, filename=filename, updated_at=utcnow()),
        execution_options={"synchronize_session": False},
    )


def mark_deleting(session: Session, client_id: str, document_id: str) -> bool:
    result = session.execute(
        update(KbDocument)
        .where(KbDocument.client_id == client_id, KbDocument.id == document_id, _LIVE)
        .values(status="deleting", lease_until=None, updated_at=utcnow()),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount > 0


def purge_deleting(session: Session, client_id: str, limit: int) -> int:
    """Remove up to `limit` of the client's deleted documents for good (chunks and audience
    rows go with them, by foreign key)."""
    ids = list(session.scalars(
        select(KbDocument.id)
        .where(KbDocument.client_id == client_id, KbDocument.status == "deleting")
        .limit(limit)
    ))
    if ids:
        session.execute(
            delete(KbDocument).where(KbDocument.client_id == client_id, KbDocument.id.in_(ids)),
            execution_options={"synchronize_session": False},
        )
    return len(ids)


# --- processing: a lease per document, and results kept only for the content that was read ---


def claim_document(
    session: Session, client_id: str, document_id: str, owner: str, lease_seconds: int
) -> Claim | None:
    now = utcnow()
    claimable = or_(
        KbDocument.status == "queued",
        and_(
            KbDocument.status == "processing",
            or_(KbDocument.lease_until < now, KbDocument.lease_owner == owner),
        ),
    )
    row = session.execute(
        update(KbDocument)
        .where(KbDocument.client_id == client_id, KbDocument.id == document_id, claimable)
        .values(
            status="processing", attempts=KbDocument.attempts + 1,
            lease_until=now + timedelta(seconds=lease_seconds), lease_owner=owner,
        )
        .returning(KbDocument.kind, KbDocument.content_version),
        execution_options={"synchronize_session": False},
    ).first()
    return Claim(row.kind, row.content_version) if row else None


def load_content(session: Session, client_id: str, document_id: str, version: int) -> bytes | None:
    return session.scalar(
        select(KbDocument.content).where(
            KbDocument.client_id == client_id, KbDocument.id == document_id,
            KbDocument.content_version == version,
        )
    )


def _still_mine(session: Session, client_id: str, document_id: str, owner: str, version: int) -> bool:
    """Lock the row if this worker still holds it for the content it read."""
    return session.scalar(
        select(KbDocument.id)
        .where(
            KbDocument.client_id == client_id, KbDocument.id == document_id,
            KbDocument.status == "processing", KbDocument.lease_owner == owner,
            KbDocument.content_version == version,
        )
        .with_for_update()
    ) is not None


def finish_ready(
    session: Session, client_id: str, document_id: str, owner: str, version: int,
    chunks: list[Chunk],
) -> bool:
    if not _still_mine(session, client_id, document_id, owner, version):
        return False
    replace_chunks(session, client_id, document_id, chunks)
    _finish(session, client_id, document_id, status="ready", error=None, chunk_count=len(chunks))
    return True


def finish_failed(
    session: Session, client_id: str, document_id: str, owner: str, version: int, reason: str
) -> bool:
    if not _still_mine(session, client_id, document_id, owner, version):
        return False
    replace_chunks(session, client_id, document_id, [])
    _finish(session, client_id, document_id, status="failed", error=reason[:4000], chunk_count=0)
    return True


def _finish(session: Session, client_id: str, document_id: str, **values: object) -> None:
    session.execute(
        update(KbDocument)
        .where(KbDocument.client_id == client_id, KbDocument.id == document_id)
        .values(lease_until=None, processed_at=utcnow(), **values),
        execution_options={"synchronize_session": False},
    )


def give_up_stuck(session: Session, max_attempts: int) -> int:
    """Documents whose processing died `max_attempts` times are failed with the reason (a file
    that kills its worker every time must not be retried forever). Scheduler query: all
    tenants, each row keeps its own."""
    now = utcnow()
    return session.execute(
        update(KbDocument)
        .where(
            KbDocument.status == "processing", KbDocument.lease_until < now,
            KbDocument.attempts >= max_attempts,
        )
        .values(
            status="failed", lease_until=None, processed_at=now,
            error=f"processing did not finish after {max_attempts} attempts "
                  "(the worker stopped or ran out of time on this file)",
        ),
        execution_options={"synchronize_session": False},
    ).rowcount


def due_documents(session: Session, stale_after_seconds: int, limit: int) -> list[tuple[str, str, str]]:
    """(client_id, document_id, status) of documents whose work should be under way but is
    not: expired leases, uploads whose task was lost, deletions not yet purged."""
    now = utcnow()
    stale = now - timedelta(seconds=stale_after_seconds)
    rows = session.execute(
        select(KbDocument.client_id, KbDocument.id, KbDocument.status)
        .where(
            or_(
                and_(KbDocument.status == "processing", KbDocument.lease_until < now),
                and_(KbDocument.status.in_(("queued", "deleting")), KbDocument.updated_at < stale),
            )
        )
        .order_by(KbDocument.updated_at)
        .limit(limit)
    )
    return [tuple(r) for r in rows]


def chunk_texts(session: Session, client_id: str, document_id: str) -> list[KbChunk]:
    return list(session.scalars(
        select(KbChunk)
        .where(KbChunk.client_id == client_id, KbChunk.document_id == document_id)
        .order_by(KbChunk.position)
    ))
