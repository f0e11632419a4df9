"""Recall's time budget: Postgres cancels a statement past it, and that reads as RecallTimedOut.

The budget itself is the transaction's `statement_timeout`, set when the transaction is bound to
its tenant (`tenancy.bind(..., statement_timeout=…)`, the same statement). There is no savepoint
around recall: a savepoint, its release and setting and resetting the timeout were four round
trips on every draft to protect against a case that is rare. A cancelled statement aborts the
whole transaction instead, so whoever owns it ends it and carries on without memory
(worker/store/drafting.py claims again; `memory search` goes on with its next query).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from psycopg import errors as pg_errors
from sqlalchemy.exc import OperationalError

from worker.errors import RecallTimedOut


@contextmanager
def budget(seconds: float) -> Iterator[None]:
    """Statements cancelled by the transaction's `statement_timeout` raise RecallTimedOut; the
    transaction is then aborted and must be ended by its owner."""
    try:
        yield
    except OperationalError as exc:
        if isinstance(exc.orig, pg_errors.QueryCanceled):
            raise RecallTimedOut(f"over its budget of {seconds:g} s") from exc
        raise
