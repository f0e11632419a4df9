"""What the background work does: extract and chunk an upload, purge deleted documents, and
sweep for documents whose work was lost. Called by the Celery tasks (tasks/knowledge.py), the
CLI's --inline mode and the benchmark alike."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from worker.knowledge.chunking import chunk_text
from worker.knowledge.errors import ExtractionFailed
from worker.knowledge.extract import extract_text
from worker.knowledge.ports import DocumentQueue
from worker.logs import log
from worker.store import kb_documents
from worker.store.models import new_id

PURGE_BATCH = 100


@dataclass(frozen=True)
class ProcessOutcome:
    status: str  # ready | failed | skipped (not claimable now, or replaced while processing)
    chunks: int = 0
    error: str | None = None


def process_document(
    sessions: sessionmaker[Session], client_id: str, document_id: str, *,
    owner: str, lease_seconds: int,
) -> ProcessOutcome:
    """queued → processing → ready, or failed with the reason. Results are written only if
    this worker still holds the lease for the content it read: a re-upload meanwhile wins."""
    started = time.perf_counter()
    with sessions.begin() as session:
        claim = kb_documents.claim_document(session, client_id, document_id, owner, lease_seconds)
    if claim is None:
        log.info("kb.document.not_claimable", client_id=client_id, document_id=document_id)
        return ProcessOutcome("skipped")
    with sessions() as session:
        content = kb_documents.load_content(session, client_id, document_id, claim.content_version)
    if content is None:
        return ProcessOutcome("skipped")
    try:
        chunks = chunk_text(extract_text(claim.kind, content))
    except ExtractionFailed as exc:
        with sessions.begin() as session:
            kept = kb_documents.finish_failed(
                session, client_id, document_id, owner, claim.content_version, str(exc)
            )
        log.info("kb.document.failed", client_id=client_id, document_id=document_id,
                 reason=str(exc), kept=kept)
        return ProcessOutcome("failed" if kept else "skipped", error=str(exc))
    with sessions.begin() as session:
        kept = kb_documents.finish_ready(
            session, client_id, document_id, owner, claim.content_version, chunks
        )
    log.info("kb.document.processed", client_id=client_id, document_id=document_id,
             kind=claim.kind, bytes=len(content), chunks=len(chunks), kept=kept,
             ms=round((time.perf_counter() - started) * 1000, 1))
    return ProcessOutcome("ready", len(chunks)) if kept else ProcessOutcome("skipped")


def purge_deleted(sessions: sessionmaker[Session], client_id: str) -> int:
    """Remove the client's deleted documents for good, a batch per transaction."""
    total = 0
    while True:
        with sessions.begin() as session:
            n = kb_documents.purge_deleting(session, client_id, PURGE_BATCH)
        total += n
        if n < PURGE_BATCH:
            break
    if total:
        log.info("kb.documents.purged", client_id=client_id, count=total)
    return total


def sweep_documents(
    sessions: sessionmaker[Session], queue: DocumentQueue, *,
    lease_seconds: int, max_attempts: int, limit: int = 1000,
) -> int:
    """Hand stuck work back: expired leases and lost uploads to processing, lingering
    deletions to purging; fail for good what died `max_attempts` times."""
    with sessions.begin() as session:
        gave_up = kb_documents.give_up_stuck(session, max_attempts)
        due = kb_documents.due_documents(session, lease_seconds, limit)
    purge_clients = sorted({c for c, _, status in due if status == "deleting"})
    for client_id, document_id, status in due:
        if status != "deleting":
            queue.process(client_id, document_id)
    for client_id in purge_clients:
        queue.purge(client_id)
    if due or gave_up:
        log.info("kb.sweep", handed_back=len(due), gave_up=gave_up)
    return len(due)


@dataclass
class InlineQueue:
    """Runs the work at once in this process: the CLI's --inline, tests."""

    sessions: sessionmaker[Session]
    lease_seconds: int = 600
    outcomes: list[ProcessOutcome] | None = None

    def process(self, client_id: str, document_id: str) -> None:
        outcome = process_document(
            self.sessions, client_id, document_id, owner=new_id(), lease_seconds=self.lease_seconds
        )
        if self.outcomes is not None:
            self.outcomes.append(outcome)

    def purge(self, client_id: str) -> None:
        purge_deleted(self.sessions, client_id)
