"""What the background work does: extract and chunk an upload, purge deleted documents, and
sweep for documents whose work was lost. Called by the Celery tasks (tasks/knowledge.py), the
CLI's --inline mode and the benchmark alike."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from worker.knowledge.bounds import Limits
from worker.text.chunking import chunk_text
from worker.knowledge.errors import ExtractionFailed
from worker.knowledge.extract import extract_text
from worker.knowledge.leases import LeaseKeeper
from worker.knowledge.ports import DocumentQueue
from worker.knowledge.sandbox import extract_bounded
from worker.logs import log
from worker.store import kb_documents, kb_leases
from worker.store.models import new_id
from worker.statuses import DocumentStatus

# Plain text is read in the worker itself (decoding is linear in the upload's bounded size);
# every parser of a structured format runs in the limited child process.
_IN_PROCESS = frozenset({"text", "markdown"})

PURGE_BATCH = 100


@dataclass(frozen=True)
class ProcessOutcome:
    status: str  # ready | failed | skipped (not claimable now, or replaced while processing)
    chunks: int = 0
    error: str | None = None


def process_document(
    sessions: sessionmaker[Session], client_id: str, document_id: str, *,
    owner: str, lease_seconds: int, limits: Limits | None = None,
) -> ProcessOutcome:
    """queued → processing → ready, or failed with the reason. The lease is renewed while
    this worker works; results are written only if it still holds the lease for the content
    it read: a re-upload meanwhile wins. A file past `limits` is failed at once, for good."""
    started = time.perf_counter()
    with sessions.begin() as session:
        claim = kb_leases.claim_document(session, client_id, document_id, owner, lease_seconds)
    if claim is None:
        log.info("kb.document.not_claimable", client_id=client_id, document_id=document_id)
        return ProcessOutcome("skipped")
    with LeaseKeeper(sessions, client_id, document_id, owner=owner,
                     version=claim.content_version, lease_seconds=lease_seconds):
        return _process_claimed(sessions, client_id, document_id, owner, claim,
                                limits or Limits(), started)


def _process_claimed(
    sessions: sessionmaker[Session], client_id: str, document_id: str, owner: str,
    claim: kb_leases.Claim, limits: Limits, started: float,
) -> ProcessOutcome:
    with sessions() as session:
        content = kb_leases.load_content(session, client_id, document_id, claim.content_version)
    if content is None:
        return ProcessOutcome("skipped")
    try:
        if claim.kind in _IN_PROCESS:
            text = extract_text(claim.kind, content, limits)
        else:
            text = extract_bounded(claim.kind, content, limits)
        chunks = chunk_text(text)
    except ExtractionFailed as exc:
        with sessions.begin() as session:
            kept = kb_leases.finish_failed(
                session, client_id, document_id, owner, claim.content_version, str(exc)
            )
        log.info("kb.document.failed", client_id=client_id, document_id=document_id,
                 reason=str(exc), kept=kept)
        return ProcessOutcome("failed" if kept else "skipped", error=str(exc))
    with sessions.begin() as session:
        kept = kb_leases.finish_ready(
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
        gave_up = kb_leases.give_up_stuck(session, max_attempts)
        due = kb_leases.due_documents(session, lease_seconds, limit)
    purge_clients = sorted({c for c, _, status in due if status == DocumentStatus.DELETING})
    for client_id, document_id, status in due:
        if status != DocumentStatus.DELETING:
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
    limits: Limits | None = None

    def process(self, client_id: str, document_id: str) -> None:
        outcome = process_document(
            self.sessions, client_id, document_id, owner=new_id(),
            lease_seconds=self.lease_seconds, limits=self.limits,
        )
        if self.outcomes is not None:
            self.outcomes.append(outcome)

    def purge(self, client_id: str) -> None:
        purge_deleted(self.sessions, client_id)
