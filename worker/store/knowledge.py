"""Knowledge-base search, audiences and chunks. Every statement names the client in its WHERE.

`search_knowledge` is what recall calls: full-text search over the chunks of the client's
ready documents, filtered in SQL to the documents whose audience includes the lead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    ColumnElement, and_, delete, exists, func, insert, literal_column, or_, select,
)
from sqlalchemy.orm import Session

from worker.audience import Audience, Segment, Segmentation
from worker.text.chunking import Chunk
from worker.text.query_terms import make_snippet, query_terms
from worker.store.models import KbChunk, KbDocument, KbDocumentSegment, KbDocumentUser, new_id
from worker.store import tenancy
from worker.statuses import DocumentStatus

__all__ = ["Audience", "KnowledgeHit", "search_knowledge"]

# The text search configuration of kb_chunks.tsv (migration 0005); both sides must agree.
_TS_CONFIG = literal_column("'english'::regconfig")
_TSV = literal_column("kb_chunks.tsv")
# Weights of {D, C, B, A}: a word in the chunk's headings (A) counts twice one in its body (D).
_RANK_WEIGHTS = literal_column("'{0.5, 0.5, 0.5, 1.0}'::float4[]")
# Normalization: 1 = divide by 1 + log(length), 32 = rank / (rank + 1), so 0 … 1. ts_rank,
# not ts_rank_cd: an OR of a lead's words matches many chunks, and on those ts_rank_cd took
# 2.4 times as long (bench/kb_ingest.py) for no better order of such short chunks.
_RANK_NORMALIZATION = 33


@dataclass(frozen=True)
class KnowledgeHit:
    id: str  # the chunk's id
    document_id: str
    kind: str  # always "knowledge"
    score: float  # higher is better, 0 … 1
    snippet: str  # ~300 characters around the first matching word
    title: str  # the document's filename
    heading: str  # the headings the chunk sits under, "" before the first one
    folder: str
    updated_at: datetime  # when the document was last uploaded, renamed or moved
    text: str  # the whole chunk (a few hundred words), for a prompt that wants more


def search_knowledge(
    session: Session, client_id: str, query: str, audience: Audience, limit: int
) -> list[KnowledgeHit]:
    """The client's best-matching chunks that this lead may see, best first. Only `ready`
    documents are searched; documents of other clients never, whatever their text."""
    tenancy.bind(session, client_id)
    terms = query_terms(query)
    if not terms or limit <= 0:
        return []
    tsquery = func.websearch_to_tsquery(_TS_CONFIG, " or ".join(terms))
    score = func.ts_rank(_RANK_WEIGHTS, _TSV, tsquery, _RANK_NORMALIZATION)
    matches = _TSV.op("@@")(tsquery)
    rows = session.execute(
        select(
            KbChunk.id, KbChunk.document_id, KbChunk.heading, KbChunk.text,
            KbDocument.filename, KbDocument.folder, KbDocument.updated_at,
            score.label("score"),
        )
        .join(KbDocument, KbDocument.id == KbChunk.document_id)
        .where(
            KbChunk.client_id == client_id,
            KbDocument.client_id == client_id,
            KbDocument.status == "ready",
            matches,
            audience_filter(client_id, audience),
        )
        .order_by(literal_column("score").desc(), KbChunk.id)
        .limit(limit)
    )
    return [
        KnowledgeHit(
            id=r.id, document_id=r.document_id, kind="knowledge", score=round(float(r.score), 6),
            snippet=make_snippet(r.text, terms), title=r.filename, heading=r.heading,
            folder=r.folder, updated_at=r.updated_at, text=r.text,
        )
        for r in rows
    ]


def audience_filter(client_id: str, audience: Audience) -> ColumnElement[bool]:
    """True for documents of the current row (KbDocument) that `audience` may see: untagged
    ones, and tagged ones listing one of its segments or its user id."""
    seg, usr = KbDocumentSegment, KbDocumentUser
    allowed = [
        and_(
            ~exists().where(seg.document_id == KbDocument.id),
            ~exists().where(usr.document_id == KbDocument.id),
        )
    ]
    if audience.segments:
        allowed.append(
            exists().where(
                seg.document_id == KbDocument.id,
                seg.client_id == client_id,
                or_(*(
                    and_(seg.group_id == s.group_id, seg.item_id == s.item_id)
                    for s in sorted(audience.segments)
                )),
            )
        )
    if audience.user_id:
        allowed.append(
            exists().where(
                usr.document_id == KbDocument.id,
                usr.client_id == client_id,
                usr.user_id == audience.user_id,
            )
        )
    return or_(*allowed)


def replace_chunks(session: Session, client_id: str, document_id: str, chunks: list[Chunk]) -> None:
    tenancy.bind(session, client_id)
    session.execute(
        delete(KbChunk).where(KbChunk.client_id == client_id, KbChunk.document_id == document_id),
        execution_options={"synchronize_session": False},
    )
    if chunks:
        session.execute(
            insert(KbChunk),
            [
                {"id": new_id(), "client_id": client_id, "document_id": document_id,
                 "position": i, "heading": c.heading, "text": c.text}
                for i, c in enumerate(chunks)
            ],
        )


def replace_segmentation(
    session: Session, client_id: str, document_id: str, segmentation: Segmentation
) -> None:
    """Wholesale: what was there before is gone."""
    tenancy.bind(session, client_id)
    for table in (KbDocumentSegment, KbDocumentUser):
        session.execute(
            delete(table).where(table.client_id == client_id, table.document_id == document_id),
            execution_options={"synchronize_session": False},
        )
    if segmentation.segments:
        session.execute(insert(KbDocumentSegment), [
            {"document_id": document_id, "client_id": client_id,
             "group_id": s.group_id, "item_id": s.item_id}
            for s in sorted(segmentation.segments)
        ])
    if segmentation.user_ids:
        session.execute(insert(KbDocumentUser), [
            {"document_id": document_id, "client_id": client_id, "user_id": u}
            for u in sorted(segmentation.user_ids)
        ])


def segmentation_of(session: Session, client_id: str, document_id: str) -> Segmentation:
    tenancy.bind(session, client_id)
    segments = session.execute(
        select(KbDocumentSegment.group_id, KbDocumentSegment.item_id).where(
            KbDocumentSegment.client_id == client_id, KbDocumentSegment.document_id == document_id
        )
    )
    users = session.scalars(
        select(KbDocumentUser.user_id).where(
            KbDocumentUser.client_id == client_id, KbDocumentUser.document_id == document_id
        )
    )
    return Segmentation.of((Segment(g, i) for g, i in segments), users)


def visible_documents(
    session: Session, client_id: str, audience: Audience, limit: int
) -> list[KbDocument]:
    """The client's documents (any status but deleting) that `audience` may see."""
    tenancy.bind(session, client_id)
    return list(
        session.scalars(
            select(KbDocument)
            .where(
                KbDocument.client_id == client_id,
                KbDocument.status != DocumentStatus.DELETING,
                audience_filter(client_id, audience),
            )
            .order_by(KbDocument.folder, KbDocument.filename)
            .limit(limit)
        )
    )
