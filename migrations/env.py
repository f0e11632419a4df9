"""Alembic environment: the URL comes from DATABASE_URL (worker.settings), never from a file."""

from alembic import context
from sqlalchemy import pool

from worker.settings import Settings
from worker.store.db import make_engine
from worker.store.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    engine = make_engine(Settings())
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection) -> None:  # noqa: ANN001
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
