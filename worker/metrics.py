"""Prometheus metrics of the worker and the API (prometheus-client).

Each process keeps its own counters. The worker (one process, a pool of threads) serves them
on WORKER_METRICS_PORT; the API serves them on GET /metrics. Several API processes
(`agent-runtime api --workers N`) aggregate through prometheus-client's multiprocess mode when
PROMETHEUS_MULTIPROC_DIR is set; several worker processes on one host each need their own port.
Queue and stream lag are read from Redis when scraped, so any process reports the same value.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

from worker.logs import log

DRAFTS = Counter(
    "agent_drafts_total", "Processed messages by outcome (drafted, degraded, stale, withdrawn, "
    "failed, deferred, skipped)", ["outcome"],
)
MODEL_LATENCY = Histogram(
    "agent_model_latency_seconds", "One model call, by model and result", ["model", "result"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64),
)
TOKENS = Counter("agent_tokens_total", "Model tokens by client", ["client_id", "kind"])
COST = Counter("agent_cost_usd_total", "Model cost in USD by client", ["client_id"])
FAILURES = Counter(
    "agent_failures_total", "Failures by stage and reason", ["stage", "reason"]
)
REVIEWS = Counter("agent_review_actions_total", "Review actions by action", ["action"])
HTTP_REQUESTS = Counter(
    "agent_http_requests_total", "API requests by route and status", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "agent_http_request_seconds", "API request duration by route", ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 30),
)
DRAFT_FLAGS = Counter(
    "agent_draft_flags_total", "Guardrail flags raised on drafts, by code", ["code"]
)
NEEDS_HUMAN = Counter(
    "agent_drafts_needs_human_total", "Drafts marked needs_human, by reason kind "
    "(low_confidence, handoff, handoff_topic, degraded)", ["reason"],
)
WORKER_UP = Gauge("agent_worker_heartbeat_timestamp_seconds", "Last heartbeat of this worker")


def draft_outcome(outcome: str, client_id: str | None = None, prompt_tokens: int = 0,
                  completion_tokens: int = 0, cost_usd: float = 0.0) -> None:
    DRAFTS.labels(outcome).inc()
    if client_id is not None and (prompt_tokens or completion_tokens or cost_usd):
        TOKENS.labels(client_id, "prompt").inc(prompt_tokens)
        TOKENS.labels(client_id, "completion").inc(completion_tokens)
        COST.labels(client_id).inc(cost_usd)


def draft_assessed(flag_codes: list[str], needs_human_kinds: tuple[str, ...]) -> None:
    for code in flag_codes:
        DRAFT_FLAGS.labels(code).inc()
    for kind in needs_human_kinds:
        NEEDS_HUMAN.labels(kind).inc()


def model_calls(calls: list) -> None:  # noqa: ANN001 - worker.store.drafts.CallAudit
    for call in calls:
        MODEL_LATENCY.labels(call.model, "error" if call.error else "ok").observe(
            call.latency_ms / 1000
        )


def failure(stage: str, reason: str) -> None:
    FAILURES.labels(stage, reason).inc()


class QueueCollector(Collector):
    """Stream lag and queue depth, read from Redis at scrape time."""

    def __init__(self, probe):  # noqa: ANN001 - () -> worker.health.QueueDepths
        self._probe = probe

    def collect(self):  # noqa: ANN201
        lag = GaugeMetricFamily("agent_stream_lag", "Inbound entries not yet read by ingress "
                                "plus read but unacknowledged", labels=["stream"])
        queued = GaugeMetricFamily("agent_queue_length", "Drafting tasks waiting in Celery",
                                   labels=["queue"])
        try:
            depths = self._probe()
        except Exception as exc:  # noqa: BLE001 - a scrape must not fail because Redis is down
            log.warning("metrics.queues.failed", error=f"{type(exc).__name__}: {exc}"[:300])
            return
        for stream, value in depths.streams.items():
            lag.add_metric([stream], value)
        for queue, value in depths.queues.items():
            queued.add_metric([queue], value)
        yield lag
        yield queued


_collector: QueueCollector | None = None


def watch_queues(probe) -> None:  # noqa: ANN001
    """Register (once per process) the collector of stream lag and queue depth."""
    global _collector
    if _collector is None:
        _collector = QueueCollector(probe)
        REGISTRY.register(_collector)
    _collector._probe = probe  # the newest runtime of this process (tests build several)


def serve(port: int) -> None:
    """Expose this process's metrics on `port` (the worker). A taken port is logged, not fatal:
    a second worker on the same host must still draft."""
    from prometheus_client import start_http_server

    if port <= 0:
        return
    try:
        start_http_server(port)
        log.info("metrics.serving", port=port)
    except OSError as exc:
        log.warning("metrics.port_unavailable", port=port, error=str(exc))
