"""One lease machinery for every table whose rows are worked on by one worker at a time
(inbound messages being drafted, knowledge-base documents being processed).

A row is claimed with one UPDATE … RETURNING: it must be ready (the table says what that
means), or held by a lease that expired, or held by the claiming owner itself (a retried task
takes its own lease back at once). A claim counts an attempt. A lease that expired means its
worker died or stalled: the table's sweeper hands the row to a worker again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, update
from sqlalchemy.orm import Session

from worker.store.models import utcnow


def expired(model: Any, working: str, now: datetime) -> ColumnElement[bool]:
    """Rows being worked on whose lease ran out."""
    return and_(model.status == working, model.lease_until < now)


def held(model: Any, working: str, owner: str) -> ColumnElement[bool]:
    """Rows `owner` still works on (the sweeper has not handed them to another)."""
    return and_(model.status == working, model.lease_owner == owner)


def renew(
    session: Session, model: Any, where: list[ColumnElement[bool]], *, working: str, owner: str,
    lease_seconds: float,
) -> bool:
    """Extend `owner`'s lease on the row matching `where` while it still works on it; False
    once it lost it (the sweeper gave it to another, or the row moved on)."""
    return session.execute(
        update(model)
        .where(*where, held(model, working, owner))
        .values(lease_until=utcnow() + timedelta(seconds=lease_seconds)),
        execution_options={"synchronize_session": False},
    ).rowcount > 0


def claim(
    session: Session, model: Any, where: list[ColumnElement[bool]], *,
    ready: ColumnElement[bool], working: str, owner: str, lease_seconds: float,
    returning: tuple[Any, ...], **values: Any,
) -> Any:
    """Lease the row matching `where` to `owner`: the first row RETURNING `returning`, or None
    when it is not ready, or leased to another owner until later."""
    now = utcnow()
    claimable = or_(
        ready,
        and_(model.status == working, or_(model.lease_until < now, model.lease_owner == owner)),
    )
    stmt = (
        update(model)
        .where(*where, claimable)
        .values(
            status=working,
            attempts=model.attempts + 1,
            lease_until=now + timedelta(seconds=lease_seconds),
            lease_owner=owner,
            **values,
        )
        .returning(*returning)
    )
    return session.execute(stmt, execution_options={"synchronize_session": False}).first()
