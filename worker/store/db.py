"""Engine and sessions, created once per process after fork (never at import)."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from worker.settings import Settings
from worker.store.tenancy import APP_ROLE, ROLE_KEY


def make_engine(settings: Settings) -> Engine:
    if settings.is_sqlite:
        from pathlib import Path

        path = settings.database_url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(settings.database_url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # noqa: ANN001
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

        return engine
    return create_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_pre_ping=True,
        pool_recycle=1800,
    )


def make_session_factory(engine: Engine, app_role: str = APP_ROLE) -> sessionmaker[Session]:
    """`app_role`: the role each transaction switches to when the store binds it to a tenant
    (row-level security, worker/store/tenancy.py); "" keeps the connection's own role."""
    return sessionmaker(engine, expire_on_commit=False, info={ROLE_KEY: app_role})
