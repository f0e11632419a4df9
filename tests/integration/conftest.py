"""A Runtime wired to real Postgres, real Redis and the fake model server over HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from tests.conftest import REDIS_URL
from worker.bootstrap import Runtime, bootstrap
from worker.ports import Handover
from worker.settings import Settings
from worker.store import tenants

pytestmark = pytest.mark.integration


@dataclass
class RecordingDispatcher:
    """Stands in for Celery in tests that drive the stages directly; keeps what was handed over."""

    handed: list[tuple[str, str, str]] = field(default_factory=list)
    delays: dict[str, float] = field(default_factory=dict)  # message id -> delay_seconds

    def enqueue(self, handovers: list[Handover]) -> None:
        for h in handovers:
            self.handed.append((h.client_id, h.message_id, h.channel))
            self.delays[h.message_id] = h.delay_seconds


@pytest.fixture
def make_runtime(database_url, redis_client, stream_names, fake_llm):  # noqa: ANN001
    built: list[Runtime] = []
    namespace = f"test:{uuid.uuid4().hex[:10]}"  # this test's breakers, limits and budgets

    def _make(**overrides: object) -> Runtime:
        values = {
            "redis_namespace": namespace,
            "database_url": database_url,
            "redis_url": REDIS_URL,
            "llm_model": "openai/primary",
            "llm_api_base": fake_llm.url,
            "llm_api_key": "sk-test",
            "lead_hash_key": "test-secret",
            "llm_retry_base_seconds": 0.01,
            "llm_retry_max_seconds": 0.02,
            "llm_timeout_seconds": 2.0,
            **stream_names,
            **overrides,
        }
        rt = bootstrap(Settings(**values), RecordingDispatcher())
        built.append(rt)
        return rt

    yield _make
    for rt in built:
        rt.close()
    for key in redis_client.scan_iter(match=f"*{namespace}*", count=1000):
        redis_client.delete(key)


@pytest.fixture
def rt(make_runtime) -> Runtime:  # noqa: ANN001
    return make_runtime()


def set_config(rt: Runtime, client_id: str, **fields: object) -> str:
    with rt.sessions.begin() as session:
        config_id = tenants.activate_new_config(session, client_id, fields, register=True).id
    rt.configs.invalidate(client_id)
    return config_id


def push(rt: Runtime, channel: str, payload: dict | bytes) -> str:
    """XADD as a producer does: one `payload` field holding the JSON event."""
    import orjson

    raw = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    return rt.redis.xadd(rt.settings.stream_for(channel), {"payload": raw}).decode()


def outbound(rt: Runtime) -> list[dict]:
    import orjson

    return [orjson.loads(f[b"payload"]) for _id, f in rt.redis.xrange(rt.settings.outbound_stream)]
