"""Engine and sessions, created once per process after fork (never at import)."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from worker.errors import ConfigurationError
from worker.settings import Settings


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


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
