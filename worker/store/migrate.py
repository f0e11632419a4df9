"""Apply every migration; safe to run twice and from several processes at once."""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from worker.settings import Settings
from worker.store.db import make_engine

# Any fixed number: concurrent `migrate` runs (two release phases) wait for each other.
_MIGRATION_LOCK = 7_318_001


def alembic_config() -> Config:
    cfg = Config()
    # Located, not imported: migrations/env.py imports the store, never the other way round.
    cfg.set_main_option("script_location", str(files("migrations")))
    return cfg


def upgrade(settings: Settings, revision: str = "head") -> None:
    engine = make_engine(settings)
    try:
        with engine.begin() as connection:
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
            cfg = alembic_config()
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, revision)
    finally:
        engine.dispose()
