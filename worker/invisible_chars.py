"""Unicode a reader never sees, taken out of everything a lead writes: body, subject, names.

What a mail client shows and what the model reads must be the same text. Removed:
- format characters (category Cf): the tag block U+E0000–E007F ("ASCII smuggling"), zero-width
  space/joiners, word joiner, soft hyphen, BOM, bidi embeddings, isolates and marks;
- control characters (Cc) except tab and newline;
- variation selectors that select nothing (after a letter, a space, or another selector);
- Hangul fillers and other blank letters that render as nothing;
- text between a bidi override (U+202D/U+202E) and its end: it is displayed reversed, so the
  reader saw something other than what a model would read. It is counted as hidden text.

ZWJ stays between two symbols (emoji sequences such as 👩‍🔧) and ZWNJ between two letters of a
script that joins (Persian, Indic), where they change only the shaping, never the words.
"""

from __future__ import annotations

import re
import unicodedata

# Every character strip_invisible may remove (Unicode 15's Cf and Cc but tab and newline, the
# selectors, blank letters): text without one is returned as it is, without the per-character
# walk. A format character newer than this list is still judged when the walk runs.
_SUSPECT = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891"
    "\u08e2\u115f\u1160\u180b-\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064"
    "\u2066-\u206f\u2800\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb\U000110bd"
    "\U000110cd\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f\U000e0100-\U000e01ef]"
)
_ASCII_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
_OVERRIDE = re.compile(r"[\u202d\u202e][^\u202c\n\u2029]*\u202c?")
_ZWJ, _ZWNJ = "\u200d", "\u200c"
# Letters (category Lo) that render as blank space.
_BLANK_LETTERS = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"}


def _is_selector(ch: str) -> bool:
    code = ord(ch)
    return 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF or 0x180B <= code <= 0x180D


def _takes_selector(prev: str) -> bool:
    """Emoji, symbols and keycap bases take a standard/emoji selector; CJK ideographs take the
    ideographic ones (and Mongolian letters their free variation selectors)."""
    if not prev:
        return False
    return unicodedata.category(prev) in ("So", "Sm", "Sk", "Lo", "Nd") or prev in "#*"


def strip_invisible(text: str) -> tuple[str, int]:
    """The text without invisible characters, and how many characters of hidden *text* were
    removed (reversed bidi runs; format characters alone are not counted as text)."""
    if not _SUSPECT.search(text):
        return text, 0
    if text.isascii():
        return _ASCII_CONTROLS.sub("", text), 0
    hidden = 0

    def drop_override(match: re.Match[str]) -> str:
        nonlocal hidden
        hidden += len(match.group(0))
        return ""

    text = _OVERRIDE.sub(drop_override, text)
    out: list[str] = []
    for i, ch in enumerate(text):
        if ch in "\u2028\u2029":
            out.append("\n")
            continue
        if _is_selector(ch):
            prev = out[-1] if out else ""
            if _takes_selector(prev) and not _is_selector(prev) and not prev.isascii():
                out.append(ch)
            elif prev in "#*0123456789" and prev:  # keycaps: 1️⃣
                out.append(ch)
            continue
        if ch in _BLANK_LETTERS:
            continue
        category = unicodedata.category(ch)
        if category == "Cf":
            nxt = text[i + 1] if i + 1 < len(text) else ""
            prev = out[-1] if out else ""
            if ch == _ZWJ and _symbol(prev) and _symbol(nxt):
                out.append(ch)
            elif ch == _ZWNJ and _joining_letter(prev) and _joining_letter(nxt):
                out.append(ch)
            continue
        if category == "Cc" and ch not in "\n\t":
            continue
        out.append(ch)
    return "".join(out), hidden


def _symbol(ch: str) -> bool:
    return bool(ch) and (unicodedata.category(ch) == "So" or _is_selector(ch))


def _joining_letter(ch: str) -> bool:
    return bool(ch) and not ch.isascii() and unicodedata.category(ch) in ("Lo", "Mn", "Mc")


def one_line(text: str) -> str:
    """A header value: invisible characters out, any line break or run of spaces one space."""
    return " ".join(strip_invisible(text)[0].split())
