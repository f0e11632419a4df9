"""Document endpoints: list, upload, show, rename/move, delete."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from worker.api.auth import client_id, runtime
from worker.api.errors import pydantic_detail
from worker.api.kb_views import document_json
from worker.api.knowledge.common import (
    NO_NUL, NOT_FOUND, PREFIX, REFUSED, TAGS, DocumentId, documents_queue, refusals,
)
from worker.api.schemas import DocumentChange, DocumentList, DocumentOut, SegmentationIn, UploadOut
from worker.api.strict_json import StrictJSONRoute
from worker.kb_http import is_multipart, read_multipart, read_raw
from worker.knowledge import library
from worker.knowledge.errors import InvalidInput
from worker.knowledge.ports import DocumentQueue
from worker.logs import log
from worker.bootstrap import Runtime

router = APIRouter(prefix=PREFIX, tags=TAGS, route_class=StrictJSONRoute)
_STATUS = r"^(queued|processing|ready|failed)$"


def _segmentation(raw: object) -> dict | None:
    """The multipart segmentation part, checked as PUT …/segmentation checks its body."""
    if raw is None:
        return None
    try:
        return SegmentationIn.model_validate(raw).model_dump(mode="json")
    except ValidationError as exc:
        raise HTTPException(422, pydantic_detail(exc)) from exc


@router.get("/documents", response_model=DocumentList, responses=NOT_FOUND)
def list_documents(
    folder: str | None = Query(None, max_length=1000, pattern=NO_NUL,
                               description="only this folder ('' or / for the root)"),
    recursive: bool = Query(False, description="with folder: its subfolders too"),
    search: str | None = Query(None, max_length=255, pattern=NO_NUL,
                               description="file name contains (case-insensitive)"),
    status: str | None = Query(None, pattern=_STATUS),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=1_000_000),
    client: str = Depends(client_id),
    rt: Runtime = Depends(runtime),
) -> DocumentList:
    """The client's documents, by folder and file name."""
    with refusals():
        views = library.list_documents(
            rt.sessions, client, folder=folder, recursive=recursive, name_contains=search,
            status=status, limit=limit, offset=offset,
        )
    return DocumentList(documents=[DocumentOut(**document_json(v)) for v in views])


_UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {"schema": {
            "type": "object", "required": ["file"],
            "properties": {
                "file": {"type": "string", "format": "binary"},
                "segmentation": {"type": "string", "description": 'JSON: {"segments": '
                                 '[{"groupId", "itemId"}], "userIds": [...]}; {} for everyone'},
                "folder": {"type": "string"},
                "filename": {"type": "string", "description": "instead of the part's"},
            },
        }},
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        "text/markdown": {"schema": {"type": "string"}},
    },
}


@router.post(
    "/documents",
    response_model=UploadOut,
    status_code=201,
    responses={200: {"model": UploadOut, "description": "replaced a document of the same name"},
               **REFUSED, **NOT_FOUND,
               413: {"description": "larger than KB_MAX_UPLOAD_BYTES"},
               415: {"description": "not Markdown/text, HTML, CSV, PDF or DOCX"}},
    openapi_extra={"requestBody": _UPLOAD_BODY},
)
async def upload_document(
    request: Request,
    filename: str | None = Query(None, max_length=255, pattern=NO_NUL,
                                 description="the file's name (raw body: required)"),
    folder: str | None = Query(None, max_length=1000, pattern=NO_NUL,
                               description="created if missing; the root by default"),
    client: str = Depends(client_id),
    rt: Runtime = Depends(runtime),
    queue: DocumentQueue = Depends(documents_queue),
) -> JSONResponse:
    """Upload a file: the raw body (with its Content-Type) or multipart with a `file` part and
    an optional `segmentation` part. The same name in the folder replaces the content and
    keeps the id (200). With a segmentation the audience is replaced in the same transaction:
    if it is refused, nothing was uploaded. Processing happens in the background: `status`
    goes queued → processing → ready (or failed, with `error`)."""
    max_bytes = rt.settings.kb_max_upload_bytes
    with refusals():
        if is_multipart(request):
            upload = await read_multipart(request, max_bytes)
        else:
            upload = await read_raw(request, max_bytes)
        name = upload.filename or filename or upload.part_filename
        if not name:
            raise InvalidInput("name the file: ?filename= (or the multipart part's filename)")
        result = await run_in_threadpool(
            library.upload_document, rt.sessions, queue, client,
            folder=upload.folder or folder, filename=name, content=upload.content,
            content_type=upload.content_type, segmentation=_segmentation(upload.segmentation),
            max_bytes=max_bytes,
        )
    out = UploadOut(**document_json(result.document), replaced=result.replaced)
    return JSONResponse(out.model_dump(mode="json"), status_code=200 if result.replaced else 201,
                        headers={"Location": f"{PREFIX}/documents/{out.id}"})


@router.get("/documents/{documentId}", response_model=DocumentOut, responses=NOT_FOUND)
def show_document(
    documentId: str = DocumentId,  # noqa: N803
    client: str = Depends(client_id), rt: Runtime = Depends(runtime),
) -> DocumentOut:
    """One document: status (and why it failed), folder, segmentation."""
    with refusals():
        return DocumentOut(**document_json(library.show_document(rt.sessions, client, documentId)))


@router.patch("/documents/{documentId}", response_model=DocumentOut,
              responses={**REFUSED, **NOT_FOUND, 409: {"description": "the name is taken"}})
def change_document(
    body: DocumentChange, documentId: str = DocumentId,  # noqa: N803
    client: str = Depends(client_id), rt: Runtime = Depends(runtime),
) -> DocumentOut:
    """Rename (`filename`) and/or move (`folder`, created if missing); the id stays."""
    with refusals():
        if body.folder is not None:
            view = library.move_document(rt.sessions, client, documentId, body.folder,
                                         body.filename)
        elif body.filename is not None:
            view = library.rename_document(rt.sessions, client, documentId, body.filename)
        else:
            raise InvalidInput("give a new 'filename', a 'folder', or both")
    log.info("kb.document.changed", client_id=client, document_id=documentId, path=view.path)
    return DocumentOut(**document_json(view))


@router.post("/documents/{documentId}/retry", response_model=DocumentOut,
             responses={**NOT_FOUND, 409: {"description": "the document has not failed"}})
def retry_document(
    documentId: str = DocumentId,  # noqa: N803
    client: str = Depends(client_id), rt: Runtime = Depends(runtime),
    queue: DocumentQueue = Depends(documents_queue),
) -> DocumentOut:
    """Process a failed document again: back to `queued`, attempts counted afresh."""
    with refusals():
        return DocumentOut(**document_json(library.retry_document(rt.sessions, queue, client,
                                                                  documentId)))


@router.delete("/documents/{documentId}", status_code=204, responses=NOT_FOUND)
def delete_document(
    documentId: str = DocumentId,  # noqa: N803
    client: str = Depends(client_id), rt: Runtime = Depends(runtime),
    queue: DocumentQueue = Depends(documents_queue),
) -> Response:
    """Gone at once for every reader (and its name free); the bytes and chunks are removed in
    the background."""
    with refusals():
        library.delete_document(rt.sessions, queue, client, documentId)
    log.info("kb.document.deleted", client_id=client, document_id=documentId)
    return Response(status_code=204)
