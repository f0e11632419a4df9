"""worker.ports.DraftStore on Postgres: each call one transaction over the tables it touches
(inbound message, draft, outbox, call audit), each table written by its own store module."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from worker.ports import CallAudit, DraftRecord
from worker.statuses import DraftStatus
from worker.store import drafts, llm_calls, memory, message_states, messages, outbox
from worker.store.models import InboundMessage


class SqlDraftStore:
    def __init__(self, sessions: sessionmaker[Session]):
        self._sessions = sessions

    def claim(
        self, client_id: str, message_id: str, lease_seconds: int, owner: str
    ) -> InboundMessage | None:
        with self._sessions.begin() as session:
            return message_states.claim_message(session, client_id, message_id, lease_seconds, owner)

    def lead_key(self, message: InboundMessage) -> str | None:
        if not message.lead_id:
            return None
        with self._sessions() as session:
            return memory.lead_key_of(session, message.client_id, message.lead_id)

    def superseded(self, message: InboundMessage) -> bool:
        with self._sessions() as session:
            return messages.has_newer_in_conversation(session, message.client_id, message)

    def mark_superseded(self, message: InboundMessage) -> None:
        with self._sessions.begin() as session:
            message_states.mark_superseded(session, message.client_id, message.id)

    def save_draft(self, message: InboundMessage, record: DraftRecord, stream: str) -> bool:
        client_id, columns = message.client_id, record.draft
        with self._sessions.begin() as session:
            llm_calls.write_calls(session, client_id, message.id, columns.get("config_id"),
                                  record.calls)
            if not drafts.insert_draft(session, client_id, message.id, columns):
                return False
            if columns["status"] == DraftStatus.PENDING_REVIEW:
                outbox.add(session, client_id, columns["id"], stream, record.outbox_payload)
            message_states.mark_drafted(session, client_id, message.id)
        return True

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
        with self._sessions.begin() as session:
            outbox.mark_published(session, client_id, draft_ids, stream)
