"""The outbox: a draft's payload for the outbound stream, and later a reviewer's decision on it
for the decisions stream (one row per draft and stream), kept until it was published."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from worker.store.models import Outbox, new_id, utcnow
from worker.store import sql, tenancy



def add(session: Session, client_id: str, draft_id: str, stream: str, payload: dict[str, Any]) -> None:
    tenancy.bind(session, client_id)
    sql.run(session, _ADD, {"id": new_id(), "client_id": client_id, "draft_id": draft_id,
                            "stream": stream, "payload": sql.json(payload), "now": utcnow()})


# Hand-written: every draft runs it (worker/store/sql.py).
_ADD = (
    "INSERT INTO outbox (id, client_id, draft_id, stream, payload, created_at) "
    "VALUES (%(id)s, %(client_id)s, %(draft_id)s, %(stream)s, %(payload)s, %(now)s) "
    "ON CONFLICT (draft_id, stream) DO NOTHING"
)


def mark_published(
    session: Session, client_id: str, draft_ids: list[str], stream: str | None = None
) -> None:
    """`stream`: only the rows of that stream (a draft has one row per stream it goes to)."""
    tenancy.bind(session, client_id)
    sql.run(session, _PUBLISHED if stream is None else _PUBLISHED_TO,
            {"client_id": client_id, "ids": list(draft_ids), "stream": stream, "now": utcnow()})


# Hand-written: one per batch of drafts (worker/store/sql.py); `= ANY` keeps one statement
# text whatever the batch's size.
_PUBLISHED = ("UPDATE outbox SET published_at = %(now)s "
              "WHERE client_id = %(client_id)s AND draft_id = ANY(%(ids)s)")
_PUBLISHED_TO = _PUBLISHED + " AND stream = %(stream)s"


def unpublished_payload(
    session: Session, client_id: str, draft_id: str, stream: str
) -> dict | None:
    tenancy.bind(session, client_id)
    return session.scalar(
        select(Outbox.payload).where(Outbox.client_id == client_id, Outbox.draft_id == draft_id,
                                     Outbox.stream == stream, Outbox.published_at.is_(None))
    )


def claim_unpublished(session: Session, older_than_seconds: float, limit: int) -> list[Outbox]:
    """Outbox rows nobody published in time, locked so a second relay skips them.

    A relay query over all tenants: each row is published to the stream its own draft names.
    """
    tenancy.all_clients(session)
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    stmt = (
        select(Outbox)
        .where(Outbox.published_at.is_(None), Outbox.created_at <= cutoff)
        .order_by(Outbox.created_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(stmt))


def payload_of(
    session: Session, client_id: str, draft_id: str, stream: str | None = None
) -> dict | None:
    """The payload announced for the draft (the first row, or the one of `stream`)."""
    tenancy.bind(session, client_id)
    stmt = select(Outbox.payload).where(Outbox.client_id == client_id,
                                        Outbox.draft_id == draft_id)
    if stream is not None:
        stmt = stmt.where(Outbox.stream == stream)
    return session.scalar(stmt.order_by(Outbox.created_at).limit(1))
