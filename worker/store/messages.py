"""Inbound messages: stored once per (client, eventId), then claimed by one worker at a time.
This module writes the inbound_messages table only; worker/ingress/accept.py composes it with
leads, drafts and memory when messages arrive."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from worker.statuses import RETRYABLE, FailureKind, MessageStatus
from worker.store import leases
from worker.store.models import InboundMessage, new_id, utcnow


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
    row = session.execute(
        select(InboundMessage.id, InboundMessage.status).where(
            InboundMessage.client_id == client_id, InboundMessage.event_id == event_id
        )
    ).one()
    return row.id, row.status


def thread_of(session: Session, client_id: str, message_id: str) -> str | None:
    """The conversation of this client's stored e-mail with that Message-ID, if any (ids are
    compared with and without their angle brackets: producers differ)."""
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


def claim_message(
    session: Session, client_id: str, message_id: str, lease_seconds: int, owner: str
) -> InboundMessage | None:
    """Take the message for drafting, unless it is drafted, failed for good, or leased to another.

    `owner` (the task id) may retake its own lease at once, e.g. when the task is retried
    after the database came back.
    """
    ready = or_(
        InboundMessage.status == MessageStatus.RECEIVED,
        and_(InboundMessage.status == MessageStatus.FAILED,
             InboundMessage.failure_kind.in_(RETRYABLE)),
    )
    row = leases.claim(
        session, InboundMessage,
        [InboundMessage.client_id == client_id, InboundMessage.id == message_id],
        ready=ready, working=MessageStatus.DRAFTING, owner=owner, lease_seconds=lease_seconds,
        returning=(InboundMessage,), updated_at=utcnow(),
    )
    return row[0] if row else None


def record_failure(
    session: Session,
    client_id: str,
    message_id: str,
    *,
    kind: str,
    error: str,
    next_attempt_at: datetime | None,
) -> None:
    """Release the lease with the reason there is no draft. kind: transient | permanent |
    deferred (over a limit: waiting is not a failed attempt, so it gives the attempt back)."""
    attempts = InboundMessage.attempts - 1 if kind == FailureKind.DEFERRED else InboundMessage.attempts
    session.execute(
        update(InboundMessage)
        .where(InboundMessage.client_id == client_id, InboundMessage.id == message_id)
        .where(InboundMessage.status == MessageStatus.DRAFTING)
        .values(
            status=MessageStatus.FAILED,
            failure_kind=kind,
            attempts=attempts,
            last_error=error[:4000],
            lease_until=None,
            next_attempt_at=next_attempt_at,
            updated_at=utcnow(),
        ),
        execution_options={"synchronize_session": False},
    )


def mark_drafted(session: Session, client_id: str, message_id: str) -> None:
    session.execute(
        update(InboundMessage)
        .where(InboundMessage.client_id == client_id, InboundMessage.id == message_id)
        .values(
            status=MessageStatus.DRAFTED,
            lease_until=None,
            failure_kind=None,
            last_error=None,
            next_attempt_at=None,
            updated_at=utcnow(),
        ),
        execution_options={"synchronize_session": False},
    )


def has_newer_in_conversation(session: Session, client_id: str, message: InboundMessage) -> bool:
    """Has the lead written again in this conversation since `message` arrived? Ids are ULIDs,
    ordered by arrival, so this does not trust the producers' clocks."""
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


def mark_superseded(session: Session, client_id: str, message_id: str) -> None:
    session.execute(
        update(InboundMessage)
        .where(InboundMessage.client_id == client_id, InboundMessage.id == message_id)
        .values(
            status=MessageStatus.SKIPPED,
            last_error="superseded: the lead wrote again before this was drafted",
            lease_until=None,
            updated_at=utcnow(),
        ),
        execution_options={"synchronize_session": False},
    )


def get_message(session: Session, client_id: str, message_id: str) -> InboundMessage | None:
    return session.scalar(
        select(InboundMessage).where(
            InboundMessage.client_id == client_id, InboundMessage.id == message_id
        )
    )


def due_for_retry(
    session: Session, limit: int, stale_after_seconds: int
) -> list[tuple[str, str, str]]:
    """(client_id, message_id, channel) of messages that should be drafting but are not:
    transient failures whose retry time has come, expired leases (a worker died), and messages
    stored long ago but never picked up (their task was lost with Redis).

    A scheduler query over all tenants: it reads ids only and hands each back to its own tenant.
    """
    now = utcnow()
    stale = now - timedelta(seconds=stale_after_seconds)
    rows = session.execute(
        select(InboundMessage.client_id, InboundMessage.id, InboundMessage.channel)
        .where(
            or_(
                and_(
                    InboundMessage.status == MessageStatus.FAILED,
                    InboundMessage.failure_kind.in_(RETRYABLE),
                    InboundMessage.next_attempt_at <= now,
                ),
                leases.expired(InboundMessage, MessageStatus.DRAFTING, now),
                and_(InboundMessage.status == MessageStatus.RECEIVED, InboundMessage.created_at < stale),
            )
        )
        .order_by(InboundMessage.created_at)
        .limit(limit)
    )
    return [tuple(r) for r in rows]


def list_failed(
    session: Session, client_id: str, kind: str | None, limit: int
) -> list[InboundMessage]:
    stmt = select(InboundMessage).where(
        InboundMessage.client_id == client_id, InboundMessage.status == MessageStatus.FAILED
    )
    if kind:
        stmt = stmt.where(InboundMessage.failure_kind == kind)
    return list(session.scalars(stmt.order_by(InboundMessage.updated_at.desc()).limit(limit)))


def requeue_failed(session: Session, client_id: str, message_id: str | None) -> int:
    """An operator's retry: the message becomes due now with a fresh attempt budget (marked
    transient, so beat's next reprocessing run hands it to a worker)."""
    stmt = update(InboundMessage).where(
        InboundMessage.client_id == client_id, InboundMessage.status == MessageStatus.FAILED
    )
    if message_id:
        stmt = stmt.where(InboundMessage.id == message_id)
    now = utcnow()
    result = session.execute(
        stmt.values(
            status=MessageStatus.FAILED,
            failure_kind=FailureKind.TRANSIENT,
            attempts=0,
            next_attempt_at=now,
            updated_at=now,
        ),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount
