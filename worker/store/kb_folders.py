"""Knowledge-base folders: paths ("prices/2026"); the root "" is never stored. Moving or
deleting a folder takes its subfolders and documents with it."""

from __future__ import annotations

from sqlalchemy import ColumnElement, delete, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from worker.store.models import KbDocument, KbFolder, new_id, utcnow
from worker.store import tenancy
from worker.statuses import DocumentStatus

LIVE = KbDocument.status != DocumentStatus.DELETING


def parents_and_self(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))] if path else []


def ensure_folder(session: Session, client_id: str, path: str) -> None:
    """Create `path` and its parents where missing (mkdir -p)."""
    tenancy.bind(session, client_id)
    for p in parents_and_self(path):
        session.execute(
            insert(KbFolder)
            .values(id=new_id(), client_id=client_id, path=p, created_at=utcnow())
            .on_conflict_do_nothing(index_elements=["client_id", "path"])
        )


def folder_exists(session: Session, client_id: str, path: str) -> bool:
    tenancy.bind(session, client_id)
    if not path:
        return True
    return session.scalar(
        select(KbFolder.id).where(KbFolder.client_id == client_id, KbFolder.path == path)
    ) is not None


def list_folders(session: Session, client_id: str) -> list[str]:
    tenancy.bind(session, client_id)
    return list(session.scalars(
        select(KbFolder.path).where(KbFolder.client_id == client_id).order_by(KbFolder.path)
    ))


def document_counts(session: Session, client_id: str) -> dict[str, int]:
    """Live documents per folder path."""
    tenancy.bind(session, client_id)
    rows = session.execute(
        select(KbDocument.folder, func.count())
        .where(KbDocument.client_id == client_id, LIVE)
        .group_by(KbDocument.folder)
    )
    return {folder: n for folder, n in rows}


def under(column, path: str) -> ColumnElement[bool]:  # noqa: ANN001
    escaped = path.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return or_(column == path, column.like(escaped + "/%", escape="\\"))


def rename_folder(session: Session, client_id: str, old: str, new: str) -> None:
    """Move folder `old` with everything under it to `new` (which must not exist yet)."""
    tenancy.bind(session, client_id)
    ensure_folder(session, client_id, new.rpartition("/")[0])
    cut = len(old) + 1
    session.execute(
        update(KbFolder)
        .where(KbFolder.client_id == client_id, under(KbFolder.path, old))
        .values(path=literal(new) + func.substr(KbFolder.path, cut)),
        execution_options={"synchronize_session": False},
    )
    session.execute(
        update(KbDocument)
        .where(KbDocument.client_id == client_id, under(KbDocument.folder, old))
        .values(folder=literal(new) + func.substr(KbDocument.folder, cut), updated_at=utcnow()),
        execution_options={"synchronize_session": False},
    )


def delete_folder(session: Session, client_id: str, path: str) -> int:
    """Remove the folder and its subfolders; their documents are marked for deletion."""
    tenancy.bind(session, client_id)
    marked = session.execute(
        update(KbDocument)
        .where(KbDocument.client_id == client_id, under(KbDocument.folder, path), LIVE)
        .values(status=DocumentStatus.DELETING, lease_until=None, updated_at=utcnow()),
        execution_options={"synchronize_session": False},
    ).rowcount
    session.execute(
        delete(KbFolder).where(KbFolder.client_id == client_id, under(KbFolder.path, path)),
        execution_options={"synchronize_session": False},
    )
    return marked




def subtree_extent(session: Session, client_id: str, path: str) -> tuple[int, int]:
    """(deepest level, longest path) among `path` and its subfolders."""
    tenancy.bind(session, client_id)
    slashes = func.length(KbFolder.path) - func.length(func.replace(KbFolder.path, "/", ""))
    deepest, longest = session.execute(
        select(func.max(slashes + 1), func.max(func.length(KbFolder.path)))
        .where(KbFolder.client_id == client_id, under(KbFolder.path, path))
    ).one()
    return int(deepest or 0), int(longest or 0)
