"""Beat's periodic work. Both are safe if two beats run by mistake: claims and row locks in
Postgres decide who does what, not the schedule."""

from __future__ import annotations

from tasks.app import app, runtime
from worker.pipeline.publish import relay_outbox
from worker.pipeline.reprocess import reprocess_due
from worker.retention import apply_retention


@app.task(name="drafts.reprocess_failed")
def reprocess_failed_task() -> int:
    return reprocess_due(runtime())


@app.task(name="outbox.relay")
def relay_outbox_task() -> int:
    return relay_outbox(runtime())


@app.task(name="privacy.retention")
def retention_task() -> int:
    """Each client's retentionDays: old messages, drafts, audit rows, kept-aside events."""
    return len(apply_retention(runtime().sessions))
