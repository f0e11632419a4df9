"""The Celery application: broker, delivery guarantees, queues and the beat schedule."""

from __future__ import annotations

import threading

from celery import Celery, signals

from worker.logs import configure_logging
from worker.runtime import Runtime, build_runtime
from worker.settings import Settings

_settings = Settings()

app = Celery("agent_runtime", include=["tasks.drafting", "tasks.schedule", "tasks.knowledge"])
app.conf.update(
    broker_url=_settings.celery_broker_url,
    # kombu's Redis transport with a guard around an upstream crash (see tasks/broker.py);
    # any other broker URL keeps its own transport.
    broker_transport=(
        "tasks.broker:Transport" if _settings.celery_broker_url.startswith("redis://") else None
    ),
    broker_connection_retry_on_startup=True,
    task_ignore_result=True,
    # A task is acknowledged after it ran, and handed back if its worker died mid-way.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    broker_transport_options={
        # Unacknowledged tasks come back after this long; longer than any drafting run.
        "visibility_timeout": 3600,
        # Always look at queues in name order: drafts.chat before drafts.email, so a backlog
        # of e-mail never delays a chat draft (a person is waiting on the chat).
        "queue_order_strategy": "sorted",
    },
    # Model calls are long I/O waits: take one batch at a time so idle nodes get work too.
    worker_prefetch_multiplier=1,
    task_default_queue="drafts.email",
    task_routes={
        "drafts.reprocess_failed": {"queue": "maintenance"},
        "outbox.relay": {"queue": "maintenance"},
        "kb.*": {"queue": "maintenance"},
    },
    # The schedule is static (it comes from settings) and every scheduled task is idempotent,
    # so beat keeps it in memory: no shelve file to manage, and none for a SIGTERM to close
    # under a running tick (Celery's persistent scheduler then exits 1).
    beat_scheduler="celery.beat:Scheduler",
    beat_schedule={
        "reprocess-failed-replies": {
            "task": "drafts.reprocess_failed",
            "schedule": _settings.reprocess_every_seconds,
        },
        "relay-outbox": {
            "task": "outbox.relay",
            "schedule": _settings.outbox_relay_every_seconds,
        },
        "sweep-knowledge-documents": {
            "task": "kb.sweep",
            "schedule": _settings.reprocess_every_seconds,
        },
    },
    worker_hijack_root_logger=False,
    timezone="UTC",
)

_runtime: Runtime | None = None
_runtime_lock = threading.Lock()


def runtime() -> Runtime:
    """This process's runtime, built on first use (after fork), shared by the pool's threads."""
    global _runtime
    if _runtime is None:
        with _runtime_lock:
            if _runtime is None:
                from tasks.dispatch import CeleryDispatcher

                built = build_runtime(Settings(), CeleryDispatcher())
                built.listen()  # config changes reach this process within a second
                _runtime = built
    return _runtime


def use_runtime(rt: Runtime) -> None:
    """Run tasks on a runtime built elsewhere (the demo's embedded one)."""
    global _runtime
    _runtime = rt


@signals.worker_init.connect
def _warm_imports(**_: object) -> None:
    # litellm takes seconds to import; pay that at start-up, not inside the first drafts.
    from worker.adapters.llm_litellm import warm_up

    warm_up()


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
    metrics.watch_queues(lambda: queue_depths(runtime()))

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
