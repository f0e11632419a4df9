"""One walk over a message's MIME parts: the text/plain and text/html bodies, decoded, and the
attachments (name, type, size; never processed). Iterative, because Message.walk() recurses."""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from email.message import Message

from worker.errors import BadEvent
from worker.ingress.mime_bounds import MAX_DEPTH, MAX_FIELD_CHARS, MAX_HEADER_BYTES
from worker.ingress.text_clean import clean_text

# Decoders that are not for mail bodies, or quadratic in pure Python (punycode).
_REFUSED_CODECS = {"punycode", "idna", "raw-unicode-escape", "unicode-escape", "uu"}
_LATIN1_LABELS = {"iso8859-1", "ascii", "cp1252"}  # decoded as windows-1252 (WHATWG)


@dataclass(frozen=True)
class Attachment:
    filename: str | None
    content_type: str
    size: int  # bytes, after transfer decoding


class Bodies:
    """Enforces depth and header bounds, collects body candidates and attachments."""

    def __init__(self, from_text: bool) -> None:
        self._from_text = from_text
        self.plain: list[str] = []
        self.html: list[str] = []
        self.attachments: list[Attachment] = []

    def walk(self, msg: Message) -> None:
        header_bytes = 0
        stack: list[tuple[Message, int, bool]] = [(msg, 0, False)]
        while stack:
            part, depth, enclosed = stack.pop()
            if depth > MAX_DEPTH:
                raise BadEvent(f"rawMime nests MIME parts over {MAX_DEPTH} deep (MAX_DEPTH)")
            header_bytes += header_size(part)
            if header_bytes > MAX_HEADER_BYTES:
                raise BadEvent(
                    f"rawMime has over {MAX_HEADER_BYTES} bytes of headers (MAX_HEADER_BYTES)"
                )
            if part.is_multipart():
                attached = part.get_content_maintype() == "message" and part is not msg
                if attached and not enclosed:
                    self.attachments.append(_attachment(part))
                children = part.get_payload()
                stack.extend((c, depth + 1, enclosed or attached) for c in reversed(children))
            elif not enclosed:
                self._leaf(part)

    def _leaf(self, part: Message) -> None:
        kind = part.get_content_type()
        if kind in ("text/plain", "text/html") and not _is_file(part):
            decoded = _decode(part, self._from_text)
            (self.plain if kind == "text/plain" else self.html).append(decoded)
        else:
            self.attachments.append(_attachment(part))


def _is_file(part: Message) -> bool:
    return part.is_attachment() or part.get_filename() is not None


def _attachment(part: Message) -> Attachment:
    if part.is_multipart():  # an attached message: its parts' headers and decoded bodies
        size = sum(header_size(p) + len(p.get_payload(decode=True) or b"") for p in _leaves(part))
    else:
        size = len(part.get_payload(decode=True) or b"")
    name = part.get_filename()
    return Attachment(
        clean_text(name)[0][:MAX_FIELD_CHARS] if name else None, part.get_content_type(), size
    )


def header_size(part: Message) -> int:
    # raw_items: the stored fields, unparsed (the generator's API); "Name: value\r\n".
    return sum(len(name) + len(value) + 4 for name, value in part.raw_items())


def _leaves(part: Message) -> list[Message]:
    found, stack = [], [part]
    while stack:
        item = stack.pop()
        if item.is_multipart():
            stack.extend(item.get_payload())
        else:
            found.append(item)
    return found


def _decode(part: Message, from_text: bool) -> str:
    """Body bytes → str: the declared charset, then UTF-8, then Windows-1252, then UTF-8 with
    replacement characters. A lying or unknown charset never raises."""
    payload = part.get_payload(decode=True) or b""
    declared = _codec(part.get_content_charset())
    eight_bit = str(part.get("content-transfer-encoding", "")).lower() not in (
        "base64",
        "quoted-printable",
    )
    # 8-bit bytes that form valid UTF-8 are UTF-8 in practice, whatever a single-byte label says;
    # in a text rawMime they were UTF-8 already (the producer decoded them to put them in JSON).
    tries = ["utf-8"] if (from_text and eight_bit) or declared in _LATIN1_LABELS else []
    if declared in _LATIN1_LABELS:
        tries += ["cp1252", "latin-1"]
    elif declared:
        tries.append(declared)
    for codec in [*tries, "utf-8", "cp1252"]:
        try:
            return payload.decode(codec)
        except (UnicodeError, LookupError):
            continue
    return payload.decode("utf-8", errors="replace")


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    try:
        name = codecs.lookup(label).name
    except (LookupError, TypeError, ValueError):
        return None
    return None if name in _REFUSED_CODECS else name
