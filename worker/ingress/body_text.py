"""Which text of an e-mail is the lead's: what their client showed.

A client shows the HTML part when there is one; the text/plain alternative is only a fallback.
The plain part is kept when it says the same as the visible HTML (its line breaks and "> "
quotes serve quote stripping better); when the two disagree — words in one that the other does
not have, beyond links and markup — the HTML's visible text is used and the message is flagged
`parts_disagree`: a plain part that says something else is text no reader saw.
"""

from __future__ import annotations

import re
from collections import Counter

from worker.ingress.html_visible import VisibleHtml, visible_html
from worker.ingress.mime_bounds import MAX_HTML_CHARS
from worker.ingress.text_clean import Findings, clean_text

# Words of one part missing from the other (counted with repeats) before the parts "disagree":
# a couple is how two renderings differ ("image", an alt text); a sentence is not.
DISAGREE_WORDS = 3
_LINK = re.compile(r"(?:https?://|mailto:|cid:|www\.)\S+|<[^<>\s]+@[^<>\s]+>|\S+@\S+", re.I)
_WORD = re.compile(r"[^\W\d_]{2,}")


def displayed_text(plain_parts: list[str], html_parts: list[str], found: Findings) -> str:
    plain = "\n\n".join(t.strip() for t in plain_parts if t.strip())
    if not html_parts:
        return found.text("body", plain)
    html = _visible(html_parts, found)
    if not plain.strip():
        return _text(html, found)
    plain = found.text("body", plain)
    plain_words = _words(plain)
    html_words = _words(clean_text("\n".join(h.words() for h in html))[0])
    missing_in_html, missing_in_plain = plain_words - html_words, html_words - plain_words
    if missing_in_html.total() < DISAGREE_WORDS and missing_in_plain.total() < DISAGREE_WORDS:
        return plain
    found.disagree = (
        "the text/plain part differs from the HTML the lead's client showed; the HTML was used"
        f" ({missing_in_html.total()} words only in the plain part, e.g."
        f" {', '.join(sorted(missing_in_html)[:5]) or '-'};"
        f" {missing_in_plain.total()} only in the HTML)"
    )
    return _text(html, found)


def _visible(html_parts: list[str], found: Findings) -> list[VisibleHtml]:
    parsed, budget = [], MAX_HTML_CHARS  # one budget for all HTML parts together
    for html in html_parts:
        if budget <= 0:
            break
        visible = visible_html(html[:budget])
        budget -= min(len(html), budget)
        found.hidden_html(visible.hidden)
        parsed.append(visible)
    return parsed


def _text(parts: list[VisibleHtml], found: Findings) -> str:
    return found.text("body", "\n\n".join(t for t in (p.text() for p in parts) if t))


def _words(text: str) -> Counter[str]:
    return Counter(_WORD.findall(_LINK.sub(" ", text).casefold()))
