"""A time limit on the statements of one step inside a larger transaction.

Recall runs inside the claim transaction: a cancelled statement must not abort the claim, so the
step runs under a savepoint with a local `statement_timeout`, and on a timeout only the savepoint
is rolled back.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from psycopg import errors as pg_errors
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from worker.errors import RecallTimedOut


@contextmanager
def time_limit(session: Session, seconds: float) -> Iterator[None]:
    savepoint = session.begin_nested()
    try:
        previous = session.execute(
            text("SELECT current_setting('statement_timeout'), "
                 "set_config('statement_timeout', :ms, true)"),
            {"ms": str(max(1, int(seconds * 1000)))},
        ).scalar()
        yield
        session.execute(text("SELECT set_config('statement_timeout', :v, true)"), {"v": previous})
    except OperationalError as exc:
        savepoint.rollback()  # also undoes the timeout setting
        if isinstance(exc.orig, pg_errors.QueryCanceled):
            raise RecallTimedOut(f"over its budget of {seconds:g} s") from exc
        raise
    except BaseException:
        savepoint.rollback()
        raise
    savepoint.commit()
