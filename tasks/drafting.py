"""Thin task: the message id in, the drafting use case called, nothing swallowed."""

from __future__ import annotations

from tasks.app import app, runtime
from tasks.retrying import retry_transient
from worker.adapters.celery_app import DRAFT_MESSAGE
from worker.pipeline.draft import draft_message


@app.task(name=DRAFT_MESSAGE, bind=True)
def draft_message_task(self, client_id: str, message_id: str) -> str:  # noqa: ANN001
    # Infrastructure down for now: retried (the task retry policy); if it stays down, the
    # message's lease expires and the reprocessing beat hands it over again.
    with retry_transient(self, runtime().task_retry):
        outcome = runtime().call(draft_message, client_id, message_id, self.request.id)
    return outcome.status
