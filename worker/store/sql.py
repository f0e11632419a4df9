"""Hand-written SQL for the drafting hot path.

The statements a draft runs on every claim and save (and recall's searches) are written out as
SQL strings and sent straight to psycopg through the session's connection: compiling a
SQLAlchemy Core statement and processing its result cost the worker more CPU than Postgres
spent running it (py-spy on bench/throughput.py). Everything else keeps SQLAlchemy.

Parameters use psycopg's `%(name)s` style; a statement text is a module constant, so psycopg
and Postgres see the same text every time (Postgres prepares it after a few executions).
"""

from __future__ import annotations

from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy.orm import Session


def run(session: Session, sql: str, params: dict[str, Any] | None = None) -> Any:
    """Execute `sql` in the session's transaction; the driver-level result (rows as tuples)."""
    return session.connection().exec_driver_sql(sql, params or {})


def json(value: Any) -> Jsonb:
    """A value for a jsonb parameter."""
    return Jsonb(value)
