"""Shared fixtures. Integration tests run on real Postgres and Redis: each test gets a fresh
database cloned from a template migrated once, and its own stream names. Without the services
they are skipped on a laptop but fail under CI (CI=true), where skipping would hide breakage."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _embedded_services_if_none_answer() -> None:
    """On a machine where the usual Postgres or Redis does not answer (a laptop, a fresh clone),
    run the tests on the embedded servers `agent-runtime demo` uses, started once for the
    session in a temporary directory and stopped at exit. Never under CI, which provides the
    services (a missing one must fail there), nor with TEST_EMBEDDED=0."""
    global PG_ADMIN_URL, REDIS_URL
    if os.environ.get("CI") or os.environ.get("TEST_EMBEDDED") == "0":
        return
    pg_down = redis_down = False
    try:
        psycopg.connect(PG_ADMIN_URL, connect_timeout=2).close()
    except psycopg.OperationalError:
        pg_down = True
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError:
        redis_down = True
    if not (pg_down or redis_down):
        return
    import atexit
    import shutil
    import tempfile

    from worker.embedded.servers import EmbeddedPostgres, EmbeddedRedis, free_port

    root = Path(tempfile.mkdtemp(prefix="agent-runtime-tests-"))
    started: list = []

    def stop() -> None:
        for server in reversed(started):
            server.stop()
        shutil.rmtree(root, ignore_errors=True)

    atexit.register(stop)
    if redis_down:
        server = EmbeddedRedis(root / "redis", free_port(), root / "redis.log")
        server.start()
        started.append(server)
        REDIS_URL = server.url
    if pg_down:
        server = EmbeddedPostgres(root / "postgres", free_port(), root / "postgres.log",
                                  throwaway=True)
        server.start()
        started.append(server)
        PG_ADMIN_URL = server.admin_url
    # Subprocesses (the CLI tests, the fault harness) read the same variables.
    os.environ["TEST_PG_ADMIN_URL"], os.environ["TEST_REDIS_URL"] = PG_ADMIN_URL, REDIS_URL


_embedded_services_if_none_answer()
TEMPLATE_DB = f"agent_runtime_tpl_{os.getpid()}"
# The project's shared/ folder (datasets) sits beside the checkout; SHARED_DIR overrides.
SHARED_DIR = Path(os.environ.get("SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))


# Small datasets are vendored under tests/data (with their licences): they are there in a clone.
VENDORED_DATA = Path(__file__).resolve().parent / "data"


def shared_dataset(name: str) -> Path:
    """tests/data/NAME, else a folder of ../shared/datasets; skipped on a laptop without it, a
    failure under CI."""
    if (VENDORED_DATA / name).is_dir():
        return VENDORED_DATA / name
    path = SHARED_DIR / "datasets" / name
    if not path.is_dir():
        _unavailable(f"dataset {path}", FileNotFoundError(path))
    return path


def _unavailable(what: str, exc: Exception) -> None:
    message = f"{what} is not reachable ({exc})"
    if os.environ.get("CI"):
        pytest.fail(message + " — CI must provide it")
    pytest.skip(message)


def _sa_url(dbname: str) -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{dbname}"


def _admin() -> psycopg.Connection:
    return psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    try:
        conn = _admin()
    except psycopg.OperationalError as exc:
        _unavailable("PostgreSQL", exc)
    from worker.settings import Settings
    from worker.store.migrate import upgrade

    with conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}"')
        conn.execute(f'CREATE DATABASE "{TEMPLATE_DB}"')
    upgrade(Settings(database_url=_sa_url(TEMPLATE_DB)))
    yield TEMPLATE_DB
    with _admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}" WITH (FORCE)')


@pytest.fixture
def database_url(pg_template: str) -> Iterator[str]:
    name = f"agent_runtime_t_{uuid.uuid4().hex[:12]}"
    with _admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    yield _sa_url(name)
    with _admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        _unavailable("Redis", exc)
    yield client
    client.close()


@pytest.fixture
def stream_names(redis_client: redis.Redis) -> Iterator[dict[str, str]]:
    """Stream names of this test alone, deleted afterwards."""
    prefix = f"test:{uuid.uuid4().hex[:10]}"
    names = {
        "inbound_email_stream": f"{prefix}:inbound:email",
        "inbound_chat_stream": f"{prefix}:inbound:chat",
        "outbound_stream": f"{prefix}:outbound:drafts",
        "outbound_decisions_stream": f"{prefix}:outbound:decisions",
    }
    yield names
    redis_client.delete(*names.values())
    for key in redis_client.scan_iter(match=f"{prefix}:*", count=1000):  # tenant lanes
        redis_client.delete(key)


@pytest.fixture(scope="session")
def fake_llm():
    from tests.support.fake_llm import FakeLLM, RunningServer
    from worker.adapters.llm_litellm import warm_up

    warm_up()  # litellm loaded once, as a worker does before it says ready: not in a test's timing
    server = RunningServer(FakeLLM()).start()
    yield server
    server.stop()
