"""What the knowledge-base endpoints share: the router settings, refusals answered with the
status their KnowledgeError carries, the queue background work goes to."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import HTTPException, Path, Request

from worker.knowledge.errors import KnowledgeError
from worker.knowledge.ports import DocumentQueue

PREFIX = "/api/agent/kb"
TAGS: list = ["knowledge base"]
NOT_FOUND = {404: {"description": "no such document or folder (or another client's)"}}
REFUSED = {400: {"description": "refused: a bad name, folder or segmentation"},
           422: {"description": "refused: invisible format characters in a name, or a body "
                 "that does not fit the schema"}}
DocumentId = Path(pattern=r"^[0-9A-Za-z]{1,64}$", description="the document's id (a ULID)")
NO_NUL = r"^[^\x00]*$"  # Postgres text cannot hold NUL


def documents_queue(request: Request) -> DocumentQueue:
    if request.app.state.documents is None:
        from worker.adapters.celery_app import CeleryDocumentQueue, make_celery

        request.app.state.documents = CeleryDocumentQueue(
            make_celery(request.app.state.rt.settings))
    return request.app.state.documents


@contextmanager
def refusals() -> Iterator[None]:
    try:
        yield
    except KnowledgeError as exc:
        raise HTTPException(exc.http_status, str(exc) or type(exc).__doc__) from exc
