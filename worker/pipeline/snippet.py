"""A short excerpt of a recalled item, around the words the query shares with it."""

from __future__ import annotations

import re

WIDTH = 240


def _prefixes(query_words: list[str]) -> list[str]:
    # A prefix finds the stemmed forms too ("delivery" → "deliver" matches "delivered").
    return sorted({w.lower()[: max(4, len(w) - 2)] for w in query_words if len(w) > 2})


def snippet(text: str, query_words: list[str], width: int = WIDTH) -> str:
    flat = " ".join(text.split())
    if len(flat) <= width:
        return flat
    prefixes = _prefixes(query_words)
    hits = [m.start() for p in prefixes for m in re.finditer(r"\b" + re.escape(p), flat.lower())]
    start = 0
    if hits:
        # The window (starting a little before a hit) that holds the most hits.
        starts = [max(0, h - width // 5) for h in hits]
        start = max(starts, key=lambda s: (sum(s <= h < s + width - 2 for h in hits), -s))
        if start:
            space = flat.find(" ", start)
            start = space + 1 if 0 <= space < start + 20 else start
    end = start + width - (1 if start else 0) - 1
    if end < len(flat):
        space = flat.rfind(" ", start, end)
        end = space if space > start + width // 2 else end
    body = flat[start:end].strip()
    return ("…" if start else "") + body + ("…" if end < len(flat) else "")
