"""Processing leases on knowledge-base documents: one worker at a time per document, its
lease renewed while it works, results kept only for the content it read (a re-upload
meanwhile wins), and the sweeper's view of work that stalled.

The claim, renewal and expiry rules are the ones inbound messages use (store/leases.py); this
module adds what is particular to documents: the content version a worker read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from worker.text.chunking import Chunk
from worker.store.knowledge import replace_chunks
from worker.statuses import DocumentStatus
from worker.store import leases, tenancy
from worker.store.models import KbDocument, utcnow

QUEUED, PROCESSING = DocumentStatus.QUEUED, DocumentStatus.PROCESSING


@dataclass(frozen=True)
class Claim:
    kind: str
    content_version: int


def claim_document(
    session: Session, client_id: str, document_id: str, owner: str, lease_seconds: int
) -> Claim | None:
    tenancy.bind(session, client_id)
    row = leases.claim(session, _CLAIM, owner=owner, lease_seconds=lease_seconds,
                       client_id=client_id, document_id=document_id)
    return Claim(*row) if row else None


_CLAIM = leases.claim_sql(
    "kb_documents",
    where="kb_documents.client_id = %(client_id)s AND kb_documents.id = %(document_id)s",
    ready=f"kb_documents.status = '{QUEUED}'", working=PROCESSING,
    returning="kb_documents.kind, kb_documents.content_version",
)


def load_content(session: Session, client_id: str, document_id: str, version: int) -> bytes | None:
    tenancy.bind(session, client_id)
    return session.scalar(
        select(KbDocument.content).where(
            KbDocument.client_id == client_id, KbDocument.id == document_id,
            KbDocument.content_version == version,
        )
    )


def renew_lease(
    session: Session, client_id: str, document_id: str, owner: str, version: int,
    lease_seconds: int,
) -> bool:
    """Extend this worker's lease while it still works on the document; False once it lost it
    (a re-upload, a deletion, or the sweeper gave it to another)."""
    tenancy.bind(session, client_id)
    return leases.renew(
        session, KbDocument,
        [KbDocument.client_id == client_id, KbDocument.id == document_id,
         KbDocument.content_version == version],
        working=PROCESSING, owner=owner, lease_seconds=lease_seconds,
    )


def _still_mine(session: Session, client_id: str, document_id: str, owner: str, version: int) -> bool:
    """Lock the row if this worker still holds it for the content it read."""
    return session.scalar(
        select(KbDocument.id)
        .where(
            KbDocument.client_id == client_id, KbDocument.id == document_id,
            KbDocument.content_version == version, leases.held(KbDocument, PROCESSING, owner),
        )
        .with_for_update()
    ) is not None


def finish_ready(
    session: Session, client_id: str, document_id: str, owner: str, version: int,
    chunks: list[Chunk],
) -> bool:
    tenancy.bind(session, client_id)
    if not _still_mine(session, client_id, document_id, owner, version):
        return False
    replace_chunks(session, client_id, document_id, chunks)
    _finish(session, client_id, document_id, status=DocumentStatus.READY, error=None, chunk_count=len(chunks))
    return True


def finish_failed(
    session: Session, client_id: str, document_id: str, owner: str, version: int, reason: str
) -> bool:
    tenancy.bind(session, client_id)
    if not _still_mine(session, client_id, document_id, owner, version):
        return False
    replace_chunks(session, client_id, document_id, [])
    _finish(session, client_id, document_id, status=DocumentStatus.FAILED, error=reason[:4000], chunk_count=0)
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
    tenancy.all_clients(session)
    now = utcnow()
    return session.execute(
        update(KbDocument)
        .where(leases.expired(KbDocument, PROCESSING, now), KbDocument.attempts >= max_attempts)
        .values(
            status=DocumentStatus.FAILED, lease_until=None, processed_at=now,
            error=f"processing did not finish after {max_attempts} attempts "
                  "(the worker stopped or ran out of time on this file)",
        ),
        execution_options={"synchronize_session": False},
    ).rowcount


def due_documents(session: Session, stale_after_seconds: int, limit: int) -> list[tuple[str, str, str]]:
    """(client_id, document_id, status) of documents whose work should be under way but is
    not: expired leases, uploads whose task was lost, deletions not yet purged."""
    tenancy.all_clients(session)
    now = utcnow()
    stale = now - timedelta(seconds=stale_after_seconds)
    rows = session.execute(
        select(KbDocument.client_id, KbDocument.id, KbDocument.status)
        .where(
            or_(
                leases.expired(KbDocument, PROCESSING, now),
                and_(KbDocument.status.in_((QUEUED, DocumentStatus.DELETING)),
                     KbDocument.updated_at < stale),
            )
        )
        .order_by(KbDocument.updated_at)
        .limit(limit)
    )
    return [tuple(r) for r in rows]
