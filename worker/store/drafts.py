"""Drafts: one per inbound message, written once, then moved through review."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from worker.statuses import DraftStatus
from worker.store.models import Draft, InboundMessage
from worker.store import tenancy



def insert_draft(session: Session, client_id: str, message_id: str, columns: dict[str, Any]) -> bool:
    """False (and nothing written) when the message already has a draft."""
    tenancy.bind(session, client_id)
    # Core, not ORM-enabled, DML on the drafting hot path: the same SQL, without the ORM's
    # bulk-persistence machinery (py-spy: most of a save's worker CPU).
    table = Draft.__table__
    inserted = session.scalar(
        insert(table)
        .values(client_id=client_id, inbound_message_id=message_id, **columns)
        .on_conflict_do_nothing(index_elements=["inbound_message_id"])
        .returning(table.c.id)
    )
    return inserted is not None


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
