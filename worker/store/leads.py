"""Leads and their conversations: upserted as messages arrive, one row per (client, key)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from worker.store import tenancy
from worker.store.models import Conversation, Lead, new_id, utcnow
from worker.store.rows import as_arrays, insert_rows


@dataclass(frozen=True)
class LeadRow:
    lead_key: str
    external_id: str | None  # kept from the lead's first message
    display_name: str | None  # the newest name a message gave, if any


_LEADS = Lead.__table__
_CONVERSATIONS = Conversation.__table__


_LEAD_COLUMNS = ("id", "client_id", "lead_key", "external_id", "display_name", "created_at")
_CONVERSATION_COLUMNS = ("id", "client_id", "external_id", "channel", "lead_id", "created_at")


def _lead_upsert():  # noqa: ANN202
    stmt = insert_rows(_LEADS, _LEAD_COLUMNS)
    return stmt.on_conflict_do_update(
        index_elements=["client_id", "lead_key"],
        set_={"display_name": stmt.excluded.display_name},
        # Only a name that changes is written: an unchanged lead costs no new row version.
        where=stmt.excluded.display_name.is_not(None)
        & _LEADS.c.display_name.is_distinct_from(stmt.excluded.display_name),
    ).returning(_LEADS.c.lead_key, _LEADS.c.id)


# Built once, one text whatever the batch's size (rows.py).
_UPSERT_LEADS = _lead_upsert()
_INSERT_CONVERSATIONS = (
    insert_rows(_CONVERSATIONS, _CONVERSATION_COLUMNS)
    .on_conflict_do_nothing(index_elements=["client_id", "external_id"])
    .returning(_CONVERSATIONS.c.external_id, _CONVERSATIONS.c.id)
)


def upsert_leads(session: Session, client_id: str, rows: list[LeadRow]) -> dict[str, str]:
    """lead key -> lead id, each lead created if new (one row per key in `rows`), its display
    name updated when a message gave a new one."""
    tenancy.bind(session, client_id)
    if not rows:
        return {}
    conn = session.connection()
    now = utcnow()
    ids = dict(conn.execute(_UPSERT_LEADS, as_arrays(_LEADS, [
        {"id": new_id(), "client_id": client_id, "lead_key": r.lead_key,
         "external_id": r.external_id, "display_name": r.display_name, "created_at": now}
        for r in rows
    ], _LEAD_COLUMNS)).all())
    missing = [r.lead_key for r in rows if r.lead_key not in ids]
    if missing:  # conflict with nothing to update: read the existing rows
        ids.update(conn.execute(
            select(_LEADS.c.lead_key, _LEADS.c.id).where(
                _LEADS.c.client_id == client_id, _LEADS.c.lead_key.in_(missing))
        ).all())
    return ids


@dataclass(frozen=True)
class NewConversation:
    external_id: str
    channel: str
    lead_id: str | None


def create_conversations(
    session: Session, client_id: str, rows: list[NewConversation]
) -> dict[str, str]:
    """external id -> conversation id, each created unless it exists (then it is left as it
    is)."""
    tenancy.bind(session, client_id)
    if not rows:
        return {}
    conn = session.connection()
    now = utcnow()
    ids = dict(conn.execute(_INSERT_CONVERSATIONS, as_arrays(_CONVERSATIONS, [
        {"id": new_id(), "client_id": client_id, "external_id": r.external_id,
         "channel": r.channel, "lead_id": r.lead_id, "created_at": now}
        for r in rows
    ], _CONVERSATION_COLUMNS)).all())
    missing = [r.external_id for r in rows if r.external_id not in ids]
    if missing:  # created meanwhile by another transaction
        ids.update(conn.execute(
            select(_CONVERSATIONS.c.external_id, _CONVERSATIONS.c.id).where(
                _CONVERSATIONS.c.client_id == client_id,
                _CONVERSATIONS.c.external_id.in_(missing))
        ).all())
    return ids
