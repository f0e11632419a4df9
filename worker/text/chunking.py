"""Text → chunks of a few hundred words, cut at headings first, then paragraphs, then
sentences. Each chunk remembers the headings it sits under ("Service › Opening hours"), which
search weighs above the body. Pure: no IO."""

from __future__ import annotations

import re
from dataclasses import dataclass

TARGET_WORDS = 200  # a chunk is filled with whole paragraphs up to about this many words
MAX_WORDS = 300  # a longer paragraph is cut at sentences, a longer sentence at words
HEADING_SEPARATOR = " › "

_ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Chunk:
    heading: str
    text: str


def chunk_text(text: str) -> list[Chunk]:
    chunks: list[Chunk] = []
    for heading, paragraphs in _sections(text):
        chunks.extend(Chunk(heading, body) for body in _pack(paragraphs))
    if not chunks and text.strip():  # headings and nothing else: still worth finding
        titles = [m.group(2) if (m := _ATX_HEADING.match(line)) else line.strip()
                  for line in text.split("\n")]
        chunks = [Chunk("", body) for body in _pack([" ".join(t for t in titles if t)])]
    return chunks


def _sections(text: str) -> list[tuple[str, list[str]]]:
    """(heading path, paragraphs) in document order; text before any heading has path ""."""
    sections: list[tuple[str, list[str]]] = []
    stack: list[tuple[int, str]] = []
    paragraphs: list[str] = []
    lines: list[str] = []

    def end_paragraph() -> None:
        if lines:
            paragraphs.append(" ".join(lines))
            lines.clear()

    def end_section() -> None:
        end_paragraph()
        if paragraphs:
            sections.append((HEADING_SEPARATOR.join(t for _, t in stack), list(paragraphs)))
            paragraphs.clear()

    for raw in text.split("\n"):
        line = raw.strip()
        heading = _ATX_HEADING.match(raw)
        if heading and heading.group(2):
            end_section()
            level = len(heading.group(1))
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, heading.group(2)))
        elif line:
            lines.append(line)
        else:
            end_paragraph()
    end_section()
    return sections


def _pack(paragraphs: list[str]) -> list[str]:
    pieces = [piece for p in paragraphs for piece in _split_long(p)]
    bodies: list[str] = []
    current: list[str] = []
    words = 0
    for piece in pieces:
        n = len(piece.split())
        if current and words + n > TARGET_WORDS:
            bodies.append("\n\n".join(current))
            current, words = [], 0
        current.append(piece)
        words += n
    if current:
        bodies.append("\n\n".join(current))
    return bodies


def _split_long(paragraph: str) -> list[str]:
    if len(paragraph.split()) <= MAX_WORDS:
        return [paragraph]
    out: list[str] = []
    current: list[str] = []
    for sentence in _SENTENCE_END.split(paragraph):
        words = sentence.split()
        if current and len(current) + len(words) > MAX_WORDS:
            out.append(" ".join(current))
            current = []
        while len(words) > MAX_WORDS:  # one enormous "sentence" (a table dump, a word list)
            out.append(" ".join(words[:MAX_WORDS]))
            words = words[MAX_WORDS:]
        current.extend(words)
    if current:
        out.append(" ".join(current))
    return out
