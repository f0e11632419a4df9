"""What the HTTP entry points of the knowledge base (the API and the console) share: reading
an upload off the wire without holding more than the cap, and the queue its processing goes to.

Two shapes: the file as the raw body (its Content-Type declared, `?filename=` naming it), or
`multipart/form-data` with a `file` part and an optional `segmentation` part (JSON). Either is
read as a stream and refused with 413 as soon as it outgrows KB_MAX_UPLOAD_BYTES (a declared
Content-Length past the bound is refused before a byte is read).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import Request
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from worker.knowledge.errors import InvalidInput, TooLarge
from worker.knowledge.ports import DocumentQueue

# Room a multipart body needs beside the file: the segmentation part (10,000 entries of
# two ids fit) and the part headers.
SEGMENTATION_MAX_BYTES = 4 * 1024 * 1024
MULTIPART_OVERHEAD = SEGMENTATION_MAX_BYTES + 64 * 1024


@dataclass(frozen=True)
class Upload:
    content: bytes
    content_type: str | None
    filename: str | None = None  # multipart: the `filename` field (wins over ?filename=)
    folder: str | None = None  # multipart: the `folder` field (wins over ?folder=)
    part_filename: str | None = None  # multipart: the file part's own name (the fallback)
    segmentation: Any = None  # the parsed JSON of the segmentation part; None: none sent
    csrf: str | None = None  # multipart: the console form's CSRF field (the API has none)


def is_multipart(request: Request) -> bool:
    return request.headers.get("content-type", "").lower().startswith("multipart/form-data")


async def read_raw(request: Request, max_bytes: int) -> Upload:
    """The body is the file."""
    body = bytearray()
    async for chunk in _bounded(request, max_bytes):
        body += chunk
    return Upload(bytes(body), request.headers.get("content-type"))


async def read_multipart(request: Request, max_bytes: int) -> Upload:
    """`file` (required), `segmentation` (JSON, optional), `folder` and `filename` (optional);
    the console's form adds `csrf`."""
    parser = MultiPartParser(
        request.headers, _bounded(request, max_bytes + MULTIPART_OVERHEAD),
        max_files=2, max_fields=5, max_part_size=SEGMENTATION_MAX_BYTES,
    )
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise InvalidInput(f"malformed multipart body: {exc.message}") from exc
    try:
        file = form.get("file")
        if isinstance(file, UploadFile):
            if file.size is not None and file.size > max_bytes:
                raise _too_large(file.size, max_bytes)
            content, filename, content_type = await file.read(), file.filename, file.content_type
        elif isinstance(file, str):  # a plain field: the text is the file
            content, filename, content_type = file.encode(), None, None
        else:
            raise InvalidInput("the multipart body needs a 'file' part")
        return Upload(
            content, content_type, filename=_text(form.get("filename")),
            folder=_text(form.get("folder")), part_filename=filename,
            segmentation=await _segmentation(form.get("segmentation")),
            csrf=_text(form.get("csrf")),
        )
    finally:
        await form.close()


async def _segmentation(part: UploadFile | str | None) -> Any:
    if part is None:
        return None
    raw = await part.read() if isinstance(part, UploadFile) else part.encode()
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"the segmentation part is not JSON: {exc}") from exc


def _text(value: UploadFile | str | None) -> str | None:
    return value if isinstance(value, str) and value else None


async def _bounded(request: Request, limit: int) -> AsyncIterator[bytes]:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"the request body has {int(declared):,} bytes; the limit is {limit:,}")
    seen = 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > limit:
            raise TooLarge(f"the request body is larger than the limit of {limit:,} bytes")
        yield chunk


def _too_large(size: int, limit: int) -> TooLarge:
    return TooLarge(f"the file has {size:,} bytes; the limit is {limit:,}")


def documents_queue(request: Request) -> DocumentQueue:
    """Where processing and purging go: the queue the app was built with, else Celery's."""
    if request.app.state.documents is None:
        from worker.adapters.celery_app import CeleryDocumentQueue, make_celery

        request.app.state.documents = CeleryDocumentQueue(
            make_celery(request.app.state.rt.settings))
    return request.app.state.documents
