"""Failed replies whose retry time has come, and messages whose lease ran out, go back to a
drafting worker. Postgres is the record: this recovers even a Redis that lost every task."""

from __future__ import annotations

from worker.logs import log
from worker.ports import Dispatcher, Handover, Sessions
from worker.settings import Settings
from worker.store import message_states


def reprocess_due(
    *, sessions: Sessions, dispatcher: Dispatcher, settings: Settings, limit: int = 1000
) -> int:
    with sessions() as session:
        due = message_states.due_for_retry(session, limit, settings.draft_lease_seconds)
    # Chat's queue is served first; an e-mail that was never picked up in all that time may
    # have waited behind chat: it goes on chat's queue now, so e-mail is never starved for
    # good. (The task is the same; the queue only decides who takes it first.)
    dispatcher.enqueue([
        Handover(client_id, message_id, "chat" if never_picked_up else channel)
        for client_id, message_id, channel, never_picked_up in due
    ])
    if due:
        log.info("drafts.reprocess.enqueued", count=len(due))
    return len(due)
