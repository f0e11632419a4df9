"""What the knowledge-base endpoints share: the router settings, refusals answered with the
status their KnowledgeError carries, the queue background work goes to."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import HTTPException, Path

from worker.knowledge.errors import KnowledgeError
from worker.kb_http import documents_queue  # noqa: F401 - re-exported for the routers

PREFIX = "/api/agent/kb"
TAGS: list = ["knowledge base"]
NOT_FOUND = {404: {"description": "no such document or folder (or another client's)"}}
REFUSED = {400: {"description": "refused: a bad name, folder or segmentation"},
           422: {"description": "refused: invisible format characters in a name, or a body "
                 "that does not fit the schema"}}
DocumentId = Path(pattern=r"^[0-9A-Za-z]{1,64}$", description="the document's id (a ULID)")
NO_NUL = r"^[^\x00]*$"  # Postgres text cannot hold NUL


@contextmanager
def refusals() -> Iterator[None]:
    try:
        yield
    except KnowledgeError as exc:
        raise HTTPException(exc.http_status, str(exc) or type(exc).__doc__) from exc
