"""Beat's periodic work. Both are safe if two beats run by mistake: claims and row locks in
Postgres decide who does what, not the schedule."""

from __future__ import annotations

from tasks.app import app, runtime
from worker.adapters.celery_app import APPLY_RETENTION, RELAY_OUTBOX, REPROCESS_FAILED
from worker.pipeline.publish import relay_outbox
from worker.pipeline.reprocess import reprocess_due
from worker.retention import apply_retention


@app.task(name=REPROCESS_FAILED)
def reprocess_failed_task() -> int:
    return runtime().call(reprocess_due)


@app.task(name=RELAY_OUTBOX)
def relay_outbox_task() -> int:
    return runtime().call(relay_outbox)


@app.task(name=APPLY_RETENTION)
def retention_task() -> int:
    """Each client's retentionDays: old messages, drafts, audit rows, kept-aside events."""
    return len(runtime().call(apply_retention))
