"""An inbound message's way through drafting: claimed under a lease, drafted, failed (for now,
for good, or deferred), skipped as superseded, handed back by beat, requeued by an operator.
Writes the inbound_messages table only."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from worker.statuses import RETRYABLE, FailureKind, MessageStatus
from worker.store import leases, sql
from worker.store.models import InboundMessage, utcnow
from worker.store import tenancy


def claim_message(
    session: Session, client_id: str, message_id: str, lease_seconds: int, owner: str
) -> tuple[InboundMessage, bool, str | None] | None:
    """Take the message for drafting, unless it is drafted, failed for good, or leased to another:
    (the message, whether the lead wrote again in its conversation since, its lead key), all in
    the one UPDATE … RETURNING.

    `owner` (the task id) may retake its own lease at once, e.g. when the task is retried
    after the database came back.
    """
    tenancy.bind(session, client_id)
    row = leases.claim(session, _CLAIM, owner=owner, lease_seconds=lease_seconds,
                       client_id=client_id, message_id=message_id)
    if row is None:
        return None
    *columns, superseded, lead_key = row
    # A detached message without `raw` (the event as received: drafting never reads it).
    message = InboundMessage(**dict(zip(_ATTRIBUTES, columns)))
    return message, bool(superseded), lead_key


# Every column a draft may read (not `raw`), by attribute name (`metadata` is `metadata_`).
_COLUMNS = [c for c in InboundMessage.__table__.columns if c.name != "raw"]
_ATTRIBUTES = [InboundMessage.__mapper__.get_property_by_column(c).key for c in _COLUMNS]
_CLAIM = leases.claim_sql(
    "inbound_messages",
    where="inbound_messages.client_id = %(client_id)s AND inbound_messages.id = %(message_id)s",
    ready=(f"inbound_messages.status = '{MessageStatus.RECEIVED}' OR "
           f"(inbound_messages.status = '{MessageStatus.FAILED}' AND inbound_messages.failure_kind"
           f" IN ({', '.join(repr(str(k)) for k in RETRYABLE)}))"),
    working=MessageStatus.DRAFTING,
    also_set=", updated_at = %(now)s",
    returning=", ".join(f"inbound_messages.{c.name}" for c in _COLUMNS) + ", "
    # Has the lead written again in this conversation since? Ids are ULIDs, ordered by
    # arrival, so this does not trust the producers' clocks.
    "EXISTS (SELECT 1 FROM inbound_messages AS newer WHERE newer.client_id = %(client_id)s"
    " AND newer.conversation_id = inbound_messages.conversation_id"
    " AND newer.id > inbound_messages.id), "
    "(SELECT leads.lead_key FROM leads WHERE leads.id = inbound_messages.lead_id"
    " AND leads.client_id = %(client_id)s)",
)


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
    tenancy.bind(session, client_id)
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
    tenancy.bind(session, client_id)
    sql.run(session, _DRAFTED, {"client_id": client_id, "id": message_id, "now": utcnow()})


# Hand-written: every draft runs it (worker/store/sql.py).
_DRAFTED = (
    f"UPDATE inbound_messages SET status = '{MessageStatus.DRAFTED}', lease_until = NULL, "
    "failure_kind = NULL, last_error = NULL, next_attempt_at = NULL, updated_at = %(now)s "
    "WHERE client_id = %(client_id)s AND id = %(id)s"
)


def mark_superseded(session: Session, client_id: str, message_id: str) -> None:
    tenancy.bind(session, client_id)
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


def due_for_retry(
    session: Session, limit: int, stale_after_seconds: int
) -> list[tuple[str, str, str, bool]]:
    """(client_id, message_id, channel, never_picked_up) of messages that should be drafting
    but are not: transient failures whose retry time has come, expired leases (a worker died),
    and messages stored long ago but never picked up (their task was lost with Redis, or sat
    behind chat all that time).

    A scheduler query over all tenants: it reads ids only and hands each back to its own tenant.
    """
    tenancy.all_clients(session)
    now = utcnow()
    stale = now - timedelta(seconds=stale_after_seconds)
    rows = session.execute(
        select(InboundMessage.client_id, InboundMessage.id, InboundMessage.channel,
               InboundMessage.status == MessageStatus.RECEIVED)
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
    tenancy.bind(session, client_id)
    stmt = select(InboundMessage).where(
        InboundMessage.client_id == client_id, InboundMessage.status == MessageStatus.FAILED
    )
    if kind:
        stmt = stmt.where(InboundMessage.failure_kind == kind)
    return list(session.scalars(stmt.order_by(InboundMessage.updated_at.desc()).limit(limit)))


def requeue_failed(session: Session, client_id: str, message_id: str | None) -> int:
    """An operator's retry: the message becomes due now with a fresh attempt budget (marked
    transient, so beat's next reprocessing run hands it to a worker)."""
    tenancy.bind(session, client_id)
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


# Hand-written (worker/store/sql.py): the ingress asks this every read while a tenant has no
# room; `= ANY` keeps one statement text whatever the number of tenants.
_IN_FLIGHT = (
    "SELECT client_id, status, count(*) FROM inbound_messages "
    f"WHERE status IN ('{MessageStatus.RECEIVED}', '{MessageStatus.DRAFTING}') "
    "AND channel = %(channel)s AND client_id = ANY(%(clients)s) GROUP BY client_id, status"
)


def in_flight_by_client(
    session: Session, channel: str, client_ids: list[str]
) -> dict[str, tuple[int, int]]:
    """client_id -> (waiting for a worker, being drafted) of the channel's messages, for the
    ingress's per-tenant admission (worker/adapters/lanes.py). Only rows in those two states are
    read, and the ingress keeps them few per tenant.

    A scheduler query over the tenants named: counts only, each tenant's read back to it.
    """
    if not client_ids:
        return {}
    tenancy.all_clients(session)
    rows = sql.run(session, _IN_FLIGHT, {"channel": channel, "clients": list(client_ids)})
    out: dict[str, tuple[int, int]] = {}
    for client_id, status, n in rows:
        waiting, drafting = out.get(client_id, (0, 0))
        if status == MessageStatus.RECEIVED:
            waiting += n
        else:
            drafting += n
        out[client_id] = (waiting, drafting)
    return out
