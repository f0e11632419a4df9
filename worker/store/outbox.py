"""The outbox: a draft's payload for the outbound stream, kept until it was published."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from worker.store.models import Outbox, new_id, utcnow



def add(session: Session, client_id: str, draft_id: str, stream: str, payload: dict[str, Any]) -> None:
    session.execute(
        insert(Outbox).values(
            id=new_id(),
            client_id=client_id,
            draft_id=draft_id,
            stream=stream,
            payload=payload,
            created_at=utcnow(),
        )
    )


def mark_published(session: Session, client_id: str, draft_ids: list[str]) -> None:
    session.execute(
        update(Outbox)
        .where(Outbox.client_id == client_id, Outbox.draft_id.in_(draft_ids))
        .values(published_at=utcnow()),
        execution_options={"synchronize_session": False},
    )


def claim_unpublished(session: Session, older_than_seconds: float, limit: int) -> list[Outbox]:
    """Outbox rows nobody published in time, locked so a second relay skips them.

    A relay query over all tenants: each row is published to the stream its own draft names.
    """
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    stmt = (
        select(Outbox)
        .where(Outbox.published_at.is_(None), Outbox.created_at <= cutoff)
        .order_by(Outbox.created_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(stmt))


def payload_of(session: Session, client_id: str, draft_id: str) -> dict | None:
    return session.scalar(
        select(Outbox.payload).where(Outbox.client_id == client_id, Outbox.draft_id == draft_id)
    )
