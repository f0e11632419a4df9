"""What a free-text query is searched by, and the short snippet shown for a hit. Pure.

Lead messages are full sentences ("What are your opening hours on Saturday?"); searching them
as an OR of every word would rank chunks by how often they say "your". Stop words of the
languages our clients' leads write in (English, German, French, Spanish, Dutch) are dropped
here, before the words reach Postgres's full-text search.
"""

from __future__ import annotations

import re

MAX_TERMS = 32
SNIPPET_CHARS = 300

_WORD = re.compile(r"\w+", re.UNICODE)
_STOP_WORDS = frozenset(
    """
    a about after all also am an and any are as at be been but by can could do does for from
    get got had has have he her hi hello him his how i if in into is it its just me my no not
    of on or our out please so some than thank thanks that the their them then there these
    they this to too us was we were what when where which who why will with would you your
    aber als am an auch auf aus bei bin bis bitte da dann das dass dem den der des die dies
    diese doch du ein eine einem einen einer es für gibt habe haben hallo hat ich ihr ihre im
    in ist ja kann können mein mit nach nicht noch nur oder sehr sie sind so um und uns unser
    von vor war was wie wir wo zu zum zur danke
    au aux avec bonjour ce ces dans de des du elle en est et il je la le les leur ma mais me
    merci mes mon ne nous ou par pas pour qu que qui sa se ses son sur ta te tu un une vos
    votre vous
    al como con del el en es eso esta este gracias hola la las lo los mi mis muy no para pero
    por que se su sus un una uno usted y ya
    aan bij dat de die dit een en er het hoe ik in is je met mijn niet of om op te u van voor
    wat we wij ze zijn
    """.split()
)


def query_terms(query: str, max_terms: int = MAX_TERMS) -> list[str]:
    """Distinct lower-case words worth searching for, in the order they appear."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(query.lower()):
        if word not in _STOP_WORDS and (len(word) > 1 or word.isdigit()):
            seen.setdefault(word, None)
            if len(seen) == max_terms:
                break
    return list(seen)


def make_snippet(text: str, terms: list[str], max_chars: int = SNIPPET_CHARS) -> str:
    """About `max_chars` of `text` around its first matching word, cut at word boundaries."""
    flat = " ".join(text.split())
    if len(flat) <= max_chars:
        return flat
    lowered = flat.lower()
    hits = [i for i in (_word_start(lowered, t) for t in terms) if i >= 0]
    start = max(0, min(hits) - max_chars // 4) if hits else 0
    if start:
        start = flat.find(" ", start) + 1 or start
    end = start + max_chars
    if end < len(flat):
        end = flat.rfind(" ", start, end) if flat.rfind(" ", start, end) > start else end
    return ("… " if start else "") + flat[start:end].strip() + (" …" if end < len(flat) else "")


def _word_start(lowered: str, term: str) -> int:
    match = re.search(rf"\b{re.escape(term)}", lowered)
    return match.start() if match else -1
