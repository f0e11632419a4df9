"""Engine and sessions, created once per process after fork (never at import)."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from worker.errors import ConfigurationError
from worker.settings import Settings
from worker.store.tenancy import APP_ROLE, ROLE_KEY


def make_engine(settings: Settings) -> Engine:
    if not settings.database_url:
        raise ConfigurationError(
            "DATABASE_URL is not set (postgresql+psycopg://…); `agent-runtime demo` and "
            "`agent-runtime up` bring their own Postgres")
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
