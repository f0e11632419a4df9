"""Failed replies whose retry time has come, and messages whose lease ran out, go back to a
drafting worker. Postgres is the record: this recovers even a Redis that lost every task."""

from __future__ import annotations

from worker.logs import log
from worker.runtime import Runtime
from worker.store import messages


def reprocess_due(rt: Runtime, limit: int = 1000) -> int:
    with rt.sessions() as session:
        due = messages.due_for_retry(session, limit, rt.settings.draft_lease_seconds)
    for client_id, message_id, channel in due:
        rt.dispatcher.enqueue(client_id, message_id, channel)
    if due:
        log.info("drafts.reprocess.enqueued", count=len(due))
    return len(due)
