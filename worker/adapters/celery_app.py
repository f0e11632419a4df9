"""The Celery application as every process sees it: broker, delivery guarantees, queues.

The worker process (tasks/app.py) adds its tasks, signals and the beat schedule to it; every
other process (ingress, API, CLI) only sends tasks, by name, through CeleryDispatcher and
CeleryDocumentQueue — so nothing outside tasks/ imports the tasks themselves.
"""

from __future__ import annotations

from celery import Celery
from kombu.exceptions import BatchPublishError

from worker.ports import Handover
from worker.settings import Settings

# Task names: the contract between the senders here and the tasks in tasks/.
DRAFT_MESSAGE = "drafts.draft_message"
REPROCESS_FAILED = "drafts.reprocess_failed"
RELAY_OUTBOX = "outbox.relay"
KB_PROCESS_DOCUMENT = "kb.process_document"
KB_PURGE_DELETED = "kb.purge_deleted"
KB_SWEEP = "kb.sweep"
APPLY_RETENTION = "privacy.retention"


def queue_for(channel: str) -> str:
    return f"drafts.{channel}"


def make_celery(settings: Settings) -> Celery:
    app = Celery("agent_runtime")
    app.conf.update(
        broker_url=settings.celery_broker_url,
        # kombu's Redis transport with a guard around an upstream crash (celery_broker.py);
        # any other broker URL keeps its own transport.
        broker_transport=(
            "worker.adapters.celery_broker:Transport"
            if settings.celery_broker_url.startswith("redis://") else None
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
            REPROCESS_FAILED: {"queue": "maintenance"},
            RELAY_OUTBOX: {"queue": "maintenance"},
            APPLY_RETENTION: {"queue": "maintenance"},
            "kb.*": {"queue": "maintenance"},
        },
        worker_hijack_root_logger=False,
        timezone="UTC",
    )
    return app


class CeleryDispatcher:
    """worker.ports.Dispatcher: one drafting task per message, on its channel's queue."""

    def __init__(self, app: Celery):
        self._app = app

    def enqueue(self, handovers: list[Handover]) -> None:
        # A countdown is held by the worker that took the task (not a thread); a task lost
        # with its worker or with Redis comes back through beat's reprocessing (Postgres).
        # One producer and one publish batch (kombu's Redis transport: one pipeline) for all:
        # a batch of tasks costs one round trip, not one per task. A batch that fails to flush
        # raises, so the ingress acknowledges nothing and hands the messages over again.
        if not handovers:
            return
        try:
            with self._app.producer_or_acquire() as producer, producer.batch():
                for h in handovers:
                    args = (h.client_id, h.message_id)
                    self._app.send_task(
                        DRAFT_MESSAGE, args=args,
                        queue=queue_for(h.channel), countdown=h.delay_seconds or None,
                        producer=producer,
                        # Stated, so Celery does not saferepr() them per task (py-spy: a
                        # visible share of the ingress's send_task); same text it would make.
                        argsrepr=repr(args), kwargsrepr="{}",
                    )
        except BatchPublishError as exc:
            # The pipeline failed (e.g. Redis went away): raise what it met, so callers see
            # the outage they already handle (the ingress waits for Redis, then retries).
            raise (exc.__cause__ or exc) from exc


class CeleryDocumentQueue:
    """worker.knowledge.ports.DocumentQueue: knowledge-base work on the maintenance queue."""

    def __init__(self, app: Celery):
        self._app = app

    def process(self, client_id: str, document_id: str) -> None:
        self._app.send_task(KB_PROCESS_DOCUMENT, args=(client_id, document_id))

    def purge(self, client_id: str) -> None:
        self._app.send_task(KB_PURGE_DELETED, args=(client_id,))
