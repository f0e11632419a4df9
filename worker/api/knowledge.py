"""`/api/agent/kb/…`: the client's knowledge base — documents, folders, audiences, search.

Only HTTP lives here: every request is one use case of `worker.knowledge.library` (the same
ones the CLI calls), and a refusal (KnowledgeError) is answered with its `http_status`.
Processing and purging go to the DocumentQueue the app was built with (Celery in production).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from worker.api.auth import client_id, runtime
from worker.api.schemas import (
    AudienceCount, DocumentChange, DocumentList, DocumentOut, FolderDeleted, FolderIn,
    FolderList, FolderNode, FolderOut, FolderRename, Id, SearchHit, SearchResults,
    SegmentationIn, SegmentationOut, UploadOut,
)
from worker.api.uploads import is_multipart, read_multipart, read_raw
from worker.knowledge import library
from worker.knowledge.audience import Audience, parse_segment
from worker.knowledge.errors import InvalidInput, KnowledgeError
from worker.knowledge.ports import DocumentQueue
from worker.logs import log
from worker.bootstrap import Runtime

router = APIRouter(prefix="/api/agent/kb", tags=["knowledge base"])

_NOT_FOUND = {404: {"description": "no such document or folder (or another client's)"}}
_REFUSED = {400: {"description": "refused: a bad name, folder or segmentation"}}
DocumentId = Path(pattern=r"^[0-9A-Za-z]{1,64}$", description="the document's id (a ULID)")
_NO_NUL = r"^[^\x00]*$"  # Postgres text cannot hold NUL
_STATUS = r"^(queued|processing|ready|failed)$"


def documents_queue(request: Request) -> DocumentQueue:
    if request.app.state.documents is None:
        from worker.adapters.celery_app import CeleryDocumentQueue, make_celery

        request.app.state.documents = CeleryDocumentQueue(make_celery(request.app.state.rt.settings))
    return request.app.state.documents


@contextmanager
def _refusals() -> Iterator[None]:
    try:
        yield
    except KnowledgeError as exc:
        raise HTTPException(exc.http_status, str(exc) or type(exc).__doc__) from exc


def _segmentation(raw: object) -> dict | None:
    """The multipart segmentation part, checked as PUT …/segmentation checks its body."""
    if raw is None:
        return None
    try:
        return SegmentationIn.model_validate(raw).model_dump(mode="json")
    except ValidationError as exc:
        raise HTTPException(422, jsonable_encoder(exc.errors(include_url=False))) from exc


def _audience(user_id: str | None, segments: list[str]) -> Audience:
    if any("\x00" in s for s in segments):
        raise HTTPException(422, "a segment must not contain NUL")
    with _refusals():
        return Audience(user_id=user_id or None,
                        segments=frozenset(parse_segment(s) for s in segments))


# --- documents -------------------------------------------------------------------------------


@router.get("/documents", response_model=DocumentList, responses=_NOT_FOUND)
def list_documents(
    folder: str | None = Query(None, max_length=1000, pattern=_NO_NUL,
                               description="only this folder ('' or / for the root)"),
    recursive: bool = Query(False, description="with folder: its subfolders too"),
    search: str | None = Query(None, max_length=255, pattern=_NO_NUL,
                               description="file name contains (case-insensitive)"),
    status: str | None = Query(None, pattern=_STATUS),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=1_000_000),
    client: str = Depends(client_id),
    rt: Runtime = Depends(runtime),
) -> DocumentList:
    """The client's documents, by folder and file name."""
    with _refusals():
        views = library.list_documents(
            rt.sessions, client, folder=folder, recursive=recursive, name_contains=search,
            status=status, limit=limit, offset=offset,
        )
    return DocumentList(documents=[DocumentOut(**v.to_json()) for v in views])


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
               **_REFUSED, **_NOT_FOUND,
               413: {"description": "larger than KB_MAX_UPLOAD_BYTES"},
               415: {"description": "not Markdown/text, HTML, CSV, PDF or DOCX"}},
    openapi_extra={"requestBody": _UPLOAD_BODY},
)
async def upload_document(
    request: Request,
    filename: str | None = Query(None, max_length=255, pattern=_NO_NUL,
                                 description="the file's name (raw body: required)"),
    folder: str | None = Query(None, max_length=1000, pattern=_NO_NUL,
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
    with _refusals():
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
    out = UploadOut(**result.document.to_json(), replaced=result.replaced)
    return JSONResponse(out.model_dump(mode="json"), status_code=200 if result.replaced else 201,
                        headers={"Location": f"{router.prefix}/documents/{out.id}"})


@router.get("/documents/{documentId}", response_model=DocumentOut, responses=_NOT_FOUND)
def show_document(
    documentId: str = DocumentId,  # noqa: N803
    client: str = Depends(client_id), rt: Runtime = Depends(runtime),
) -> DocumentOut:
    """One document: status (and why it failed), folder, segmentation."""
    with _refusals():
        return DocumentOut(**library.show_document(rt.sessions, client, documentId).to_json())


@router.patch("/documents/{documentId}", response_model=DocumentOut,
              responses={**_REFUSED, **_NOT_FOUND, 409: {"description": "the name is taken"}})
def change_document(
    body: DocumentChange, documentId: str = DocumentId,  # noqa: N803
    client: str = Depends(client_id), rt: Runtime = Depends(runtime),
) -> DocumentOut:
    """Rename (`filename`) and/or move (`folder`, created if missing); the id stays."""
    with _refusals():
        if body.folder is not None:
            view = library.move_document(rt.sessions, client, documentId, body.folder,
                                         body.filename)
        elif body.filename is not None:
            view = library.rename_document(rt.sessions, client, documentId, body.filename)
        else:
            raise InvalidInput("give a new 'filename', a 'folder', or both")
    log.info("kb.document.changed", client_id=client, document_id=documentId, path=view.path)
    return DocumentOut(**view.to_json())


@router.delete("/documents/{documentId}", status_code=204, responses=_NOT_FOUND)
def delete_document(
    documentId: str = DocumentId,  # noqa: N803
    client: str = Depends(client_id), rt: Runtime = Depends(runtime),
    queue: DocumentQueue = Depends(documents_queue),
) -> Response:
    """Gone at once for every reader (and its name free); the bytes and chunks are removed in
    the background."""
    with _refusals():
        library.delete_document(rt.sessions, queue, client, documentId)
    log.info("kb.document.deleted", client_id=client, document_id=documentId)
    return Response(status_code=204)


@router.get("/documents/{documentId}/audience", response_model=AudienceCount,
            responses=_NOT_FOUND)
def audience_count(
    documentId: str = DocumentId,  # noqa: N803
    client: str = Depends(client_id), rt: Runtime = Depends(runtime),
) -> AudienceCount:
    """How many segmentation tags and user ids the document is restricted to (`everyone`
    when none)."""
    with _refusals():
        return AudienceCount(**library.audience_count(rt.sessions, client, documentId))


@router.put("/documents/{documentId}/segmentation", response_model=SegmentationOut,
            responses={**_REFUSED, **_NOT_FOUND})
def replace_segmentation(
    body: SegmentationIn, documentId: str = DocumentId,  # noqa: N803
    client: str = Depends(client_id), rt: Runtime = Depends(runtime),
) -> SegmentationOut:
    """Replace the document's audience whole (`{}`: everyone)."""
    with _refusals():
        view = library.replace_segmentation(rt.sessions, client, documentId,
                                            body.model_dump(mode="json"))
    log.info("kb.segmentation.replaced", client_id=client, documents=1)
    return SegmentationOut(**view.segmentation.to_json())


@router.put("/segmentation", response_model=dict[str, SegmentationOut],
            responses={**_REFUSED, **_NOT_FOUND})
def replace_segmentations(
    body: dict[Id, SegmentationIn], client: str = Depends(client_id),
    rt: Runtime = Depends(runtime),
) -> dict[str, SegmentationOut]:
    """Batch: `{"DOC_ID": {"segments": […], "userIds": […]}, …}`, all or nothing — an unknown
    document or a refused segmentation anywhere leaves every document as it was."""
    if len(body) > 1000:
        raise HTTPException(422, "at most 1000 documents per batch")
    with _refusals():
        views = library.replace_segmentations(
            rt.sessions, client, {k: v.model_dump(mode="json") for k, v in body.items()})
    log.info("kb.segmentation.replaced", client_id=client, documents=len(views))
    return {v.id: SegmentationOut(**v.segmentation.to_json()) for v in views}


# --- folders ---------------------------------------------------------------------------------


@router.get("/folders", response_model=FolderList)
def list_folders(client: str = Depends(client_id), rt: Runtime = Depends(runtime)) -> FolderList:
    """Every folder path of the client (the root, '', is implied)."""
    return FolderList(folders=library.list_folders(rt.sessions, client))


@router.get("/folders/tree", response_model=FolderNode)
def folder_tree(client: str = Depends(client_id), rt: Runtime = Depends(runtime)) -> FolderNode:
    """The folders from the root, with the number of documents directly in each."""
    return FolderNode(**library.folder_tree(rt.sessions, client))


@router.post("/folders", response_model=FolderOut, status_code=201,
             responses={**_REFUSED, 409: {"description": "the folder exists already"}})
def create_folder(
    body: FolderIn, client: str = Depends(client_id), rt: Runtime = Depends(runtime)
) -> FolderOut:
    """Create a folder and its missing parents."""
    with _refusals():
        return FolderOut(path=library.create_folder(rt.sessions, client, body.path))


@router.patch("/folders", response_model=FolderOut,
              responses={**_REFUSED, **_NOT_FOUND, 409: {"description": "newPath exists"}})
def rename_folder(
    body: FolderRename, client: str = Depends(client_id), rt: Runtime = Depends(runtime)
) -> FolderOut:
    """Rename or move a folder with everything in it; documents keep their ids."""
    with _refusals():
        path = library.rename_folder(rt.sessions, client, body.path, body.newPath)
    log.info("kb.folder.renamed", client_id=client, path=body.path, new_path=path)
    return FolderOut(path=path)


@router.delete("/folders", response_model=FolderDeleted, responses={**_REFUSED, **_NOT_FOUND})
def delete_folder(
    path: str = Query(min_length=1, max_length=1000, pattern=_NO_NUL),
    client: str = Depends(client_id), rt: Runtime = Depends(runtime),
    queue: DocumentQueue = Depends(documents_queue),
) -> FolderDeleted:
    """Delete a folder with its subfolders and every document in them."""
    with _refusals():
        count = library.delete_folder(rt.sessions, queue, client, path)
    log.info("kb.folder.deleted", client_id=client, path=path, documents=count)
    return FolderDeleted(path=path, deletedDocuments=count)


# --- what a lead may be shown ----------------------------------------------------------------

_USER = Query(None, max_length=200, pattern=_NO_NUL, description="the lead's metadata.userId")
_SEGMENTS = Query([], max_length=100, description="GROUP_ID:ITEM_ID tags the lead carries")


@router.get("/search", response_model=SearchResults, responses=_REFUSED)
def search(
    q: str = Query(min_length=1, max_length=2000, pattern=_NO_NUL),
    userId: str | None = _USER,  # noqa: N803
    segment: list[str] = _SEGMENTS,
    limit: int = Query(5, ge=1, le=50),
    client: str = Depends(client_id), rt: Runtime = Depends(runtime),
) -> SearchResults:
    """The ranked hits exactly as recall gets them for a lead with this audience."""
    hits = library.search(rt.sessions, client, q, _audience(userId, segment), limit)
    return SearchResults(hits=[
        SearchHit(id=h.id, documentId=h.document_id, kind=h.kind, score=h.score, title=h.title,
                  heading=h.heading, folder=h.folder, snippet=h.snippet) for h in hits
    ])


@router.get("/visible", response_model=DocumentList, responses=_REFUSED)
def visible(
    userId: str | None = _USER,  # noqa: N803
    segment: list[str] = _SEGMENTS,
    limit: int = Query(100, ge=1, le=1000),
    client: str = Depends(client_id), rt: Runtime = Depends(runtime),
) -> DocumentList:
    """The documents a lead with this audience may be shown (whatever their status)."""
    views = library.visible_documents(rt.sessions, client, _audience(userId, segment), limit)
    return DocumentList(documents=[DocumentOut(**v.to_json()) for v in views])
