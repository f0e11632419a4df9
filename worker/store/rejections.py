"""Inbound entries kept aside, whole, with the reason they could not be drafted."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from worker.store.models import RejectedEvent, new_id


@dataclass(frozen=True)
class Rejection:
    stream: str
    entry_id: str
    raw_payload: bytes
    reason: str
    claimed_client_id: str | None = None
    event_id: str | None = None
    lead_key: str | None = None  # when the payload tells whose it is (leads erase removes it)


def keep_aside(session: Session, rejections: list[Rejection]) -> None:
    if not rejections:
        return
    rows = [
        {
            "id": new_id(),
            "stream": r.stream,
            "entry_id": r.entry_id,
            "raw_payload": r.raw_payload,
            "reason": _text(r.reason, 4000),
            "claimed_client_id": _text(r.claimed_client_id, 200),
            "event_id": _text(r.event_id, 200),
            "lead_key": r.lead_key,
        }
        for r in rejections
    ]
    # Re-reading an entry after a crash must not keep it aside twice.
    session.execute(insert(RejectedEvent).values(rows).on_conflict_do_nothing())


def list_rejected(session: Session, client_id: str | None, limit: int = 50) -> list[RejectedEvent]:
    """Kept-aside events claimed by `client_id`; None lists those that named no valid client."""
    stmt = select(RejectedEvent).order_by(RejectedEvent.created_at.desc()).limit(limit)
    stmt = stmt.where(RejectedEvent.claimed_client_id == client_id) if client_id else stmt.where(
        RejectedEvent.claimed_client_id.is_(None)
    )
    return list(session.scalars(stmt))


def _text(value: str | None, limit: int) -> str | None:
    """What a bad payload claims, made storable: Postgres text cannot hold NUL characters."""
    if not value:
        return None
    return value.replace("\x00", "\\u0000")[:limit]


def get_rejected(
    session: Session, client_id: str | None, rejected_id: str
) -> RejectedEvent | None:
    """One kept-aside event claimed by `client_id` (None: one that named no valid client)."""
    stmt = select(RejectedEvent).where(RejectedEvent.id == rejected_id)
    stmt = stmt.where(RejectedEvent.claimed_client_id == client_id) if client_id else stmt.where(
        RejectedEvent.claimed_client_id.is_(None)
    )
    return session.scalar(stmt)


def as_json(row: RejectedEvent, *, with_payload: bool = False) -> dict:
    """For people: the raw payload as text (undecodable bytes replaced), cut to 64 KB."""
    out = {"id": row.id, "stream": row.stream, "entryId": row.entry_id,
           "clientId": row.claimed_client_id, "eventId": row.event_id, "reason": row.reason,
           "createdAt": row.created_at.isoformat(), "payloadBytes": len(row.raw_payload or b"")}
    if with_payload:
        out["payload"] = (row.raw_payload or b"")[:65536].decode("utf-8", "replace")
    return out
