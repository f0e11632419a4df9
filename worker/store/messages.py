"""Inbound messages: stored once per (client, eventId), then claimed by one worker at a time.
This module writes the inbound_messages table only (as does message_states.py, the message's
way through drafting); worker/ingress/accept.py composes it with leads, drafts and memory when
messages arrive."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from worker.statuses import MessageStatus
from worker.store.models import InboundMessage, new_id, utcnow
from worker.store import tenancy


@dataclass(frozen=True)
class NewMessage:
    """A validated inbound event, normalised for storage."""

    client_id: str
    event_id: str
    channel: str
    body: str
    new_text: str
    lead_key: str | None = None
    external_lead_id: str | None = None
    lead_name: str | None = None
    external_conversation_id: str | None = None
    subject: str | None = None
    message_id: str | None = None
    in_reply_to: str | None = None
    topic: str | None = None
    model_override: str | None = None
    metadata: dict[str, Any] | None = None
    received_at: datetime | None = None
    skip_reason: str | None = None  # stored as "skipped": recorded, never drafted
    # An e-mail's In-Reply-To when it carried no References: it joins its parent's thread.
    thread_parent: str | None = None
    # Raised by the inbound cleaning: [{"code": "inbound_…", "detail": …}], shown on the draft.
    inbound_flags: tuple[dict[str, str], ...] = ()
    raw: bytes | None = None  # the message as it came, before any cleaning


@dataclass(frozen=True)
class StoredRef:
    client_id: str
    message_id: str
    channel: str
    needs_drafting: bool  # False when a repeat of an event already being or done drafting


def insert_message(
    session: Session, msg: NewMessage, lead_id: str | None, conversation_id: str | None
) -> str | None:
    """The new row's id, or None when (client, eventId) is already stored."""
    tenancy.bind(session, msg.client_id)  # a batch holds several clients: one at a time
    stmt = (
        insert(InboundMessage)
        .values(
            id=new_id(),
            client_id=msg.client_id,
            event_id=msg.event_id,
            channel=msg.channel,
            lead_id=lead_id,
            conversation_id=conversation_id,
            external_conversation_id=msg.external_conversation_id,
            external_lead_id=msg.external_lead_id,
            lead_name=msg.lead_name,
            body=msg.body,
            raw=msg.raw,
            new_text=msg.new_text,
            subject=msg.subject,
            message_id=msg.message_id,
            in_reply_to=msg.in_reply_to,
            topic=msg.topic,
            model_override=msg.model_override,
            metadata_=msg.metadata or {},
            inbound_flags=list(msg.inbound_flags),
            received_at=msg.received_at or utcnow(),
            status=MessageStatus.SKIPPED if msg.skip_reason else MessageStatus.RECEIVED,
            last_error=msg.skip_reason,
            attempts=0,
        )
        .on_conflict_do_nothing(index_elements=["client_id", "event_id"])
        .returning(InboundMessage.id)
    )
    return session.scalar(stmt)


def stored_status(session: Session, client_id: str, event_id: str) -> tuple[str, str]:
    """(id, status) of the message already stored for (client, eventId)."""
    tenancy.bind(session, client_id)
    row = session.execute(
        select(InboundMessage.id, InboundMessage.status).where(
            InboundMessage.client_id == client_id, InboundMessage.event_id == event_id
        )
    ).one()
    return row.id, row.status


def thread_of(session: Session, client_id: str, message_id: str) -> str | None:
    """The conversation of this client's stored e-mail with that Message-ID, if any (ids are
    compared with and without their angle brackets: producers differ)."""
    tenancy.bind(session, client_id)
    bare = message_id.strip().strip("<>")
    return session.scalar(
        select(InboundMessage.external_conversation_id)
        .where(
            InboundMessage.client_id == client_id,
            InboundMessage.message_id.in_({bare, f"<{bare}>"}),
            InboundMessage.external_conversation_id.is_not(None),
        )
        .limit(1)
    )


def has_newer_in_conversation(session: Session, client_id: str, message: InboundMessage) -> bool:
    """Has the lead written again in this conversation since `message` arrived? Ids are ULIDs,
    ordered by arrival, so this does not trust the producers' clocks."""
    tenancy.bind(session, client_id)
    if not message.conversation_id:
        return False
    newer = session.scalar(
        select(InboundMessage.id)
        .where(
            InboundMessage.client_id == client_id,
            InboundMessage.conversation_id == message.conversation_id,
            InboundMessage.id > message.id,
        )
        .limit(1)
    )
    return newer is not None


def get_message(session: Session, client_id: str, message_id: str) -> InboundMessage | None:
    tenancy.bind(session, client_id)
    return session.scalar(
        select(InboundMessage).where(
            InboundMessage.client_id == client_id, InboundMessage.id == message_id
        )
    )
