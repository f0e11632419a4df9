"""Reading memory for recall: the scope of a recall, scored candidates, nearest vectors.

Every function takes `client_id` and filters on it in SQL; recall can never cross tenants.
The lexical candidates come from the GIN-indexed `tsv` column (English stemming, stop words
removed) and are scored by BM25 in the same statement: only the best `limit` travel back.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import TextClause, text
from sqlalchemy.orm import Session

from worker.store import sql, tenancy

# BM25's term-frequency saturation and length normalisation. Lower than the textbook 1.2 / 0.75:
# chat turns are short and say a thing once. The four weights were chosen by recall@10 on LoCoMo
# (bench/locomo_recall.py), coarse steps only.
K1 = 0.9
B = 0.4
# A term in the next neighbours counts this much of a term in the item itself; in the ones
# beyond, FAR_WEIGHT.
CONTEXT_WEIGHT = 0.3
FAR_WEIGHT = 0.2
# An approved reply is the strongest example of what the client wants said; an unreviewed
# draft is only what the model once proposed.
KIND_WEIGHTS: Mapping[str, float] = {"approved_reply": 1.25, "draft": 0.6}
# How many of the client's newest approved replies a draft's recall weighs (see Scope.examples).
EXAMPLES_WINDOW = 1000


@dataclass(frozen=True)
class Candidate:
    """An item recall may show, before its text is read."""

    id: str
    kind: str
    created_at: datetime


@dataclass(frozen=True)
class Scope:
    """Whose memory a recall reads. `whole_client` ignores lead and conversation."""

    lead_key: str | None = None
    conversation_id: str | None = None
    whole_client: bool = False
    exclude_ref: str | None = None  # the message being drafted is not its own memory
    # A draft's recall weighs the client's newest approved replies only: they show how the
    # dealer answers now, and the cost of a recall stays bounded however many years of
    # approvals pile up (10,000 examples made a draft's recall ~100 ms, measured).
    examples: int = EXAMPLES_WINDOW

@dataclass(frozen=True)
class StoredItem:
    id: str
    client_id: str
    kind: str
    text: str
    external_id: str | None
    created_at: datetime
    lead_key: str | None  # whose it is; None for items of the whole client

# The client's `examples` newest approved replies (index ix_memory_items_client_kind).
_NEWEST_EXAMPLES = """(m.kind = 'approved_reply' AND m.created_at >= coalesce((
    SELECT e.created_at FROM memory_items e
    WHERE e.client_id = :client_id AND e.kind = 'approved_reply'
    ORDER BY e.created_at DESC OFFSET CAST(:examples AS int) - 1 LIMIT 1), '-infinity'))"""


def _scope_sql(scope: Scope) -> tuple[str, dict]:
    params: dict = {}
    if scope.whole_client:
        clause = "TRUE"
    else:
        # The lead's own history, plus what belongs to the whole client: approved replies
        # (how this dealer answers) and notes kept without a lead or conversation. History is
        # bound to the lead key: a conversation id is only trusted for items without a lead
        # (a chat without leadId), never to reach another lead's items.
        parts = [_NEWEST_EXAMPLES, "(m.lead_key IS NULL AND m.conversation_id IS NULL)"]
        params["examples"] = scope.examples
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

# BM25 computed where the rows are. One term query per lexeme and weight ('x':A matches x in the
# item's own text, 'x':B in its next neighbours', 'x':C in the ones beyond): a handful of @@
# tests per row instead of unnesting every tsvector. Term counts become 0/1, which short
# messages hardly lose. idf comes from the recall's own scope.
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


@functools.lru_cache(maxsize=64)
def _statement(template: str, scope: str) -> TextClause:
    """`template` with its scope clause, as a text() built once: there are only a few scope
    clauses (with or without a lead, whole client, an excluded ref), and parsing a long
    statement's bind parameters on every recall showed in the worker's profile."""
    return text(template.format(scope=scope))


_RECENT = (
    "SELECT m.id, m.kind, m.created_at FROM memory_items m "
    "WHERE m.client_id = :client_id AND {scope} "
    "ORDER BY m.created_at DESC, m.id DESC LIMIT :limit"
)
_NEAREST = (
    "SELECT m.id, m.kind, m.created_at, ("
    "  SELECT sum(a * b) FROM unnest(m.embedding, CAST(:vector AS real[])) AS t(a, b)"
    ") AS score FROM memory_items m "
    "WHERE m.client_id = :client_id AND {scope} AND m.embedding IS NOT NULL "
    "ORDER BY score DESC, m.created_at DESC LIMIT :limit"
)


def ranked(
    session: Session, client_id: str, scope: Scope, query_words: list[str], limit: int
) -> list[tuple[Candidate, float]]:
    """The `limit` best items in scope for the query, best first, newer first among equals."""
    tenancy.bind(session, client_id)
    if not query_words:
        return []
    clause, params = _scope_sql(scope)
    rows = session.execute(
        _statement(_PG_RANKED, clause),
        {"client_id": client_id, "qtext": " or ".join(query_words), "limit": limit,
         "near": CONTEXT_WEIGHT, "far": FAR_WEIGHT, "k1": K1, "b": B,
         "kinds": list(KIND_WEIGHTS), "weights": list(KIND_WEIGHTS.values()), **params},
    ).all()
    return [(Candidate(r.id, r.kind, r.created_at), float(r.score)) for r in rows]


def recent(session: Session, client_id: str, scope: Scope, limit: int) -> list[Candidate]:
    """The newest items in scope: what recall shows when too few items share a word."""
    tenancy.bind(session, client_id)
    clause, params = _scope_sql(scope)
    rows = session.execute(
        _statement(_RECENT, clause),
        {"client_id": client_id, "limit": limit, **params},
    ).all()
    return [Candidate(r.id, r.kind, r.created_at) for r in rows]


# Recall reads the text of every item it shows: sent straight to psycopg (worker/store/sql.py).
_FETCH = (
    "SELECT id, client_id, kind, text, external_id, created_at, lead_key FROM memory_items "
    "WHERE client_id = %(client_id)s AND id = ANY(%(ids)s)"
)


def fetch(session: Session, client_id: str, ids: list[str]) -> dict[str, StoredItem]:
    tenancy.bind(session, client_id)
    if not ids:
        return {}
    rows = sql.run(session, _FETCH, {"client_id": client_id, "ids": list(ids)})
    return {r[0]: StoredItem(*r) for r in rows}


def nearest(
    session: Session, client_id: str, scope: Scope, vector: list[float], limit: int
) -> list[tuple[Candidate, float]]:
    """Items in scope by cosine similarity to `vector` (all vectors are unit length).

    Plain `real[]` and SQL arithmetic: no vector extension needed. The scope (a lead's history
    and the client-wide items) keeps the scan small.
    """
    tenancy.bind(session, client_id)
    clause, params = _scope_sql(scope)
    rows = session.execute(
        _statement(_NEAREST, clause),
        {"client_id": client_id, "vector": vector, "limit": limit, **params},
    ).all()
    found = [(Candidate(r.id, r.kind, r.created_at), float(r.score or 0))
             for r in rows if (r.score or 0) > 0]
    found.sort(key=lambda cs: (round(cs[1], 9), cs[0].created_at, cs[0].id), reverse=True)
    return found[:limit]
