"""Text a lead wrote, made safe to store and show: uniform newlines, no NUL (Postgres text
refuses it), no lone surrogates, no invisible characters (worker.invisible_chars).

What cleaning removed is reported as flags `{code, detail}` kept with the message
(`inbound_messages.inbound_flags`) and carried into its draft's flags (as `inbound_<code>`),
so the reviewer sees that the lead's text was not what it seemed:
- `hidden_text_removed`: text the reader's client never showed (hidden HTML, reversed bidi runs);
- `invisible_characters_removed`: format/control characters (tag block, zero-width, bidi);
- `parts_disagree`: the text/plain part said something else than the HTML the client showed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from worker.invisible_chars import strip_invisible

_SURROGATES = re.compile(r"[\ud800-\udfff]")

HIDDEN_TEXT = "hidden_text_removed"
INVISIBLE_CHARACTERS = "invisible_characters_removed"
PARTS_DISAGREE = "parts_disagree"


@dataclass(frozen=True)
class Flag:
    code: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "detail": self.detail}


def clean_text(text: str) -> tuple[str, int, int]:
    """(clean text, characters of hidden text removed, invisible characters removed)."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates, from bytes no charset could decode
        text = _SURROGATES.sub("\ufffd", text)
    before = len(text)
    text, hidden = strip_invisible(text)
    return text.strip(), hidden, before - len(text) - hidden


def clean_line(value: str | None) -> tuple[str | None, int, int]:
    """A header value (subject, name, topic): cleaned, on one line; None when nothing is left."""
    if value is None:
        return None, 0, 0
    text, hidden, invisible = clean_text(str(value))
    return (" ".join(text.split()) or None), hidden, invisible


class Findings:
    """Counts of what cleaning removed from one message, turned into its flags."""

    def __init__(self) -> None:
        self.hidden: dict[str, int] = {}
        self.invisible: dict[str, int] = {}
        self.disagree: str | None = None

    def text(self, where: str, value: str) -> str:
        cleaned, hidden, invisible = clean_text(value)
        self._count(where, hidden, invisible)
        return cleaned

    def line(self, where: str, value: str | None) -> str | None:
        cleaned, hidden, invisible = clean_line(value)
        self._count(where, hidden, invisible)
        return cleaned

    def hidden_html(self, reasons: dict[str, int]) -> None:
        for reason, size in reasons.items():
            self.hidden[reason] = self.hidden.get(reason, 0) + size

    def _count(self, where: str, hidden: int, invisible: int) -> None:
        if hidden:
            key = f"reversed bidi text in {where}"
            self.hidden[key] = self.hidden.get(key, 0) + hidden
        if invisible:
            self.invisible[where] = self.invisible.get(where, 0) + invisible

    def flags(self) -> tuple[Flag, ...]:
        found = []
        if self.hidden:
            found.append(Flag(HIDDEN_TEXT, _detail("characters of text the reader never saw",
                                                   self.hidden)))
        if self.invisible:
            found.append(Flag(INVISIBLE_CHARACTERS, _detail("invisible characters",
                                                            self.invisible)))
        if self.disagree:
            found.append(Flag(PARTS_DISAGREE, self.disagree))
        return tuple(found)


def _detail(what: str, counts: dict[str, int]) -> str:
    parts = ", ".join(f"{reason}: {size}" for reason, size in sorted(counts.items()))
    return f"removed {sum(counts.values())} {what} ({parts})"[:500]
