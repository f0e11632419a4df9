"""Where a message sent over the HTTP API stands: its stored row and its draft, if any."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from worker.store.models import Draft, InboundMessage
from worker.store import tenancy


def message_and_draft(
    session: Session, client_id: str, event_id: str
) -> tuple[InboundMessage | None, Draft | None]:
    tenancy.bind(session, client_id)
    row = session.execute(
        select(InboundMessage, Draft)
        .outerjoin(
            Draft,
            (Draft.inbound_message_id == InboundMessage.id) & (Draft.client_id == client_id),
        )
        .where(InboundMessage.client_id == client_id, InboundMessage.event_id == event_id)
    ).first()
    return (row[0], row[1]) if row else (None, None)
