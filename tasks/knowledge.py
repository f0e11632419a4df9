"""Thin tasks of the knowledge base: ids in, one plain function called, nothing swallowed.
All run on the `maintenance` queue, so document processing never delays a draft."""

from __future__ import annotations

import redis
from sqlalchemy.exc import OperationalError

from tasks.app import app, runtime
from worker.knowledge import sandbox
from worker.knowledge.processing import process_document, purge_deleted, sweep_documents

# Infrastructure down for now: retried with backoff; if it stays down the document's lease
# expires and the sweeper hands it over again.
_INFRA_ERRORS = (OperationalError, redis.ConnectionError, redis.TimeoutError)
_RETRY = dict(autoretry_for=_INFRA_ERRORS, retry_backoff=2, retry_backoff_max=60,
              retry_jitter=True, max_retries=8)


class CeleryDocumentQueue:
    """worker.knowledge.ports.DocumentQueue on Celery."""

    def process(self, client_id: str, document_id: str) -> None:
        process_document_task.apply_async(args=(client_id, document_id))

    def purge(self, client_id: str) -> None:
        purge_documents_task.apply_async(args=(client_id,))


@app.task(name="kb.process_document", bind=True, **_RETRY)
def process_document_task(self, client_id: str, document_id: str) -> str:  # noqa: ANN001
    rt = runtime()
    sandbox.set_concurrency(rt.settings.kb_extract_concurrency)
    outcome = process_document(
        rt.sessions, client_id, document_id, owner=self.request.id,
        lease_seconds=rt.settings.kb_lease_seconds, limits=rt.settings.kb_limits(),
    )
    return outcome.status


@app.task(name="kb.purge_deleted", **_RETRY)
def purge_documents_task(client_id: str) -> int:
    return purge_deleted(runtime().sessions, client_id)


@app.task(name="kb.sweep")
def sweep_documents_task() -> int:
    rt = runtime()
    return sweep_documents(
        rt.sessions, CeleryDocumentQueue(),
        lease_seconds=rt.settings.kb_lease_seconds, max_attempts=rt.settings.kb_max_attempts,
    )
