"""Stage: what the model is shown from before — the lead's history and the client's memory.

One code path for drafts and for `agent-runtime memory search`: a list of sources (memory by
words, memory by meaning when embeddings are configured, the client's knowledge base as the lead
may see it), each returning scored hits for one client, merged and cut to `limit`, all within a
time budget. Past the budget the draft is written without memory and
the draft says so (`recall_note`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.orm import Session

from worker.errors import AgentRuntimeError
from worker.audience import Audience
from worker.logs import log
from worker.pipeline.prompt import Recalled
from worker.pipeline.snippet import snippet
from worker.ports import Embedder
from worker.store import memory, memory_search
from worker.store.knowledge import search_knowledge
from worker.store.deadline import budget
from worker.store.memory_search import Scope
from worker.store.models import InboundMessage
from worker.text.contacts import redact

QUERY_CHARS = 2000  # a long e-mail's first part says what it is about
QUERY_WORDS = 64
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class RecallRequest:
    client_id: str
    query: str
    scope: Scope
    limit: int
    query_vector: list[float] | None = None  # set by recall() when an embedder is configured
    # Who the lead is for the knowledge base: only documents meant for them are recalled.
    audience: Audience = Audience()


@dataclass(frozen=True)
class Hit:
    id: str
    kind: str
    score: float
    snippet: str
    text: str
    external_id: str | None
    client_id: str
    created_at: datetime


@dataclass(frozen=True)
class RecallResult:
    hits: list[Hit]
    note: str | None = None  # set when recall was skipped
    query_vector: list[float] | None = None  # the query's embedding, for writing it back


Source = Callable[[Session, RecallRequest], list[Hit]]


def query_words(query: str) -> list[str]:
    """Distinct words, in order. "or" is left out: it is the OR operator of the search syntax."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(query[:QUERY_CHARS].lower()):
        if word != "or":
            seen.setdefault(word, None)
    return list(seen)[:QUERY_WORDS]


def memory_source(session: Session, req: RecallRequest) -> list[Hit]:
    words = query_words(req.query)
    ranked = memory_search.ranked(session, req.client_id, req.scope, words, req.limit)
    if len(ranked) < req.limit:
        # Too few items share a word: the newest ones still tell the model what came before.
        have = {c.id for c, _ in ranked}
        extra = [c for c in memory_search.recent(session, req.client_id, req.scope, req.limit)
                 if c.id not in have]
        ranked += [(c, 0.0) for c in extra[: req.limit - len(ranked)]]
    return _hits(session, req, ranked, words)


def vector_source(session: Session, req: RecallRequest) -> list[Hit]:
    """Memory by meaning: cosine similarity to the query's embedding (when there is one)."""
    if req.query_vector is None:
        return []
    ranked = memory_search.nearest(session, req.client_id, req.scope, req.query_vector, req.limit)
    return _hits(session, req, ranked, query_words(req.query))


def _hits(session: Session, req: RecallRequest, ranked, words: list[str]) -> list[Hit]:  # noqa: ANN001
    items = memory_search.fetch(session, req.client_id, [c.id for c, _ in ranked])
    hits = []
    for c, score in ranked:
        item = items.get(c.id)
        if item is None:
            continue
        text = _shown_text(req.scope, item)
        hits.append(Hit(id=c.id, kind=c.kind, score=score, snippet=snippet(text, words),
                        text=text, external_id=item.external_id, client_id=item.client_id,
                        created_at=c.created_at))
    return hits


def _shown_text(scope: Scope, item: memory_search.StoredItem) -> str:
    """The dealer's approved replies are recalled client-wide, as examples of how it answers;
    one written to another lead still holds that lead's e-mail, phone or IBAN, which a draft for
    this lead must never be shown (the model would repeat them). Blanked out, with a
    placeholder saying what was there. The lead's own items and an operator's client-wide
    search are shown as stored."""
    own = scope.lead_key is not None and item.lead_key == scope.lead_key
    if scope.whole_client or own or item.lead_key is None and item.kind != "approved_reply":
        return item.text
    return redact(item.text)


def knowledge_source(session: Session, req: RecallRequest) -> list[Hit]:
    """The client's documents this lead may see (audience filtered in SQL). One hit per
    document, its best chunk, so a draft's memoryRefs name the documents that shaped it."""
    chunks = search_knowledge(session, req.client_id, req.query, req.audience, req.limit * 3)
    best: dict[str, Hit] = {}
    for c in chunks:  # best first
        if c.document_id not in best:
            where = f"{c.title} › {c.heading}" if c.heading else c.title
            best[c.document_id] = Hit(
                id=c.document_id, kind="knowledge", score=c.score,
                snippet=f"[{where}] {c.snippet}", text=c.text, external_id=c.title,
                client_id=req.client_id, created_at=c.updated_at,
            )
    return list(best.values())[: req.limit]


DEFAULT_SOURCES: tuple[Source, ...] = (memory_source, vector_source, knowledge_source)


def merge(per_source: Sequence[list[Hit]], limit: int) -> list[Hit]:
    """Each source's scores scaled to its best hit (sources score on different scales); an item
    two sources found gets both shares; scaled again so the best is 1; best first, the newer
    item first among equals."""
    combined: dict[str, Hit] = {}
    for hits in per_source:
        top = max((h.score for h in hits), default=0.0)
        for h in hits:
            share = h.score / top if top > 0 else 0.0
            seen = combined.get(h.id)
            combined[h.id] = replace(h, score=share + (seen.score if seen else 0.0))
    best = max((h.score for h in combined.values()), default=0.0)
    merged = [replace(h, score=round(h.score / best, 4) if best > 0 else 0.0)
              for h in combined.values()]
    merged.sort(key=lambda h: (h.score, h.created_at, h.id), reverse=True)
    return merged[:limit]


def recall(
    session: Session,
    req: RecallRequest,
    budget_seconds: float,
    sources: Sequence[Source] = DEFAULT_SOURCES,
    embedder: Embedder | None = None,
) -> RecallResult:
    started = time.perf_counter()
    if embedder is not None:
        req = replace(req, query_vector=_embed(embedder, req, budget_seconds))
    # The caller bound the transaction with `statement_timeout=budget_seconds`; a statement
    # cancelled past it raises RecallTimedOut and leaves the transaction aborted (see
    # worker/store/deadline.py): the caller ends it and goes on without memory.
    with budget(budget_seconds):
        per_source = [source(session, req) for source in sources]
    elapsed = time.perf_counter() - started
    if elapsed > budget_seconds:  # the embedding call and Python work count too
        return _skipped(req, f"recall skipped: took {elapsed:.2f} s, budget {budget_seconds:g} s")
    return RecallResult(merge(per_source, req.limit), query_vector=req.query_vector)


def _embed(embedder: Embedder, req: RecallRequest, budget_seconds: float) -> list[float] | None:
    """The query's vector, or None: a failing embedding model leaves lexical recall intact."""
    try:
        return embedder.embed([req.query[:QUERY_CHARS]], timeout=budget_seconds)[0]
    except AgentRuntimeError as exc:
        log.warning("recall.embedding_failed", client_id=req.client_id, reason=str(exc)[:300])
        return None


def _skipped(req: RecallRequest, note: str) -> RecallResult:
    log.warning("recall.skipped", client_id=req.client_id, reason=note)
    return RecallResult([], note)


def recall_for(
    session: Session, message: InboundMessage, lead_key: str | None, *, limit: int,
    budget_seconds: float, embedder: Embedder | None = None,
) -> tuple[list[Recalled], str | None]:
    """worker.ports.Recall: what a draft of `message` is shown, and why nothing is if recall was
    skipped — inside the claim's transaction, which already read the lead's key. The message's
    own memory item gets the query's embedding: it is the same text."""
    client_id = message.client_id
    scope = Scope(lead_key=lead_key, conversation_id=message.external_conversation_id,
                  exclude_ref=f"message:{message.id}")
    query = f"{message.subject}\n{message.new_text}" if message.subject else message.new_text
    audience = Audience.from_metadata(message.metadata_)
    result = recall(session, RecallRequest(client_id, query, scope, limit, audience=audience),
                    budget_seconds, embedder=embedder)
    if result.query_vector is not None:
        memory.set_embedding(session, client_id, f"message:{message.id}", result.query_vector)
    recalled = [
        Recalled(id=h.id, kind=h.kind, text=h.snippet, score=h.score,
                 when=h.created_at.date().isoformat())
        for h in result.hits
    ]
    return recalled, result.note
