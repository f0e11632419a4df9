"""worker.ports.DraftStore on Postgres: each call one transaction over the tables it touches
(inbound message, draft, outbox, call audit), each table written by its own store module. A
draft takes two: claim + recall, then draft + outbox + audit + lease release; its publication
mark is written later, with other drafts' marks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from worker.errors import RecallTimedOut
from worker.logs import log
from worker.ports import CallAudit, Claimed, DraftRecord, Recall
from worker.statuses import DraftStatus
from worker.store import drafts, llm_calls, message_states, outbox, tenancy
from worker.store.models import InboundMessage
from worker.store.published_marks import PublishedMarks


class SqlDraftStore:
    def __init__(
        self, sessions: sessionmaker[Session], recall_budget_seconds: float | None = None,
        mark_every_seconds: float = 0.0,
    ):
        """`recall_budget_seconds`: the claim transaction's statement_timeout (None: none).
        `mark_every_seconds`: publication marks are written in batches this often (0: each at
        once; worker/store/published_marks.py)."""
        self._sessions = sessions
        self._recall_budget = recall_budget_seconds
        self._marks = PublishedMarks(sessions, mark_every_seconds)

    def claim(
        self, client_id: str, message_id: str, lease_seconds: int, owner: str, recall: Recall
    ) -> Claimed | None:
        try:
            return self._claim(client_id, message_id, lease_seconds, owner, recall,
                               self._recall_budget)
        except RecallTimedOut as exc:
            # Postgres cancelled a recall statement, which aborted the claim's transaction with
            # it (nothing of it was committed, the attempt count included): claim again in a
            # new transaction, without memory and without a budget, and say so on the draft.
            note = f"recall skipped: {exc}"
            log.warning("recall.skipped", client_id=client_id, reason=note)
            return self._claim(client_id, message_id, lease_seconds, owner,
                               lambda *_: ([], note), None)

    def _claim(
        self, client_id: str, message_id: str, lease_seconds: int, owner: str, recall: Recall,
        budget: float | None,
    ) -> Claimed | None:
        with self._sessions.begin() as session:
            # Tenant and recall budget in the transaction's first statement. The budget also
            # bounds the claim's UPDATE (a row lock held that long is an outage: the cancelled
            # claim fails as a transient error and the task is retried).
            tenancy.bind(session, client_id, statement_timeout=budget)
            claimed = message_states.claim_message(
                session, client_id, message_id, lease_seconds, owner)
            if claimed is None:
                return None
            message, superseded, lead_key = claimed
            if superseded:
                message_states.mark_superseded(session, client_id, message.id)
                return Claimed(message, True, lead_key)
            recalled, note = recall(session, message, lead_key)
            return Claimed(message, False, lead_key, recalled, note)

    def save_draft(
        self, message: InboundMessage, record: DraftRecord, stream: str, stale_status: str
    ) -> str | None:
        client_id, columns = message.client_id, record.draft
        with self._sessions.begin() as session:
            llm_calls.write_calls(session, client_id, message.id, columns.get("config_id"),
                                  record.calls)
            status = drafts.insert_draft(session, client_id, message, columns, stale_status)
            if status is None:
                return None
            if status == DraftStatus.PENDING_REVIEW:
                outbox.add(session, client_id, columns["id"], stream, record.outbox_payload)
            message_states.mark_drafted(session, client_id, message.id)
        return status

    def record_failure(
        self, message: InboundMessage, *, kind: str, error: str,
        next_attempt_at: datetime | None, calls: list[CallAudit],
    ) -> None:
        with self._sessions.begin() as session:
            llm_calls.write_calls(session, message.client_id, message.id, None, calls)
            message_states.record_failure(session, message.client_id, message.id, kind=kind,
                                    error=error, next_attempt_at=next_attempt_at)

    def mark_published(
        self, client_id: str, draft_ids: list[str], stream: str | None = None
    ) -> None:
        self._marks.add(client_id, draft_ids, stream)

    def flush(self) -> None:
        """Write the publication marks collected so far."""
        self._marks.flush()

    def close(self) -> None:
        self._marks.close()
