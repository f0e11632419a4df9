"""Inbound messages: stored once per (client, eventId), then claimed by one worker at a time."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from worker.statuses import MessageStatus
from worker.store import memory
from worker.store.conversations import conversation_for_lead
from worker.store.models import Conversation, Draft, InboundMessage, Lead, new_id, utcnow


# Failure kinds beat hands back to a worker when their time comes. "deferred": the client was
# over its rate limit or budget; it waits without using up its attempts.
_RETRYABLE = ("transient", "deferred")


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
    raw: bytes | None = None  # the message as it came, before any cleaning
    # Raised by the inbound cleaning: [{"code": "inbound_…", "detail": …}], shown on the draft.
    inbound_flags: tuple[dict[str, str], ...] = ()


@dataclass(frozen=True)
class StoredRef:
    client_id: str
    message_id: str
    channel: str
    needs_drafting: bool  # False when a repeat of an event already being or done drafting


def _upsert_lead(session: Session, msg: NewMessage) -> str | None:
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


def _upsert_conversation(session: Session, msg: NewMessage, lead_id: str | None) -> str | None:
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


def store_messages(session: Session, messages: list[NewMessage]) -> list[StoredRef]:
    """Insert each message unless its (client, eventId) is already stored; every new message
    that is not skipped joins its client's memory in the same transaction."""
    refs: list[StoredRef] = []
    remembered: dict[str, list[memory.MemoryWrite]] = {}
    for msg in messages:
        if msg.thread_parent:
            parent_thread = _thread_of(session, msg.client_id, msg.thread_parent)
            if parent_thread:
                msg = replace(msg, external_conversation_id=parent_thread)
        lead_id = _upsert_lead(session, msg)
        if msg.external_conversation_id:  # joined only if it is this lead's (conversations.py)
            msg = replace(msg, external_conversation_id=conversation_for_lead(
                session, msg.client_id, msg.external_conversation_id, lead_id, msg.lead_key))
        conversation_id = _upsert_conversation(session, msg, lead_id)
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
                status="skipped" if msg.skip_reason else "received",
                last_error=msg.skip_reason,
                attempts=0,
            )
            .on_conflict_do_nothing(index_elements=["client_id", "event_id"])
            .returning(InboundMessage.id)
        )
        new_row_id = session.scalar(stmt)
        if new_row_id is not None:
            refs.append(
                StoredRef(msg.client_id, new_row_id, msg.channel, msg.skip_reason is None)
            )
            if msg.external_conversation_id and msg.skip_reason is None:
                _withdraw_pending(session, msg.client_id, msg.external_conversation_id, lead_id)
            if msg.skip_reason is None:
                remembered.setdefault(msg.client_id, []).append(_memory_of(msg, new_row_id))
            continue
        existing = session.execute(
            select(InboundMessage.id, InboundMessage.status).where(
                InboundMessage.client_id == msg.client_id,
                InboundMessage.event_id == msg.event_id,
            )
        ).one()
        # Stored but never picked up (e.g. we died between storing and enqueueing): hand it
        # over again. The claim below makes a second hand-over harmless.
        refs.append(StoredRef(msg.client_id, existing.id, msg.channel, existing.status == "received"))
    for client_id, writes in remembered.items():
        memory.remember(session, client_id, writes)
    return refs


def _thread_of(session: Session, client_id: str, message_id: str) -> str | None:
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


def _memory_of(msg: NewMessage, message_id: str) -> memory.MemoryWrite:
    text = f"{msg.subject}\n{msg.new_text}" if msg.subject else msg.new_text
    return memory.MemoryWrite(
        kind="inbound_message",
        text=text,
        lead_key=msg.lead_key,
        conversation_id=msg.external_conversation_id,
        source_ref=f"message:{message_id}",
        created_at=msg.received_at,
    )


def _withdraw_pending(
    session: Session, client_id: str, conversation: str, lead_id: str | None
) -> None:
    """The lead wrote again: drafts still waiting for review in that conversation answer an
    outdated message. They are withdrawn; the new message gets its own draft. Only drafts of
    this lead's own messages: nobody else's message can withdraw them."""
    same_lead = select(InboundMessage.id).where(
        InboundMessage.client_id == client_id,
        InboundMessage.lead_id == lead_id if lead_id else InboundMessage.lead_id.is_(None),
    )
    session.execute(
        update(Draft)
        .where(
            Draft.client_id == client_id,
            Draft.conversation_id == conversation,
            Draft.status == "pending_review",
            Draft.inbound_message_id.in_(same_lead),
        )
        .values(status="withdrawn"),
        execution_options={"synchronize_session": False},
    )


def claim_message(
    session: Session, client_id: str, message_id: str, lease_seconds: int, owner: str
) -> InboundMessage | None:
    """Take the message for drafting, unless it is drafted, failed for good, or leased to another.

    `owner` (the task id) may retake its own lease at once, e.g. when the task is retried
    after the database came back.
    """
    now = utcnow()
    claimable = or_(
        InboundMessage.status == "received",
        and_(InboundMessage.status == "failed", InboundMessage.failure_kind.in_(_RETRYABLE)),
        and_(
            InboundMessage.status == "drafting",
            or_(InboundMessage.lease_until < now, InboundMessage.lease_owner == owner),
        ),
    )
    stmt = (
        update(InboundMessage)
        .where(InboundMessage.client_id == client_id, InboundMessage.id == message_id, claimable)
        .values(
            status="drafting",
            attempts=InboundMessage.attempts + 1,
            lease_until=now + timedelta(seconds=lease_seconds),
            lease_owner=owner,
            updated_at=now,
        )
        .returning(InboundMessage)
    )
    return session.scalar(stmt, execution_options={"synchronize_session": False})


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
    attempts = InboundMessage.attempts - 1 if kind == "deferred" else InboundMessage.attempts
    session.execute(
        update(InboundMessage)
        .where(InboundMessage.client_id == client_id, InboundMessage.id == message_id)
        .where(InboundMessage.status == "drafting")
        .values(
            status="failed",
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
            status="skipped",
            last_error="superseded: the lead wrote again before this was drafted",
            lease_until=None,
            updated_at=utcnow(),
        ),
        execution_options={"synchronize_session": False},
    )


def earlier_messages(
    session: Session, client_id: str, message: InboundMessage, limit: int
) -> list[InboundMessage]:
    """The same lead's (or, without a lead, the same conversation's) earlier messages."""
    if message.lead_id:
        same_person = InboundMessage.lead_id == message.lead_id
    elif message.conversation_id:
        same_person = InboundMessage.conversation_id == message.conversation_id
    else:
        return []
    return list(
        session.scalars(
            select(InboundMessage)
            .where(
                InboundMessage.client_id == client_id,
                same_person,
                InboundMessage.id != message.id,
                InboundMessage.received_at <= message.received_at,
            )
            .order_by(InboundMessage.received_at.desc())
            .limit(limit)
        )
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
                    InboundMessage.status == "failed",
                    InboundMessage.failure_kind.in_(_RETRYABLE),
                    InboundMessage.next_attempt_at <= now,
                ),
                and_(InboundMessage.status == "drafting", InboundMessage.lease_until < now),
                and_(InboundMessage.status == "received", InboundMessage.created_at < stale),
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
        InboundMessage.client_id == client_id, InboundMessage.status == "failed"
    )
    if kind:
        stmt = stmt.where(InboundMessage.failure_kind == kind)
    return list(session.scalars(stmt.order_by(InboundMessage.updated_at.desc()).limit(limit)))


def requeue_failed(session: Session, client_id: str, message_id: str | None) -> int:
    """An operator's retry: the message becomes due now with a fresh attempt budget (marked
    transient, so beat's next reprocessing run hands it to a worker)."""
    stmt = update(InboundMessage).where(
        InboundMessage.client_id == client_id, InboundMessage.status == "failed"
    )
    if message_id:
        stmt = stmt.where(InboundMessage.id == message_id)
    now = utcnow()
    result = session.execute(
        stmt.values(
            status="failed",
            failure_kind="transient",
            attempts=0,
            next_attempt_at=now,
            updated_at=now,
        ),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount
