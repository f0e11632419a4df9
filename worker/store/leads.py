"""Leads and their conversations: upserted as messages arrive, one row per (client, key)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from worker.store.messages import NewMessage
from worker.store import tenancy
from worker.store.models import Conversation, Lead, new_id


def upsert_lead(session: Session, msg: NewMessage) -> str | None:
    tenancy.bind(session, msg.client_id)
    if not msg.lead_key:
        return None
    stmt = insert(Lead).values(
        id=new_id(),
        client_id=msg.client_id,
        lead_key=msg.lead_key,
        external_id=msg.external_lead_id,
        display_name=msg.lead_name,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["client_id", "lead_key"],
        set_={"display_name": stmt.excluded.display_name},
        where=stmt.excluded.display_name.is_not(None),
    )
    lead_id = session.scalar(stmt.returning(Lead.id))
    if lead_id is None:  # conflict with nothing to update: read the existing row
        lead_id = session.scalar(
            select(Lead.id).where(Lead.client_id == msg.client_id, Lead.lead_key == msg.lead_key)
        )
    return lead_id


def upsert_conversation(session: Session, msg: NewMessage, lead_id: str | None) -> str | None:
    tenancy.bind(session, msg.client_id)
    if not msg.external_conversation_id:
        return None
    stmt = (
        insert(Conversation)
        .values(
            id=new_id(),
            client_id=msg.client_id,
            external_id=msg.external_conversation_id,
            channel=msg.channel,
            lead_id=lead_id,
        )
        .on_conflict_do_nothing()
    )
    session.execute(stmt)
    return session.scalar(
        select(Conversation.id).where(
            Conversation.client_id == msg.client_id,
            Conversation.external_id == msg.external_conversation_id,
        )
    )
