"""Inbound messages: stored once per (client, eventId), then claimed by one worker at a time.
This module writes the inbound_messages table only (as does message_states.py, the message's
way through drafting); worker/ingress/accept.py composes it with leads, drafts and memory when
messages arrive."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from worker.statuses import MessageStatus
from worker.store.models import InboundMessage, utcnow
from worker.store import tenancy
from worker.store.rows import as_arrays, insert_rows


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


@dataclass(frozen=True)
class MessageRow:
    """A message ready to store: its id (ids order a client's messages by arrival), its lead
    and its conversation (both resolved by the caller)."""

    id: str
    msg: NewMessage
    lead_id: str | None
    conversation_id: str | None


_MESSAGES = InboundMessage.__table__
_MESSAGE_COLUMNS = (
    "id", "client_id", "event_id", "channel", "lead_id", "conversation_id",
    "external_conversation_id", "external_lead_id", "lead_name", "body", "raw", "new_text",
    "subject", "message_id", "in_reply_to", "topic", "model_override", "metadata",
    "inbound_flags", "received_at", "status", "last_error", "attempts", "created_at",
    "updated_at",
)
# Built once, one text whatever the batch's size (rows.py).
_INSERT_MESSAGES = (
    insert_rows(_MESSAGES, _MESSAGE_COLUMNS)
    .on_conflict_do_nothing(index_elements=["client_id", "event_id"])
    .returning(_MESSAGES.c.id)
)


def insert_messages(session: Session, client_id: str, rows: list[MessageRow]) -> set[str]:
    """Insert this client's messages in one statement; returns the ids of the rows inserted
    (a message whose (client, eventId) is already stored is not, nor a repeat within `rows`:
    the first of them is)."""
    tenancy.bind(session, client_id)
    if not rows:
        return set()
    now = utcnow()
    params = [
        {
            "id": row.id,
            "client_id": client_id,
            "event_id": m.event_id,
            "channel": m.channel,
            "lead_id": row.lead_id,
            "conversation_id": row.conversation_id,
            "external_conversation_id": m.external_conversation_id,
            "external_lead_id": m.external_lead_id,
            "lead_name": m.lead_name,
            "body": m.body,
            "raw": m.raw,
            "new_text": m.new_text,
            "subject": m.subject,
            "message_id": m.message_id,
            "in_reply_to": m.in_reply_to,
            "topic": m.topic,
            "model_override": m.model_override,
            "metadata": m.metadata or {},
            "inbound_flags": list(m.inbound_flags),
            "received_at": m.received_at or now,
            "status": MessageStatus.SKIPPED if m.skip_reason else MessageStatus.RECEIVED,
            "last_error": m.skip_reason,
            "attempts": 0,
            "created_at": now,
            "updated_at": now,
        }
        for row in rows
        for m in [row.msg]
    ]
    return set(session.connection().execute(
        _INSERT_MESSAGES, as_arrays(_MESSAGES, params, _MESSAGE_COLUMNS)).scalars())


def stored_statuses(
    session: Session, client_id: str, event_ids: list[str]
) -> dict[str, tuple[str, str]]:
    """event id -> (id, status) of this client's messages already stored with those ids."""
    tenancy.bind(session, client_id)
    rows = session.connection().execute(
        select(_MESSAGES.c.event_id, _MESSAGES.c.id, _MESSAGES.c.status).where(
            _MESSAGES.c.client_id == client_id, _MESSAGES.c.event_id.in_(event_ids)
        )
    )
    return {event_id: (id_, status) for event_id, id_, status in rows}


def bare_message_id(message_id: str) -> str:
    """A Message-ID without its angle brackets: producers differ."""
    return message_id.strip().strip("<>")


def threads_of(session: Session, client_id: str, message_ids: list[str]) -> dict[str, str]:
    """bare Message-ID -> the conversation of this client's stored e-mail with that id (ids
    are compared with and without their angle brackets: producers differ)."""
    tenancy.bind(session, client_id)
    bare = {bare_message_id(m) for m in message_ids}
    if not bare:
        return {}
    rows = session.connection().execute(
        select(_MESSAGES.c.message_id, _MESSAGES.c.external_conversation_id).where(
            _MESSAGES.c.client_id == client_id,
            _MESSAGES.c.message_id.in_(sorted(bare | {f"<{b}>" for b in bare})),
            _MESSAGES.c.external_conversation_id.is_not(None),
        )
    )
    found: dict[str, str] = {}
    for message_id, conversation in rows:
        found.setdefault(bare_message_id(message_id), conversation)
    return found


def get_message(session: Session, client_id: str, message_id: str) -> InboundMessage | None:
    tenancy.bind(session, client_id)
    return session.scalar(
        select(InboundMessage).where(
            InboundMessage.client_id == client_id, InboundMessage.id == message_id
        )
    )
