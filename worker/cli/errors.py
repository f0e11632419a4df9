"""What a command says when a backing service refuses or a setting is missing: one line."""

from __future__ import annotations

import re

import psycopg
import redis
from sqlalchemy.exc import DBAPIError, OperationalError

from worker.errors import ConfigurationError

OUTAGES: tuple[type[BaseException], ...] = (
    ConfigurationError, OperationalError, psycopg.OperationalError,
    redis.ConnectionError, redis.TimeoutError,
)


def describe_outage(exc: BaseException) -> str:
    if isinstance(exc, ConfigurationError):
        return str(exc)
    if isinstance(exc, (redis.ConnectionError, redis.TimeoutError)):
        return f"Redis (REDIS_URL) is not reachable: {_first_line(exc)}"
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    return f"Postgres (DATABASE_URL) is not reachable: {_first_line(cause)}"


def _first_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split("\n")[:2]).strip()
    text = re.sub(r"\s+", " ", text)
    return (text or type(exc).__name__)[:300]


def require_services(database_url: str | None, redis_url: str) -> None:
    """Connect to Postgres and Redis once before a long-running process starts its threads, so
    one that refuses is reported as one line (and exit 1) rather than by every thread."""
    from worker.errors import ConfigurationError as _Missing

    if not database_url:
        raise _Missing("DATABASE_URL is not set (postgresql+psycopg://…); `agent-runtime demo` "
                       "and `agent-runtime up` bring their own Postgres")
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=3)
    try:
        client.ping()
    finally:
        client.close()
    url = re.sub(r"^postgresql\+\w+://", "postgresql://", database_url)
    psycopg.connect(url, connect_timeout=3).close()
