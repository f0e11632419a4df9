"""Pure ranking of recall candidates: BM25 over the item's own words and its neighbours'.

The store supplies, per candidate, how often each query term occurs in the item's text and in
its context (the neighbouring items of its conversation); this module turns that into scores.
Kept pure so the same formula ranks Postgres and SQLite candidates and is tested without IO.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

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


@dataclass(frozen=True)
class Candidate:
    id: str
    kind: str
    created_at: datetime
    doc_len: int  # terms in the item's own text
    # term → occurrences in (text, next neighbours, neighbours beyond)
    tf: Mapping[str, tuple[int, int, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class ScopeStats:
    n: int  # items in the recall's scope
    avgdl: float  # their mean length


def idf(n: int, df: int) -> float:
    return math.log(1.0 + (n - df + 0.5) / (df + 0.5))


def bm25(c: Candidate, stats: ScopeStats, df: Mapping[str, int]) -> float:
    norm = K1 * (1 - B + B * (c.doc_len / stats.avgdl if stats.avgdl else 1.0))
    score = 0.0
    for term, (in_text, near, far) in c.tf.items():
        tf = in_text + CONTEXT_WEIGHT * near + FAR_WEIGHT * far
        if tf > 0:
            score += idf(stats.n, df[term]) * tf * (K1 + 1) / (tf + norm)
    return score * KIND_WEIGHTS.get(c.kind, 1.0)


def rank(candidates: list[Candidate], stats: ScopeStats, limit: int
         ) -> list[tuple[Candidate, float]]:
    """Best first; between equal scores the newer item wins."""
    df = Counter(term for c in candidates for term in c.tf)
    n = max(stats.n, len(candidates))
    stats = ScopeStats(n, stats.avgdl)
    scored = [(c, bm25(c, stats, df)) for c in candidates]
    scored.sort(key=lambda cs: (round(cs[1], 9), cs[0].created_at, cs[0].id), reverse=True)
    return scored[:limit]
