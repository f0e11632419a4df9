"""One lease machinery for every table whose rows are worked on by one worker at a time
(inbound messages being drafted, knowledge-base documents being processed).

A row is claimed with one UPDATE … RETURNING: it must be ready (the table says what that
means), or held by a lease that expired, or held by the claiming owner itself (a retried task
takes its own lease back at once). A claim counts an attempt. A lease that expired means its
worker died or stalled: the table's sweeper hands the row to a worker again.

The claim is hand-written SQL (worker/store/sql.py): a draft claims its message every time, and
building the statement with SQLAlchemy cost more CPU than running it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, update
from sqlalchemy.orm import Session

from worker.store import sql
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


def claim_sql(table: str, *, where: str, ready: str, working: str, returning: str,
              also_set: str = "") -> str:
    """The claim statement for `table` (built once per table, at import). `where` picks the
    row, `ready` says when it may be claimed afresh, `returning` what the claim returns;
    `also_set` adds assignments. They are SQL text written in the calling module, never
    input; `working` is a status constant. Parameters: %(now)s, %(lease_until)s, %(owner)s,
    and the ones `where` and `returning` name."""
    return (
        f"UPDATE {table} SET status = '{working}', attempts = {table}.attempts + 1, "
        f"lease_until = %(lease_until)s, lease_owner = %(owner)s{also_set} "
        f"WHERE {where} AND ({ready} OR ({table}.status = '{working}' AND "
        f"({table}.lease_until < %(now)s OR {table}.lease_owner = %(owner)s))) "
        f"RETURNING {returning}"
    )


def claim(session: Session, statement: str, *, owner: str, lease_seconds: float,
          **params: Any) -> Any:
    """Lease the row `statement` (from `claim_sql`) picks to `owner`: its RETURNING row, or
    None when it is not ready, or leased to another owner until later."""
    now = utcnow()
    return sql.run(session, statement, {
        "now": now, "lease_until": now + timedelta(seconds=lease_seconds), "owner": owner,
        **params,
    }).first()
