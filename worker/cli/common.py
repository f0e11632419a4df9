"""What every command shares: settings, sessions, printing JSON."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import orjson
import typer
from sqlalchemy.orm import Session, sessionmaker

from worker import leads
from worker.settings import Settings
from worker.store.db import make_engine, make_session_factory


def settings() -> Settings:
    return Settings()


def embedder(cfg: Settings):  # noqa: ANN201 - worker.ports.Embedder | None
    """The embedding adapter when EMBEDDING_MODEL is set; litellm is imported only then."""
    if not cfg.embedding_model:
        return None
    from worker.adapters.embeddings_litellm import build_embedder

    return build_embedder(cfg)


def lead_secret(cfg: Settings) -> bytes | None:
    """The HMAC key of lead e-mail addresses, as ingress uses; None when LEAD_HASH_KEY is unset."""
    if cfg.lead_hash_key is None:
        return None
    return leads.lead_secret(cfg.lead_hash_key)


@contextmanager
def session_scope(cfg: Settings | None = None) -> Iterator[Session]:
    engine = make_engine(cfg or settings())
    try:
        with make_session_factory(engine, (cfg or settings()).db_app_role).begin() as session:
            yield session
    finally:
        engine.dispose()


@contextmanager
def sessions_scope(cfg: Settings | None = None) -> Iterator[sessionmaker[Session]]:
    """A session factory for commands that run several transactions."""
    engine = make_engine(cfg or settings())
    try:
        yield make_session_factory(engine, (cfg or settings()).db_app_role)
    finally:
        engine.dispose()


def print_json(data: object) -> None:
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")


def read_json_file(path: Path) -> dict:
    try:
        data = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        fail(f"no such file: {path}")
    except orjson.JSONDecodeError as exc:
        fail(f"{path} is not valid JSON: {exc}")
    if not isinstance(data, dict):
        fail(f"{path} must hold a JSON object")
    return data


def fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)
