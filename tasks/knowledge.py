"""Thin tasks of the knowledge base: ids in, one plain function called, nothing swallowed.
All run on the `maintenance` queue, so document processing never delays a draft."""

from __future__ import annotations

from tasks.app import app, runtime
from tasks.retrying import retry_transient
from worker.adapters.celery_app import (
    KB_PROCESS_DOCUMENT,
    KB_PURGE_DELETED,
    KB_SWEEP,
    CeleryDocumentQueue,
)
from worker.knowledge import sandbox
from worker.knowledge.bounds import Limits
from worker.knowledge.processing import process_document, purge_deleted, sweep_documents

# Infrastructure down for now: retried (the task retry policy); if it stays down the
# document's lease expires and the sweeper hands it over again.


@app.task(name=KB_PROCESS_DOCUMENT, bind=True)
def process_document_task(self, client_id: str, document_id: str) -> str:  # noqa: ANN001
    rt = runtime()
    sandbox.set_concurrency(rt.settings.kb_extract_concurrency)
    with retry_transient(self, rt.task_retry):
        outcome = process_document(
            rt.sessions, client_id, document_id, owner=self.request.id,
            lease_seconds=rt.settings.kb_lease_seconds, limits=Limits.from_settings(rt.settings),
        )
    return outcome.status


@app.task(name=KB_PURGE_DELETED, bind=True)
def purge_documents_task(self, client_id: str) -> int:  # noqa: ANN001
    with retry_transient(self, runtime().task_retry):
        return purge_deleted(runtime().sessions, client_id)


@app.task(name=KB_SWEEP)
def sweep_documents_task() -> int:
    rt = runtime()
    return sweep_documents(
        rt.sessions, CeleryDocumentQueue(app),
        lease_seconds=rt.settings.kb_lease_seconds, max_attempts=rt.settings.kb_max_attempts,
    )
