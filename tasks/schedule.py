"""Beat's periodic work. Both are safe if two beats run by mistake: claims and row locks in
Postgres decide who does what, not the schedule."""

from __future__ import annotations

from tasks.app import app, runtime
from worker.adapters.celery_app import RELAY_OUTBOX, REPROCESS_FAILED
from worker.pipeline.publish import relay_outbox
from worker.pipeline.reprocess import reprocess_due


@app.task(name=REPROCESS_FAILED)
def reprocess_failed_task() -> int:
    return runtime().call(reprocess_due)


@app.task(name=RELAY_OUTBOX)
def relay_outbox_task() -> int:
    return runtime().call(relay_outbox)
