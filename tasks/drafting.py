"""Thin task: the message id in, the drafting use case called, nothing swallowed."""

from __future__ import annotations

import redis
from sqlalchemy.exc import OperationalError

from tasks.app import app, runtime
from worker.pipeline.draft import draft_message

# Infrastructure that is down for now: Celery retries the task (bounded, with backoff). If it
# still fails, the message's lease expires and the reprocessing beat hands it over again.
_INFRA_ERRORS = (OperationalError, redis.ConnectionError, redis.TimeoutError)


@app.task(
    name="drafts.draft_message",
    bind=True,
    autoretry_for=_INFRA_ERRORS,
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=8,
)
def draft_message_task(self, client_id: str, message_id: str) -> str:  # noqa: ANN001
    outcome = draft_message(runtime(), client_id, message_id, attempt_id=self.request.id)
    return outcome.status
