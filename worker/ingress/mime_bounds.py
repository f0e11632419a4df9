"""The parser's bounds. Every one exists because otherwise the sender would set the parser's
time or memory; a message past one raises BadEvent naming it."""

from __future__ import annotations

from collections.abc import Callable
from email import policy as email_policy
from email.headerregistry import HeaderRegistry
from email.message import EmailMessage

from worker.errors import BadEvent

# The event schema's bound on rawMime (schema.events.MAX_RAW_MIME_BYTES), counted in bytes here.
MAX_RAW_BYTES = 15 * 1024 * 1024
# Real mail has under 20 parts. The parser spends ~0.1 ms and an object on each, and 15 MiB of
# "--b" lines would be three million of them: minutes and gigabytes.
MAX_PARTS = 200
# multipart/mixed > related > alternative is 3 deep; a few nested forwards stay well under 20.
MAX_DEPTH = 20
# All header fields of all parts. Normal mail carries 5–30 KiB (Received, DKIM and ARC chains).
MAX_HEADER_BYTES = 256 * 1024
# One Content-* field. Real ones are under 1 KiB even with an encoded 255-character filename; the
# stdlib's MIME-parameter parser is superlinear (measured: 9 s for a 190 KB RFC 2231 field).
MAX_MIME_FIELD_CHARS = 8 * 1024
# All Content-* fields the parser decodes, together: ~7 µs a character even when linear.
MAX_MIME_FIELDS_CHARS = 64 * 1024
# Subject, From, To… are decoded from their first 16 KiB only (~800 addresses): decoding many
# encoded words is quadratic in the stdlib (measured: 5 s for a 224 KB Subject).
MAX_DECODED_HEADER_CHARS = 16 * 1024
# HTML converted to text: inscriptis spends up to ~1.4 µs a character (measured, table-heavy
# markup); Gmail clips a body at 102 KB, so a real reply fits many times over.
MAX_HTML_CHARS = 1_000_000
# Subject and message ids: the event fields and the stored columns hold 1000 characters.
MAX_FIELD_CHARS = 1000
# References kept: the thread's root and the most recent ones.
MAX_REFERENCES = 100


def as_bytes(raw: str | bytes) -> bytes:
    if isinstance(raw, str):
        if len(raw) > MAX_RAW_BYTES:  # characters never outnumber their UTF-8 bytes
            raise _too_big(len(raw))
        raw = raw.encode("utf-8", "replace")  # a lone surrogate becomes "?"
    elif not isinstance(raw, (bytes, bytearray, memoryview)):
        raise BadEvent(f"rawMime must be text or bytes, not {type(raw).__name__}")
    data = bytes(raw)
    if len(data) > MAX_RAW_BYTES:
        raise _too_big(len(data))
    return data


def _too_big(size: int) -> BadEvent:
    return BadEvent(f"rawMime is {size} bytes, over the {MAX_RAW_BYTES} byte limit (MAX_RAW_BYTES)")


class BoundedHeaders:
    """The policy's header factory for one message: parses each distinct field once (the stdlib
    re-parses Content-Type on every access) and refuses Content-* fields past their bounds."""

    def __init__(self) -> None:
        self._registry = HeaderRegistry()
        self._parsed: dict[tuple[str, str], str] = {}
        self._mime_chars = 0

    def __call__(self, name: str, value: str) -> str:  # a str subclass from the registry
        key = (name, value)
        if key not in self._parsed:
            if name.lower().startswith("content-"):
                self._count(name, len(value))
            self._parsed[key] = self._registry(name, value)
        return self._parsed[key]

    def _count(self, name: str, size: int) -> None:
        if size > MAX_MIME_FIELD_CHARS:
            raise BadEvent(
                f"rawMime has a {size}-character {name} field, over the {MAX_MIME_FIELD_CHARS}"
                " limit (MAX_MIME_FIELD_CHARS)"
            )
        self._mime_chars += size
        if self._mime_chars > MAX_MIME_FIELDS_CHARS:
            raise BadEvent(
                f"rawMime's Content-* fields exceed {MAX_MIME_FIELDS_CHARS} characters together"
                " (MAX_MIME_FIELDS_CHARS)"
            )


def part_counter() -> Callable[..., EmailMessage]:
    """Message factory that stops the parser at the part past MAX_PARTS, before it builds more."""
    created = -1  # the parser builds one throwaway message to probe the factory

    def new_part(policy: email_policy.Policy | None = None) -> EmailMessage:
        nonlocal created
        created += 1
        if created > MAX_PARTS:
            raise BadEvent(f"rawMime has more than {MAX_PARTS} MIME parts (MAX_PARTS)")
        return EmailMessage(policy=policy)

    return new_part
