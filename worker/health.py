"""Is the deployment healthy, for one client or overall? `GET /api/agent/health` and
`agent-runtime health` print the same report.

Checks: the database answers; Redis answers; inbound stream lag and drafting queues are under
HEALTH_MAX_BACKLOG; at least one worker sent a heartbeat within HEALTH_HEARTBEAT_SECONDS;
the client's model is reachable (its circuit breaker is not open and LLM_API_BASE, when set,
accepts connections); and the client has an active config.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import redis
from redis.exceptions import ResponseError
from sqlalchemy import text

from worker.adapters import lanes
from worker.ports import ModelClient, Sessions
from worker.settings import Settings
from worker.store import tenants

WORKERS_KEY = "workers"  # sorted set under the namespace: worker name → last heartbeat (epoch s)
DRAFT_QUEUES = ("drafts.chat", "drafts.email")


@dataclass(frozen=True)
class QueueDepths:
    streams: dict[str, int]
    queues: dict[str, int]


@dataclass
class HealthReport:
    checks: dict[str, dict] = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        return all(c["ok"] for c in self.checks.values())

    def as_json(self) -> dict:
        return {"status": "ok" if self.healthy else "unhealthy", "checks": self.checks}


def beat_heart(client: redis.Redis, namespace: str, worker: str) -> None:
    key = f"{namespace}:{WORKERS_KEY}"
    now = time.time()
    pipe = client.pipeline(transaction=False)
    pipe.zadd(key, {worker: now})
    pipe.zremrangebyscore(key, "-inf", now - 24 * 3600)  # workers gone for a day
    pipe.execute()


def live_workers(client: redis.Redis, namespace: str, within_seconds: float) -> list[str]:
    members = client.zrangebyscore(f"{namespace}:{WORKERS_KEY}", time.time() - within_seconds,
                                   "+inf")
    return sorted(m.decode() for m in members)


def queue_depths(*, settings: Settings, redis: redis.Redis) -> QueueDepths:
    """Per inbound stream: entries not yet read by the group (lag) plus read but unacknowledged
    (pending). Per drafting queue: tasks waiting in the broker."""
    s, client = settings, redis
    streams: dict[str, int] = {}
    for stream in (s.inbound_chat_stream, s.inbound_email_stream):
        try:
            groups = client.xinfo_groups(stream)
        except ResponseError:  # no such stream yet: nothing waits
            streams[stream] = 0
            continue
        group = next((g for g in groups if _name(g) == s.consumer_group), None)
        if group is None:
            streams[stream] = client.xlen(stream)
        else:
            streams[stream] = int(group.get("lag") or 0) + int(group.get("pending") or 0)
    # E-mail moved to its tenant's lane (worker/adapters/lanes.py) still waits: a lane entry is
    # deleted once stored, so a lane's length is what waits in it.
    lane_names = list(client.hkeys(lanes.registry_key(s.inbound_email_stream)))
    if lane_names:
        pipe = client.pipeline(transaction=False)
        for lane in lane_names:
            pipe.xlen(lane)
        streams[s.inbound_email_stream] += sum(int(n) for n in pipe.execute())
    pipe = client.pipeline(transaction=False)
    for queue in DRAFT_QUEUES:
        pipe.llen(queue)
    queues = dict(zip(DRAFT_QUEUES, (int(n) for n in pipe.execute())))
    return QueueDepths(streams, queues)


def check_health(
    client_id: str | None, *, settings: Settings, redis: redis.Redis, sessions: Sessions,
    model_client: ModelClient,
) -> HealthReport:
    s, client = settings, redis
    report = HealthReport()
    report.checks["database"] = _timed(lambda: _db(sessions))
    report.checks["redis"] = _timed(lambda: {"ok": bool(client.ping())})
    report.checks["backlog"] = _timed(lambda: _backlog(s, client))
    report.checks["workers"] = _timed(lambda: _workers(s, client))
    client_model = None
    if client_id is not None:
        report.checks["config"] = _timed(lambda: _config(sessions, client_id))
        client_model = report.checks["config"].get("model")
    model = client_model or s.llm_model
    report.checks["model"] = _timed(lambda: _model(s, model_client, model))
    return report


def _name(group: dict) -> str:
    name = group.get("name")
    return name.decode() if isinstance(name, bytes) else str(name)


def _timed(check) -> dict:  # noqa: ANN001
    started = time.perf_counter()
    try:
        result = check()
    except Exception as exc:  # noqa: BLE001 - a failed check is the answer, not an error
        result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def _db(sessions: Sessions) -> dict:
    with sessions() as session:
        session.execute(text("SELECT 1"))
    return {"ok": True}


def _backlog(settings: Settings, client: redis.Redis) -> dict:
    depths = queue_depths(settings=settings, redis=client)
    worst = max([*depths.streams.values(), *depths.queues.values(), 0])
    return {"ok": worst <= settings.health_max_backlog, "streamLag": depths.streams,
            "queued": depths.queues, "limit": settings.health_max_backlog}


def _workers(settings: Settings, client: redis.Redis) -> dict:
    alive = live_workers(client, settings.redis_namespace, settings.health_heartbeat_seconds)
    return {"ok": bool(alive), "alive": alive}


def _config(sessions: Sessions, client_id: str) -> dict:
    with sessions() as session:
        if not tenants.client_exists(session, client_id):
            return {"ok": False, "error": "client is not registered"}
        row = tenants.active_config(session, client_id)
    if row is None:
        return {"ok": False, "error": "no active config: drafts use the defaults"}
    return {"ok": True, "configId": row.id, "version": row.version,
            "model": row.fields.get("model")}


def _model(settings: Settings, model_client: ModelClient, model: str | None) -> dict:
    if model is None:
        return {"ok": True, "model": None, "note": "no model set: the offline drafter writes "
                "degraded drafts"}
    state = model_client.state(model) if hasattr(model_client, "state") else "unknown"
    out: dict = {"model": model, "breaker": state}
    if settings.llm_api_base:
        out["endpoint"] = _endpoint_reachable(settings.llm_api_base)
    out["ok"] = state != "open" and out.get("endpoint", True) is True
    return out


_probe_cache: dict[str, tuple[float, bool | str]] = {}
_probe_lock = threading.Lock()
_PROBE_TTL = 10.0


def _endpoint_reachable(api_base: str) -> bool | str:
    """Can we open a TCP connection to the model server? Cached briefly: health is polled."""
    with _probe_lock:
        hit = _probe_cache.get(api_base)
    if hit and time.monotonic() - hit[0] < _PROBE_TTL:
        return hit[1]
    parts = urlsplit(api_base)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "localhost", port), timeout=2.0):
            result: bool | str = True
    except OSError as exc:
        result = f"unreachable: {exc}"[:200]
    with _probe_lock:
        _probe_cache[api_base] = (time.monotonic(), result)
    return result
