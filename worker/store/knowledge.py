"""Knowledge-base search, audiences and chunks. Every statement names the client in its WHERE.

`search_knowledge` is what recall calls: full-text search over the chunks of the client's
ready documents, filtered in SQL to the documents whose audience includes the lead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import TextClause, delete, insert, select, text
from sqlalchemy.orm import Session

from worker.audience import Audience, Segment, Segmentation
from worker.text.chunking import Chunk
from worker.text.query_terms import make_snippet, query_terms
from worker.store.models import KbChunk, KbDocument, KbDocumentSegment, KbDocumentUser, new_id
from worker.store import sql, tenancy
from worker.statuses import DocumentStatus

__all__ = ["Audience", "KnowledgeHit", "search_knowledge"]

# Who may see a document (the lead's audience, worker/audience.py): untagged documents, and tagged
# ones listing one of the lead's (group_id, item_id) pairs or its user id. Written once, for
# both search_knowledge (sent as is) and audience_filter (as a text() clause). The lead's
# segments come as two parallel text[] (unnested pairwise) and its user id may be NULL, so the
# statement text is the same whatever the audience. CAST, not `::`: text() would read
# `:seg_groups::text[]` as no parameter at all. The client is named in the EXISTS subqueries
# that show a document; row-level security backs them.
_AUDIENCE = """(
    (NOT EXISTS (SELECT 1 FROM kb_document_segments s WHERE s.document_id = kb_documents.id)
     AND NOT EXISTS (SELECT 1 FROM kb_document_users u WHERE u.document_id = kb_documents.id))
    OR EXISTS (
        SELECT 1 FROM kb_document_segments s
        JOIN unnest(CAST(%(seg_groups)s AS text[]), CAST(%(seg_items)s AS text[])) AS a(g, i)
          ON s.group_id = a.g AND s.item_id = a.i
        WHERE s.document_id = kb_documents.id AND s.client_id = %(client_id)s)
    OR EXISTS (
        SELECT 1 FROM kb_document_users u
        WHERE u.document_id = kb_documents.id AND u.client_id = %(client_id)s
          AND u.user_id = %(user_id)s)
)"""

# The same rule for SQLAlchemy statements (visible_documents): `:name` binds, built once.
_AUDIENCE_CLAUSE = text(re.sub(r"%\((\w+)\)s", r":\1", _AUDIENCE))

# Recall's knowledge search, sent straight to psycopg (worker/store/sql.py: compiling the Core
# statement cost more CPU than Postgres spent running it). 'english' is the text search
# configuration of kb_chunks.tsv (migration 0005); both sides must agree. Weights of
# {D, C, B, A}: a word in the chunk's headings (A) counts twice one in its body (D).
# Normalization 33: 1 = divide by 1 + log(length), 32 = rank / (rank + 1), so 0 … 1. ts_rank,
# not ts_rank_cd: an OR of a lead's words matches many chunks, and on those ts_rank_cd took
# 2.4 times as long (bench/kb_ingest.py) for no better order of such short chunks.
_SEARCH = """SELECT kb_chunks.id, kb_chunks.document_id, kb_chunks.heading, kb_chunks.text,
       kb_documents.filename, kb_documents.folder, kb_documents.updated_at,
       ts_rank('{0.5, 0.5, 0.5, 1.0}'::float4[], kb_chunks.tsv,
               websearch_to_tsquery('english'::regconfig, %(q)s), 33) AS score
FROM kb_chunks JOIN kb_documents ON kb_documents.id = kb_chunks.document_id
WHERE kb_chunks.client_id = %(client_id)s
  AND kb_documents.client_id = %(client_id)s
  AND kb_documents.status = 'ready'
  AND kb_chunks.tsv @@ websearch_to_tsquery('english'::regconfig, %(q)s)
  AND """ + _AUDIENCE + """
ORDER BY score DESC, kb_chunks.id
LIMIT %(limit)s"""


def _audience_params(client_id: str, audience: Audience) -> dict[str, object]:
    segments = list(audience.segments)
    return {
        "client_id": client_id,
        "seg_groups": [s.group_id for s in segments],  # pairwise with seg_items
        "seg_items": [s.item_id for s in segments],
        "user_id": audience.user_id or None,  # NULL matches no user row
    }


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
    rows = sql.run(session, _SEARCH, {
        **_audience_params(client_id, audience), "q": " or ".join(terms), "limit": limit,
    })
    return [
        KnowledgeHit(
            id=chunk_id, document_id=document_id, kind="knowledge", score=round(float(score), 6),
            snippet=make_snippet(text_, terms), title=filename, heading=heading, folder=folder,
            updated_at=updated_at, text=text_,
        )
        for chunk_id, document_id, heading, text_, filename, folder, updated_at, score in rows
    ]


def audience_filter(client_id: str, audience: Audience) -> TextClause:
    """True for documents of the current row (kb_documents) that `audience` may see: untagged
    ones, and tagged ones listing one of its segments or its user id (_AUDIENCE)."""
    return _AUDIENCE_CLAUSE.bindparams(**_audience_params(client_id, audience))


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
