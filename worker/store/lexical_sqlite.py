"""The demo's (SQLite) stand-in for Postgres full-text search: words, stop words, a crude stem.

Good enough to show recall working without a server; Postgres is what production ranks with.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timezone

from worker.pipeline.ranking import Candidate, ScopeStats

SCAN_CAP = 5000  # newest items read per recall: the demo's memories are small
_WORD = re.compile(r"\w+")
_STOP = frozenset(
    "a an and are as at be but by for from has have i if in into is it its me my no not of on "
    "or our so that the their them then there these they this to was we were what when where "
    "which who will with you your".split()
)


def stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def terms(text: str) -> list[str]:
    return [stem(w) for w in _WORD.findall(text.lower()) if w not in _STOP]


def score_rows(rows, query_words: list[str]) -> tuple[ScopeStats, list[Candidate]]:  # noqa: ANN001
    wanted = set(terms(" ".join(query_words)))
    found: list[Candidate] = []
    lengths: list[int] = []
    for r in rows:
        own, near, far = (Counter(terms(t or "")) for t in (r.text, r.context, r.context_far))
        lengths.append(sum(own.values()))
        tf = {t: (own[t], near[t], far[t]) for t in wanted if own[t] or near[t] or far[t]}
        if tf:
            found.append(Candidate(r.id, r.kind, aware(r.created_at), lengths[-1], tf))
    avgdl = sum(lengths) / len(lengths) if lengths else 0.0
    return ScopeStats(len(lengths), avgdl), found


def aware(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
