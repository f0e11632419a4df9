"""Drafts: one per inbound message, written once, then moved through review."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, String, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from worker.statuses import DraftStatus
from worker.store.models import Draft, InboundMessage
from worker.store import sql, tenancy



def insert_draft(
    session: Session, client_id: str, message: InboundMessage, columns: dict[str, Any],
    stale_status: str,
) -> str | None:
    """Store the draft of `message` (`columns`: its columns, any of _INSERTED left out is
    NULL) and return the status it got: `columns["status"]`, or `stale_status` when the lead wrote again
    in the message's conversation meanwhile (decided in the same statement). None, and
    nothing written, when the message already has a draft."""
    tenancy.bind(session, client_id)
    params = {name: columns.get(name) for name in _INSERTED}
    if unknown := columns.keys() - params.keys():
        raise ValueError(f"not a draft column at insert: {sorted(unknown)}")
    for name in _JSON:
        if params[name] is not None:
            params[name] = sql.json(params[name])
    params.update(client_id=client_id, message_id=message.id, stale=stale_status,
                  conversation=message.conversation_id)
    return sql.run(session, _INSERT, params).scalar()


# Hand-written: every draft runs it (worker/store/sql.py). Ids are ULIDs, ordered by arrival,
# so "newer" does not trust the producers' clocks; a message without a conversation has none.
# Every column but the keys given apart and the review's, which a new draft has not got yet.
_INSERTED = [c.name for c in Draft.__table__.columns if c.name not in {
    "client_id", "inbound_message_id",
    "edited_text", "edit_distance", "rejection_reason", "reviewed_at", "reviewed_by"}]
_JSON = [c.name for c in Draft.__table__.columns
         if c.name in _INSERTED and isinstance(c.type, JSON)]
_INSERT = (
    "INSERT INTO drafts (client_id, inbound_message_id, " + ", ".join(_INSERTED) + ") "
    # Typed: each of these parameters is used twice, and Postgres must deduce one type.
    "VALUES (%(client_id)s::varchar, %(message_id)s::varchar, " + ", ".join(
        "CASE WHEN EXISTS (SELECT 1 FROM inbound_messages AS newer"
        " WHERE newer.client_id = %(client_id)s::varchar"
        " AND newer.conversation_id = %(conversation)s::varchar"
        " AND newer.id > %(message_id)s::varchar) THEN %(stale)s::varchar"
        " ELSE %(status)s::varchar END"
        if name == "status" else f"%({name})s" for name in _INSERTED) + ") "
    "ON CONFLICT (inbound_message_id) DO NOTHING RETURNING status"
)


def withdraw_pending(
    session: Session, client_id: str, written_in: set[tuple[str, str | None]]
) -> None:
    """The lead wrote again: drafts still waiting for review in each (conversation, lead id)
    of `written_in` answer an outdated message. Only drafts of that lead's own messages:
    nobody else's message can withdraw them. One statement for a batch."""
    tenancy.bind(session, client_id)
    if not written_in:
        return
    pairs = sorted(written_in, key=lambda p: (p[0], p[1] or ""))
    wrote = func.unnest(
        bindparam("conversations", [c for c, _ in pairs], type_=ARRAY(String)),
        bindparam("lead_ids", [lead for _, lead in pairs], type_=ARRAY(String)),
    ).table_valued("conversation_id", "lead_id").render_derived(name="wrote")
    drafts, inbound = Draft.__table__, InboundMessage.__table__
    session.connection().execute(
        update(drafts)
        .where(
            drafts.c.client_id == client_id,
            drafts.c.status == DraftStatus.PENDING_REVIEW,
            drafts.c.conversation_id == wrote.c.conversation_id,
            inbound.c.client_id == client_id,
            inbound.c.id == drafts.c.inbound_message_id,
            inbound.c.lead_id.is_not_distinct_from(wrote.c.lead_id),
        )
        .values(status=DraftStatus.WITHDRAWN)
    )


def list_drafts(
    session: Session, client_id: str, status: str | None = None, limit: int = 50
) -> list[Draft]:
    """The client's drafts, optionally of one status: needs_human first, then newest first."""
    tenancy.bind(session, client_id)
    stmt = select(Draft).where(Draft.client_id == client_id)
    if status:
        stmt = stmt.where(Draft.status == status)
    # Drafts that need a person come first, then the newest.
    stmt = stmt.order_by(Draft.needs_human.desc(), Draft.created_at.desc())
    return list(session.scalars(stmt.limit(limit)))


def get_draft(session: Session, client_id: str, draft_id: str) -> Draft | None:
    tenancy.bind(session, client_id)
    return session.scalar(select(Draft).where(Draft.client_id == client_id, Draft.id == draft_id))
