"""What a client's review console lists: drafts by status, channel, age and flags, scoped by
client. Columns added by other migrations (`needs_human`, `flags`) are used when present."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from worker.store.models import Draft
from worker.store import tenancy
from worker.statuses import DraftStatus

NEEDS_HUMAN = getattr(Draft, "needs_human", None)
FLAGS = getattr(Draft, "flags", None)


@dataclass(frozen=True)
class QueueFilter:
    status: str | None = DraftStatus.PENDING_REVIEW  # None: every status
    channel: str | None = None
    since: datetime | None = None
    flagged: bool = False
    oldest_first: bool = False  # the draft waiting longest on top


def _flagged():  # noqa: ANN202
    """Degraded drafts always count as flagged; guardrail flags and needs_human when stored."""
    terms = [Draft.degraded.is_(True)]
    if NEEDS_HUMAN is not None:
        terms.append(NEEDS_HUMAN.is_(True))
    if FLAGS is not None:
        terms.append(func.coalesce(func.jsonb_array_length(FLAGS), 0) > 0)
    return or_(*terms)


def list_queue(session: Session, client_id: str, f: QueueFilter, limit: int = 200) -> list[Draft]:
    """Newest first (or oldest first); drafts that need a person before all others."""
    tenancy.bind(session, client_id)
    stmt = select(Draft).where(Draft.client_id == client_id)
    if f.status:
        stmt = stmt.where(Draft.status == f.status)
    if f.channel:
        stmt = stmt.where(Draft.channel == f.channel)
    if f.since is not None:
        stmt = stmt.where(Draft.created_at >= f.since)
    if f.flagged:
        stmt = stmt.where(_flagged())
    order = ([Draft.created_at.asc(), Draft.id.asc()] if f.oldest_first
             else [Draft.created_at.desc(), Draft.id.desc()])
    if NEEDS_HUMAN is not None:
        order.insert(0, func.coalesce(NEEDS_HUMAN, False).desc())
    return list(session.scalars(stmt.order_by(*order).limit(limit)))


def pending_fingerprint(session: Session, client_id: str) -> tuple:
    """Changes whenever a draft enters or leaves the pending queue (a cheap re-check for a
    console that may have missed a notification)."""
    tenancy.bind(session, client_id)
    return tuple(session.execute(
        select(func.count(), func.max(Draft.id), func.max(Draft.reviewed_at))
        .where(Draft.client_id == client_id, Draft.status == DraftStatus.PENDING_REVIEW)
    ).one())


@dataclass(frozen=True)
class LeadLine:
    message_id: str
    lead_name: str | None
    subject: str | None
    text: str


def lead_lines(session: Session, client_id: str, message_ids: list[str]) -> dict[str, LeadLine]:
    """The lead's words behind each listed draft, in one query."""
    tenancy.bind(session, client_id)
    from worker.store.models import InboundMessage

    if not message_ids:
        return {}
    rows = session.execute(
        select(InboundMessage.id, InboundMessage.lead_name, InboundMessage.subject,
               InboundMessage.new_text)
        .where(InboundMessage.client_id == client_id, InboundMessage.id.in_(message_ids))
    ).all()
    return {r.id: LeadLine(r.id, r.lead_name, r.subject, r.new_text) for r in rows}


def earlier_messages(session: Session, client_id: str, message, limit: int) -> list:  # noqa: ANN001
    """The same lead's (or, without a lead, the same conversation's) earlier messages, newest
    first: the thread a reviewer reads above the new one."""
    tenancy.bind(session, client_id)
    from worker.store.models import InboundMessage

    if message.lead_id:
        same_person = InboundMessage.lead_id == message.lead_id
    elif message.conversation_id:
        same_person = InboundMessage.conversation_id == message.conversation_id
    else:
        return []
    return list(session.scalars(
        select(InboundMessage)
        .where(InboundMessage.client_id == client_id, same_person,
               InboundMessage.id != message.id,
               InboundMessage.received_at <= message.received_at)
        .order_by(InboundMessage.received_at.desc())
        .limit(limit)
    ))
