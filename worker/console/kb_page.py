"""The knowledge-base pages: the folder tree, a folder's documents with their live status
(htmx re-reads the table every 2 s while one is queued or processing), uploads (console.js
sends each file on its own request with a progress bar; a plain file input works too), a
document's page (rename, move, delete, retry, its audience), bulk delete, and "preview as a
lead": what recall would show a lead with these tags.

Every action is one use case of worker.knowledge (library, folders), the same ones the API
and the CLI call; a refusal (KnowledgeError) is shown with its message. Reading is for every
reviewer of the client, changing for its admins (worker.console.session.admin_signed_in).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from worker.audience import Audience, Segmentation, parse_segment
from worker.bootstrap import Runtime
from worker.console.pages import render
from worker.console.session import CsrfRefused, admin_signed_in, check_csrf, signed_in
from worker.kb_http import documents_queue, is_multipart, read_multipart
from worker.knowledge import folders, library
from worker.knowledge.errors import InvalidInput, KnowledgeError, NotFound
from worker.knowledge.views import FolderNode
from worker.logs import log
from worker.statuses import DocumentStatus
from worker.store.reviewers import SignedIn

router = APIRouter(include_in_schema=False)
_ID = r"^[0-9A-Za-z]{1,64}$"
PENDING = (DocumentStatus.QUEUED.value, DocumentStatus.PROCESSING.value)
DONE = {"uploaded": "Uploaded.", "renamed": "Renamed.", "moved": "Moved.",
        "deleted": "Deleted.", "retried": "Queued again.", "audience": "Audience saved.",
        "folder": "Folder created.", "folder-deleted": "Folder deleted.",
        "folder-renamed": "Folder renamed."}


def _rt(request: Request) -> Runtime:
    return request.app.state.rt


def _valid_id(value: str) -> bool:
    return 0 < len(value) <= 64 and value.isalnum()


@dataclass(frozen=True)
class TreeLine:
    name: str
    path: str
    depth: int
    documents: int


def tree_lines(root: FolderNode) -> list[TreeLine]:
    """The folder tree, depth first, as indented lines (the root first)."""
    out, stack = [], [(root, 0)]
    while stack:
        node, depth = stack.pop()
        out.append(TreeLine(node.name or "(root)", node.path, depth, node.documents))
        stack.extend((child, depth + 1) for child in reversed(node.folders))
    return out


def _folder(value: str | None) -> str:
    return (value or "").strip()[:1000]


def _no_nul(*values: str) -> None:
    """Postgres text cannot hold NUL: refused as the API refuses it."""
    if any("\x00" in v for v in values):
        raise InvalidInput("a field holds a NUL character")


# --- a folder's documents --------------------------------------------------------------------


def _documents(rt: Runtime, client_id: str, folder: str) -> list:
    try:
        return library.list_documents(rt.sessions, client_id, folder=folder, limit=1000)
    except NotFound:
        return []


def _kb_context(rt: Runtime, who: SignedIn, folder: str) -> dict:
    return {
        "who": who, "section": "kb", "folder": folder,
        "tree": tree_lines(folders.folder_tree(rt.sessions, who.client_id)),
        "documents": _documents(rt, who.client_id, folder),
        "max_bytes": rt.settings.kb_max_upload_bytes, "pending": PENDING,
    }


def _kb_page(request: Request, who: SignedIn, folder: str, error: str | None = None,
             status_code: int = 200) -> HTMLResponse:
    context = _kb_context(_rt(request), who, folder)
    done = DONE.get(request.query_params.get("done", ""))
    return render(request, "kb.html", status_code, error=error, done=done, **context)


@router.get("/knowledge")
async def kb_page(request: Request, who: SignedIn = Depends(signed_in)) -> HTMLResponse:
    return await run_in_threadpool(_kb_page, request, who,
                                   _folder(request.query_params.get("folder")))


@router.get("/knowledge/table")
async def kb_table(request: Request, who: SignedIn = Depends(signed_in)) -> HTMLResponse:
    """The documents table and the folder tree's counts: what the page re-reads while a
    document is under way and after each upload."""
    folder = _folder(request.query_params.get("folder"))
    context = await run_in_threadpool(_kb_context, _rt(request), who, folder)
    return render(request, "_kb_refresh.html", **context)


def _back(folder: str, done: str) -> RedirectResponse:
    return RedirectResponse("/knowledge?" + urlencode({"folder": folder, "done": done}),
                            status_code=303)


# --- upload ------------------------------------------------------------------------------------


@router.post("/knowledge/upload")
async def upload(request: Request, who: SignedIn = Depends(admin_signed_in)) -> Response:
    """One file (multipart: `file`, `folder`, `csrf` or the X-CSRF-Token header). console.js
    sends each dropped or chosen file on its own request and reads JSON back; a plain form
    post is redirected back to the folder."""
    rt = _rt(request)
    wants_json = "application/json" in request.headers.get("accept", "")
    max_bytes = rt.settings.kb_max_upload_bytes
    try:
        if not is_multipart(request):
            raise InvalidInput("send the file as multipart/form-data")
        sent = await read_multipart(request, max_bytes)
        token = request.headers.get("x-csrf-token") or sent.csrf or ""
        if not _same(token, who.csrf_token):
            raise CsrfRefused
        name = sent.filename or sent.part_filename
        if not name:
            raise InvalidInput("choose a file")
        result = await run_in_threadpool(
            library.upload_document, rt.sessions, documents_queue(request), who.client_id,
            folder=_folder(sent.folder), filename=name, content=sent.content,
            content_type=sent.content_type, max_bytes=max_bytes)
    except KnowledgeError as exc:
        if wants_json:
            return JSONResponse({"detail": str(exc)}, status_code=exc.http_status)
        folder = _folder(request.query_params.get("folder"))
        return await run_in_threadpool(_kb_page, request, who, folder, str(exc),
                                       exc.http_status)
    doc = result.document
    log.info("kb.document.uploaded_by", client_id=who.client_id, document_id=doc.id,
             reviewer=who.name, via="console")
    if wants_json:
        return JSONResponse({"id": doc.id, "path": doc.path, "status": doc.status,
                             "replaced": result.replaced}, status_code=200 if result.replaced
                            else 201)
    return _back(doc.folder, "uploaded")


def _same(a: str, b: str) -> bool:
    import hmac

    return hmac.compare_digest(a.encode(), b.encode())


# --- folders -----------------------------------------------------------------------------------


@router.post("/knowledge/folders/{action}")
async def folder_action(request: Request, action: str,
                        who: SignedIn = Depends(admin_signed_in)) -> Response:
    fields = await check_csrf(request, who)
    rt, path = _rt(request), _folder(fields.get("path"))
    try:
        _no_nul(*fields.values())
        if action == "create":
            made = await run_in_threadpool(folders.create_folder, rt.sessions, who.client_id,
                                           path)
            return _back(made, "folder")
        if action == "rename":
            moved = await run_in_threadpool(folders.rename_folder, rt.sessions, who.client_id,
                                            path, _folder(fields.get("new_path")))
            return _back(moved, "folder-renamed")
        if action == "delete":
            await run_in_threadpool(folders.delete_folder, rt.sessions, documents_queue(request),
                                    who.client_id, path)
            return _back("", "folder-deleted")
    except KnowledgeError as exc:
        return await run_in_threadpool(_kb_page, request, who, fields.get("back", "")[:1000],
                                       str(exc), exc.http_status)
    return render(request, "missing.html", 404, who=who)


@router.post("/knowledge/bulk-delete")
async def bulk_delete(request: Request, who: SignedIn = Depends(admin_signed_in)) -> Response:
    fields = await check_csrf(request, who)
    ids = [i for i in (await request.form()).getlist("ids")
           if isinstance(i, str) and _valid_id(i)][:1000]
    folder = _folder(fields.get("folder"))
    if not ids:
        return await run_in_threadpool(_kb_page, request, who, folder,
                                       "Select the documents to delete first.", 400)
    rt, queue = _rt(request), documents_queue(request)
    for document_id in ids:
        try:
            await run_in_threadpool(library.delete_document, rt.sessions, queue,
                                    who.client_id, document_id)
        except NotFound:  # deleted meanwhile, or never this client's: nothing to do
            continue
    log.info("kb.documents.deleted", client_id=who.client_id, count=len(ids),
             reviewer=who.name, via="console")
    return _back(folder, "deleted")


# --- one document ------------------------------------------------------------------------------


def _document_page(request: Request, who: SignedIn, document_id: str,
                   error: str | None = None, status_code: int = 200,
                   audience_text: dict[str, str] | None = None) -> HTMLResponse:
    rt = _rt(request)
    try:
        doc = library.show_document(rt.sessions, who.client_id, document_id)
        count = library.audience_count(rt.sessions, who.client_id, document_id)
    except NotFound:
        return render(request, "missing.html", 404, who=who)
    seg = doc.segmentation or Segmentation()
    text = audience_text or {
        "segments": "\n".join(sorted(f"{s.group_id}:{s.item_id}" for s in seg.segments)),
        "user_ids": "\n".join(sorted(seg.user_ids)),
    }
    return render(request, "kb_document.html", status_code, who=who, section="kb", doc=doc,
                  count=count, audience=text, error=error, pending=PENDING,
                  done=DONE.get(request.query_params.get("done", "")))


@router.get("/knowledge/documents/{document_id}")
async def document_page(request: Request, document_id: str,
                        who: SignedIn = Depends(signed_in)) -> HTMLResponse:
    if not _valid_id(document_id):
        return render(request, "missing.html", 404, who=who)
    return await run_in_threadpool(_document_page, request, who, document_id)


def parse_audience(segments: str, user_ids: str) -> Segmentation:
    """The audience editor's text: one GROUP_ID:ITEM_ID per line, one user id per line."""
    lines = [s.strip() for s in segments.splitlines() if s.strip()]
    users = [u.strip() for u in user_ids.splitlines() if u.strip()]
    return Segmentation.of((parse_segment(s) for s in lines), users)


@router.post("/knowledge/documents/{document_id}/{action}")
async def document_action(request: Request, document_id: str, action: str,
                          who: SignedIn = Depends(admin_signed_in)) -> Response:
    fields = await check_csrf(request, who)
    if not _valid_id(document_id):
        return render(request, "missing.html", 404, who=who)
    rt, client = _rt(request), who.client_id
    back = _folder(fields.get("folder"))
    audience_text = None
    try:
        _no_nul(*fields.values())
        if action == "rename":
            view = await run_in_threadpool(library.rename_document, rt.sessions, client,
                                           document_id, fields.get("filename", "")[:255])
        elif action == "move":
            view = await run_in_threadpool(library.move_document, rt.sessions, client,
                                           document_id, _folder(fields.get("to")))
        elif action == "retry":
            view = await run_in_threadpool(library.retry_document, rt.sessions,
                                           documents_queue(request), client, document_id)
            if fields.get("from") == "list":
                return _back(view.folder, "retried")
        elif action == "delete":
            await run_in_threadpool(library.delete_document, rt.sessions,
                                    documents_queue(request), client, document_id)
            return _back(back, "deleted")
        elif action == "audience":
            audience_text = {"segments": fields.get("segments", "")[:200_000],
                             "user_ids": fields.get("user_ids", "")[:200_000]}
            segmentation = parse_audience(audience_text["segments"], audience_text["user_ids"])
            view = await run_in_threadpool(library.replace_segmentation, rt.sessions, client,
                                           document_id, segmentation)
        else:
            return render(request, "missing.html", 404, who=who)
    except KnowledgeError as exc:
        return await run_in_threadpool(_document_page, request, who, document_id, str(exc),
                                       exc.http_status, audience_text)
    log.info("kb.document." + action, client_id=client, document_id=document_id,
             reviewer=who.name, via="console")
    done = {"rename": "renamed", "move": "moved", "retry": "retried"}.get(action, action)
    return RedirectResponse(f"/knowledge/documents/{view.id}?done={done}", status_code=303)


# --- preview as a lead -------------------------------------------------------------------------


def _preview(rt: Runtime, client_id: str, query: str, segments: str,
             user_id: str) -> dict:
    _no_nul(query, segments, user_id)
    lines = [s.strip() for s in segments.splitlines() if s.strip()]
    audience = Audience(user_id=user_id or None,
                        segments=frozenset(parse_segment(s) for s in lines))
    visible = library.visible_documents(rt.sessions, client_id, audience, 1000)
    hits = library.search(rt.sessions, client_id, query, audience, 5) if query else []
    return {"visible": visible, "hits": hits}


@router.get("/knowledge/preview")
async def preview(request: Request, who: SignedIn = Depends(signed_in)) -> HTMLResponse:
    params = request.query_params
    query = params.get("q", "").strip()[:2000]
    segments, user_id = params.get("segments", "")[:20_000], params.get("user", "").strip()[:200]
    result, error = None, None
    if "q" in params:
        try:
            result = await run_in_threadpool(_preview, _rt(request), who.client_id, query,
                                             segments, user_id)
        except KnowledgeError as exc:
            error = str(exc)
    return render(request, "kb_preview.html", 400 if error else 200, who=who, section="kb",
                  q=query, segments=segments, user=user_id, result=result, error=error)
