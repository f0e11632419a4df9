"""Reading memory for recall: the scope of a recall, scored candidates, nearest vectors.

Every function takes `client_id` and filters on it in SQL; recall can never cross tenants.
On Postgres the lexical candidates come from the GIN-indexed `tsv` column (English stemming,
stop words removed) and are scored there; on SQLite (the demo) a plain term overlap is scored
by worker.pipeline.ranking.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from worker.pipeline import ranking
from worker.pipeline.ranking import Candidate, ScopeStats
from worker.store import lexical_sqlite
from worker.store.models import MemoryItem


@dataclass(frozen=True)
class Scope:
    """Whose memory a recall reads. `whole_client` ignores lead and conversation."""

    lead_key: str | None = None
    conversation_id: str | None = None
    whole_client: bool = False
    exclude_ref: str | None = None  # the message being drafted is not its own memory

@dataclass(frozen=True)
class StoredItem:
    id: str
    client_id: str
    kind: str
    text: str
    external_id: str | None
    created_at: datetime

def _scope_sql(scope: Scope) -> tuple[str, dict]:
    params: dict = {}
    if scope.whole_client:
        clause = "TRUE"
    else:
        # The lead's own history, plus what belongs to the whole client: approved replies
        # (how this dealer answers) and notes kept without a lead or conversation. History is
        # bound to the lead key: a conversation id is only trusted for items without a lead
        # (a chat without leadId), never to reach another lead's items.
        parts = ["m.kind = 'approved_reply'", "(m.lead_key IS NULL AND m.conversation_id IS NULL)"]
        if scope.lead_key:
            parts.insert(0, "m.lead_key = :lead_key")
            params["lead_key"] = scope.lead_key
        elif scope.conversation_id:
            parts.insert(0, "(m.conversation_id = :conversation_id AND m.lead_key IS NULL)")
            params["conversation_id"] = scope.conversation_id
        clause = "(" + " OR ".join(parts) + ")"
    if scope.exclude_ref:
        clause += " AND m.source_ref IS DISTINCT FROM :exclude_ref"
        params["exclude_ref"] = scope.exclude_ref
    return clause, params


# The query's lexemes (both queries below start with them).
_QUERY_TERMS = """
WITH q AS MATERIALIZED (
    SELECT websearch_to_tsquery('english', :qtext) AS tsq,
           array_agg(lexeme) AS lx,
           array_agg((quote_literal(lexeme) || '\\:A')::tsquery) AS qa,
           array_agg((quote_literal(lexeme) || '\\:B')::tsquery) AS qb,
           array_agg((quote_literal(lexeme) || '\\:C')::tsquery) AS qc
    FROM unnest(to_tsvector('english', :qtext))
    WHERE position(E'\\\\' IN lexeme) = 0
)"""

# One term query per lexeme and weight ('x':A matches x in the item's own text, 'x':B in its
# next neighbours', 'x':C in the ones beyond): a handful of @@ tests per row instead of
# unnesting every tsvector. Term counts become 0/1, which short messages hardly lose.
# Recall itself uses _PG_RANKED below (scored in SQL); these raw per-term counts feed the pure
# ranking module, which is how a test holds the two to the same formula.
_PG_CANDIDATES = _QUERY_TERMS + """
SELECT s.id, s.kind, s.created_at, s.doc_len, s.n, s.avgdl, q.lx AS terms,
       ARRAY(SELECT (s.tsv @@ a)::int FROM unnest(q.qa) AS a) AS in_text,
       ARRAY(SELECT (s.tsv @@ b)::int FROM unnest(q.qb) AS b) AS in_near,
       ARRAY(SELECT (s.tsv @@ c)::int FROM unnest(q.qc) AS c) AS in_far
FROM (
    SELECT m.id, m.kind, m.created_at, m.doc_len, m.tsv,
           count(*) OVER () AS n, avg(m.doc_len) OVER () AS avgdl
    FROM memory_items m
    WHERE m.client_id = :client_id AND {scope}
) AS s CROSS JOIN q
WHERE s.tsv @@ q.tsq
"""


def candidates(
    session: Session, client_id: str, scope: Scope, query_words: list[str]
) -> tuple[ScopeStats, list[Candidate]]:
    """Every item in scope sharing a term with the query, with its term counts."""
    if not query_words:
        return ScopeStats(0, 0.0), []
    if session.get_bind().dialect.name != "postgresql":
        return _sqlite_candidates(session, client_id, scope, query_words)
    clause, params = _scope_sql(scope)
    # websearch syntax: "a or b or c" is an OR query; its parser copes with any input.
    rows = session.execute(
        text(_PG_CANDIDATES.format(scope=clause)),
        {"client_id": client_id, "qtext": " or ".join(query_words), **params},
    ).all()
    if not rows:
        return ScopeStats(0, 0.0), []
    stats = ScopeStats(n=rows[0].n, avgdl=float(rows[0].avgdl))
    found = [
        Candidate(
            id=r.id, kind=r.kind, created_at=r.created_at, doc_len=r.doc_len,
            tf={t: (a, b, c) for t, a, b, c in zip(r.terms, r.in_text, r.in_near, r.in_far)
                if a or b or c},
        )
        for r in rows
    ]
    return stats, found


# The same BM25 as worker.pipeline.ranking, computed where the rows are: only the best `limit`
# items travel back. Its constants are passed in from ranking.py, the one place they live.
_PG_RANKED = _QUERY_TERMS + """, s AS MATERIALIZED (
    SELECT m.id, m.kind, m.created_at, m.doc_len, m.tsv
    FROM memory_items m
    WHERE m.client_id = :client_id AND {scope}
), stats AS (  -- float8 throughout: numeric arithmetic would cost more than the search
    SELECT count(*)::float8 AS n, coalesce(avg(doc_len)::float8, 0) AS avgdl FROM s
), c AS MATERIALIZED (  -- per candidate, the weighted frequency of each query term
    SELECT s.id, s.kind, s.created_at, s.doc_len,
           ARRAY(SELECT (s.tsv @@ q.qa[i])::int + CAST(:near AS float8) * (s.tsv @@ q.qb[i])::int
                        + CAST(:far AS float8) * (s.tsv @@ q.qc[i])::int
                 FROM generate_subscripts(q.lx, 1) AS i ORDER BY i) AS tf
    FROM s CROSS JOIN q
    WHERE s.tsv @@ q.tsq
), idf AS (
    SELECT array_agg(ln(1 + (st.n - d.df + 0.5) / (d.df + 0.5)) ORDER BY d.i) AS idf
    FROM (SELECT t.i, (count(*) FILTER (WHERE t.tf > 0))::float8 AS df
          FROM c CROSS JOIN LATERAL unnest(c.tf) WITH ORDINALITY AS t(tf, i)
          GROUP BY t.i) AS d
    CROSS JOIN stats st
)
SELECT c.id, c.kind, c.created_at,
       coalesce((SELECT sum(idf.idf[t.i] * t.tf * (CAST(:k1 AS float8) + 1)
                   / (t.tf + CAST(:k1 AS float8) * (1 - CAST(:b AS float8) + CAST(:b AS float8)
                      * coalesce(c.doc_len / nullif(st.avgdl, 0), 1))))
        FROM unnest(c.tf) WITH ORDINALITY AS t(tf, i) WHERE t.tf > 0), 0)
       * coalesce((SELECT w FROM unnest(CAST(:kinds AS text[]), CAST(:weights AS float8[]))
                       AS kw(k, w) WHERE k = c.kind), 1) AS score
FROM c CROSS JOIN idf CROSS JOIN stats st
ORDER BY score DESC, c.created_at DESC, c.id DESC
LIMIT :limit
"""


def ranked(
    session: Session, client_id: str, scope: Scope, query_words: list[str], limit: int
) -> list[tuple[Candidate, float]]:
    """The `limit` best items in scope for the query, BM25 as worker.pipeline.ranking scores."""
    if not query_words:
        return []
    if session.get_bind().dialect.name != "postgresql":
        stats, found = _sqlite_candidates(session, client_id, scope, query_words)
        return ranking.rank(found, stats, limit)
    clause, params = _scope_sql(scope)
    rows = session.execute(
        text(_PG_RANKED.format(scope=clause)),
        {"client_id": client_id, "qtext": " or ".join(query_words), "limit": limit,
         "near": ranking.CONTEXT_WEIGHT, "far": ranking.FAR_WEIGHT, "k1": ranking.K1,
         "b": ranking.B, "kinds": list(ranking.KIND_WEIGHTS),
         "weights": list(ranking.KIND_WEIGHTS.values()), **params},
    ).all()
    return [(Candidate(r.id, r.kind, r.created_at, 0), float(r.score)) for r in rows]


def _sqlite_candidates(
    session: Session, client_id: str, scope: Scope, query_words: list[str]
) -> tuple[ScopeStats, list[Candidate]]:
    clause, params = _scope_sql(scope)
    rows = session.execute(
        text(
            "SELECT m.id, m.kind, m.created_at, m.text, m.context, m.context_far "
            "FROM memory_items m "
            f"WHERE m.client_id = :client_id AND {clause.replace('TRUE', '1')} "
            "ORDER BY m.created_at DESC LIMIT :cap"
        ),
        {"client_id": client_id, "cap": lexical_sqlite.SCAN_CAP, **params},
    ).all()
    return lexical_sqlite.score_rows(rows, query_words)


def recent(session: Session, client_id: str, scope: Scope, limit: int) -> list[Candidate]:
    """The newest items in scope: what recall shows when too few items share a word."""
    clause, params = _scope_sql(scope)
    if session.get_bind().dialect.name != "postgresql":
        clause = clause.replace("TRUE", "1")
    rows = session.execute(
        text(
            "SELECT m.id, m.kind, m.created_at FROM memory_items m "
            f"WHERE m.client_id = :client_id AND {clause} "
            "ORDER BY m.created_at DESC, m.id DESC LIMIT :limit"
        ),
        {"client_id": client_id, "limit": limit, **params},
    ).all()
    return [Candidate(id=r.id, kind=r.kind, created_at=lexical_sqlite.aware(r.created_at), doc_len=0, tf={})
            for r in rows]

def fetch(session: Session, client_id: str, ids: list[str]) -> dict[str, StoredItem]:
    if not ids:
        return {}
    rows = session.execute(
        select(MemoryItem.id, MemoryItem.client_id, MemoryItem.kind, MemoryItem.text,
               MemoryItem.external_id, MemoryItem.created_at)
        .where(MemoryItem.client_id == client_id, MemoryItem.id.in_(ids))
    ).all()
    return {r.id: StoredItem(*r) for r in rows}

def nearest(
    session: Session, client_id: str, scope: Scope, vector: list[float], limit: int
) -> list[tuple[Candidate, float]]:
    """Items in scope by cosine similarity to `vector` (all vectors are unit length).

    Plain `real[]` and SQL arithmetic: no vector extension needed. The scope (a lead's history
    and the client-wide items) keeps the scan small.
    """
    clause, params = _scope_sql(scope)
    if session.get_bind().dialect.name != "postgresql":
        rows = session.execute(
            text("SELECT m.id, m.kind, m.created_at, m.embedding FROM memory_items m "
                 f"WHERE m.client_id = :client_id AND {clause.replace('TRUE', '1')} "
                 "AND m.embedding IS NOT NULL ORDER BY m.created_at DESC LIMIT :cap"),
            {"client_id": client_id, "cap": lexical_sqlite.SCAN_CAP, **params},
        ).all()
        scored = [(r, sum(a * b for a, b in zip(json.loads(r.embedding), vector))) for r in rows]
    else:
        scored = session.execute(
            text(
                "SELECT m.id, m.kind, m.created_at, ("
                "  SELECT sum(a * b) FROM unnest(m.embedding, CAST(:vector AS real[])) AS t(a, b)"
                ") AS score FROM memory_items m "
                f"WHERE m.client_id = :client_id AND {clause} AND m.embedding IS NOT NULL "
                "ORDER BY score DESC, m.created_at DESC LIMIT :limit"
            ),
            {"client_id": client_id, "vector": vector, "limit": limit, **params},
        ).all()
        scored = [(r, r.score) for r in scored]
    found = [(Candidate(r.id, r.kind, lexical_sqlite.aware(r.created_at), 0), float(score or 0))
             for r, score in scored if (score or 0) > 0]
    found.sort(key=lambda cs: (round(cs[1], 9), cs[0].created_at, cs[0].id), reverse=True)
    return found[:limit]
