"""The Celery worker and beat: the shared Celery application (worker/adapters/celery_app.py)
with its tasks, the beat schedule, and the process's runtime built after fork."""

from __future__ import annotations

import threading

from celery import signals

from worker.adapters.celery_app import (
    APPLY_RETENTION,
    KB_SWEEP,
    RELAY_OUTBOX,
    REPROCESS_FAILED,
    CeleryDispatcher,
    make_celery,
)
from worker.bootstrap import Runtime, bootstrap
from worker.logs import configure_logging
from worker.settings import Settings

_settings = Settings()

app = make_celery(_settings)
app.conf.update(
    include=["tasks.drafting", "tasks.schedule", "tasks.knowledge"],
    # The schedule is static (it comes from settings) and every scheduled task is idempotent,
    # so beat keeps it in memory: no shelve file to manage, and none for a SIGTERM to close
    # under a running tick (Celery's persistent scheduler then exits 1).
    beat_scheduler="celery.beat:Scheduler",
    beat_schedule={
        "reprocess-failed-replies": {
            "task": REPROCESS_FAILED,
            "schedule": _settings.reprocess_every_seconds,
        },
        "relay-outbox": {
            "task": RELAY_OUTBOX,
            "schedule": _settings.outbox_relay_every_seconds,
        },
        "sweep-knowledge-documents": {
            "task": KB_SWEEP,
            "schedule": _settings.reprocess_every_seconds,
        },
        "apply-retention": {
            "task": APPLY_RETENTION,
            "schedule": _settings.retention_every_seconds,
        },
    },
)

_runtime: Runtime | None = None
_runtime_lock = threading.Lock()


def runtime() -> Runtime:
    """This process's runtime, built on first use (after fork), shared by the pool's threads."""
    global _runtime
    if _runtime is None:
        with _runtime_lock:
            if _runtime is None:
                built = bootstrap(Settings(), CeleryDispatcher(app))
                built.listen()  # config changes reach this process within a second
                _runtime = built
    return _runtime


def use_runtime(rt: Runtime) -> None:
    """Run tasks on a runtime built elsewhere (tests)."""
    global _runtime
    _runtime = rt


@signals.worker_init.connect
def _warm_imports(**_: object) -> None:
    # litellm takes seconds to import; pay that at start-up, not inside the first drafts.
    from worker.adapters.llm_litellm import warm_up
    from worker.pipeline.guardrails import detect_language

    warm_up()
    detect_language("warm up")  # the language identifier's model, ~1 s to load


@signals.worker_ready.connect
def _say_ready(sender=None, **_: object) -> None:  # noqa: ANN001
    from worker.logs import log

    log.info("worker.ready", hostname=getattr(sender, "hostname", None))


@signals.beat_init.connect
def _beat_ready(**_: object) -> None:
    from worker.logs import log

    log.info("beat.ready", schedule=sorted(app.conf.beat_schedule))


@signals.worker_ready.connect
def _warm_connections(**_: object) -> None:
    # The first chat after a (re)start should not also pay for opening connections.
    try:
        rt = runtime()
        with rt.engine.connect():
            pass
        rt.redis.ping()
    except Exception as exc:  # noqa: BLE001 - not fatal: tasks retry until services answer
        from worker.logs import log

        log.warning("worker.warm_up.failed", error=f"{type(exc).__name__}: {exc}"[:300])


_heartbeat_stop = threading.Event()


@signals.worker_ready.connect
def _start_heartbeat(sender=None, **_: object) -> None:  # noqa: ANN001
    """Tell health checks this worker is alive (a Redis sorted set, refreshed every few
    seconds), and serve its Prometheus metrics."""
    import redis

    from worker import metrics
    from worker.health import beat_heart, queue_depths
    from worker.logs import log

    name = getattr(sender, "hostname", None) or "worker"
    client = redis.Redis.from_url(_settings.redis_url)
    metrics.serve(_settings.worker_metrics_port)
    metrics.watch_queues(lambda: runtime().call(queue_depths))

    def loop() -> None:
        while not _heartbeat_stop.is_set():
            try:
                beat_heart(client, _settings.redis_namespace, name)
                metrics.WORKER_UP.set_to_current_time()
            except redis.RedisError as exc:
                log.warning("worker.heartbeat.failed", error=f"{type(exc).__name__}: {exc}")
            _heartbeat_stop.wait(_settings.worker_heartbeat_every_seconds)

    threading.Thread(target=loop, name="heartbeat", daemon=True).start()


@signals.worker_process_init.connect
def _reset_after_fork(**_: object) -> None:
    # A forked child must not share its parent's sockets.
    global _runtime
    _runtime = None


@signals.setup_logging.connect
def _logging(**_: object) -> None:
    configure_logging(_settings.log_level, _settings.log_json)


# Set when the worker was told to stop (SIGTERM/SIGINT/SIGQUIT). A worker that stops without it
# crashed, whatever exit code Celery chose: `agent-runtime worker` then exits non-zero.
stop_requested = threading.Event()


@signals.worker_shutting_down.connect
def _note_stop_request(**_: object) -> None:
    stop_requested.set()


@signals.worker_shutdown.connect
def _close(**_: object) -> None:
    _heartbeat_stop.set()
    if _runtime is not None:
        _runtime.close()
