"""Who may see what: a document's audience, batch segmentation, and what a lead with a given
audience is shown (`search` exactly as recall gets it, `visible`)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query

from worker.api.auth import client_id, runtime
from worker.api.kb_views import audience_json, document_json
from worker.api.knowledge.common import (
    NO_NUL, NOT_FOUND, PREFIX, REFUSED, TAGS, DocumentId, refusals,
)
from worker.api.schemas import (
    AudienceCount, DocumentList, DocumentOut, Id, SearchHit, SearchResults, SegmentationIn,
    SegmentationOut,
)
from worker.api.strict_json import StrictJSONRoute
from worker.knowledge import library
from worker.audience import Audience, parse_segment
from worker.logs import log
from worker.bootstrap import Runtime

router = APIRouter(prefix=PREFIX, tags=TAGS, route_class=StrictJSONRoute)


def _audience(user_id: str | None, segments: list[str]) -> Audience:
    if any("\x00" in s for s in segments):
        raise HTTPException(422, "a segment must not contain NUL")
    with refusals():
        return Audience(user_id=user_id or None,
                        segments=frozenset(parse_segment(s) for s in segments))


@router.get("/documents/{documentId}/audience", response_model=AudienceCount,
            responses=NOT_FOUND)
def audience_count(
    documentId: str = DocumentId,  # noqa: N803
    client: str = Depends(client_id), rt: Runtime = Depends(runtime),
) -> AudienceCount:
    """How many segmentation tags and user ids the document is restricted to (`everyone`
    when none)."""
    with refusals():
        return AudienceCount(**audience_json(library.audience_count(rt.sessions, client, documentId)))


@router.put("/documents/{documentId}/segmentation", response_model=SegmentationOut,
            responses={**REFUSED, **NOT_FOUND})
def replace_segmentation(
    body: SegmentationIn, documentId: str = DocumentId,  # noqa: N803
    client: str = Depends(client_id), rt: Runtime = Depends(runtime),
) -> SegmentationOut:
    """Replace the document's audience whole (`{}`: everyone)."""
    with refusals():
        view = library.replace_segmentation(rt.sessions, client, documentId,
                                            body.model_dump(mode="json"))
    log.info("kb.segmentation.replaced", client_id=client, documents=1)
    return SegmentationOut(**view.segmentation.to_json())


@router.put("/segmentation", response_model=dict[str, SegmentationOut],
            responses={**REFUSED, **NOT_FOUND})
def replace_segmentations(
    body: dict[Id, SegmentationIn], client: str = Depends(client_id),
    rt: Runtime = Depends(runtime),
) -> dict[str, SegmentationOut]:
    """Batch: `{"DOC_ID": {"segments": […], "userIds": […]}, …}`, all or nothing — an unknown
    document or a refused segmentation anywhere leaves every document as it was."""
    if len(body) > 1000:
        raise HTTPException(422, "at most 1000 documents per batch")
    with refusals():
        views = library.replace_segmentations(
            rt.sessions, client, {k: v.model_dump(mode="json") for k, v in body.items()})
    log.info("kb.segmentation.replaced", client_id=client, documents=len(views))
    return {v.id: SegmentationOut(**v.segmentation.to_json()) for v in views}


_USER = Query(None, max_length=200, pattern=NO_NUL, description="the lead's metadata.userId")
_SEGMENTS = Query([], max_length=100, description="GROUP_ID:ITEM_ID tags the lead carries")


@router.get("/search", response_model=SearchResults, responses=REFUSED)
def search(
    q: str = Query(min_length=1, max_length=2000, pattern=NO_NUL),
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


@router.get("/visible", response_model=DocumentList, responses=REFUSED)
def visible(
    userId: str | None = _USER,  # noqa: N803
    segment: list[str] = _SEGMENTS,
    limit: int = Query(100, ge=1, le=1000),
    client: str = Depends(client_id), rt: Runtime = Depends(runtime),
) -> DocumentList:
    """The documents a lead with this audience may be shown (whatever their status)."""
    views = library.visible_documents(rt.sessions, client, _audience(userId, segment), limit)
    return DocumentList(documents=[DocumentOut(**document_json(v)) for v in views])
