"""Drafts: one per inbound message, written once, then moved through review."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
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
    session: Session, client_id: str, conversation: str, lead_id: str | None
) -> None:
    """Drafts still waiting for review in that conversation answer an outdated message. Only
    drafts of this lead's own messages: nobody else's message can withdraw them."""
    tenancy.bind(session, client_id)
    same_lead = select(InboundMessage.id).where(
        InboundMessage.client_id == client_id,
        InboundMessage.lead_id == lead_id if lead_id else InboundMessage.lead_id.is_(None),
    )
    session.execute(
        update(Draft)
        .where(
            Draft.client_id == client_id,
            Draft.conversation_id == conversation,
            Draft.status == DraftStatus.PENDING_REVIEW,
            Draft.inbound_message_id.in_(same_lead),
        )
        .values(status=DraftStatus.WITHDRAWN),
        execution_options={"synchronize_session": False},
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
