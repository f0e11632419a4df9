"""A raw RFC 5322 message → its text, the lead's new words, sender, thread headers, recipients,
attachments, and whether a machine sent it (auto-reply or bounce).

Parsed by the standard library with its modern policy (`email.policy.default`). An HTML-only body
becomes text with inscriptis: maintained, Apache-2.0, keeps paragraphs, lists and tables readable
(html2text is GPL-3.0 and writes Markdown; BeautifulSoup's get_text runs blocks together).

Every bound below exists because otherwise the sender would set the parser's time or memory.
A message past one raises BadEvent naming it; any other failure of the parser is wrapped into
BadEvent too, so nothing else escapes on any input.
"""

from __future__ import annotations

import codecs
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from email import policy as email_policy
from email.headerregistry import HeaderRegistry
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses
from html import unescape

from inscriptis import get_text as html_to_text

from worker.errors import BadEvent
from worker.ingress.reply_text import extract_new_text

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

_AUTO_PRECEDENCE = {"auto_reply", "bulk", "junk"}
_DAEMONS = {"mailer-daemon", "postmaster"}
# Decoders that are not for mail bodies, or quadratic in pure Python (punycode).
_REFUSED_CODECS = {"punycode", "idna", "raw-unicode-escape", "unicode-escape", "uu"}
_LATIN1_LABELS = {"iso8859-1", "ascii", "cp1252"}  # decoded as windows-1252 (WHATWG)
_MSG_ID = re.compile(r"<[^<>\s]{1,998}>")
_SURROGATES = re.compile(r"[\ud800-\udfff]")
_LINESEP = re.compile(r"\r\n|\r|\n")
_TAG = re.compile(r"<[^<>]*>")


@dataclass(frozen=True)
class Attachment:
    filename: str | None
    content_type: str
    size: int  # bytes, after transfer decoding


@dataclass(frozen=True)
class EmailParts:
    text: str  # the whole body as text: quoted history and signature included
    new_text: str  # what the lead wrote this time ("" when nothing new is left)
    subject: str | None
    message_id: str | None
    in_reply_to: str | None
    references: tuple[str, ...]
    sender_email: str | None
    sender_name: str | None
    recipients: tuple[str, ...]  # To, Cc, Delivered-To, X-Original-To; lower-case, no repeats
    attachments: tuple[Attachment, ...]
    auto_reply: bool
    auto_reply_reason: str | None


def parse_raw_mime(raw: str | bytes) -> EmailParts:
    """Parse one raw message. Raises BadEvent (with the reason) and nothing else."""
    data = _as_bytes(raw)
    try:
        return _parse(data, from_text=isinstance(raw, str))
    except BadEvent:
        raise
    except RecursionError as exc:
        raise BadEvent("rawMime is nested too deeply to parse") from exc
    except Exception as exc:  # noqa: BLE001 - any parser failure is a fact about this e-mail
        raise BadEvent(f"rawMime could not be parsed: {type(exc).__name__}: {exc}") from exc


def _as_bytes(raw: str | bytes) -> bytes:
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


class _BoundedHeaders:
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


def _part_counter() -> Callable[..., EmailMessage]:
    """Message factory that stops the parser at the part past MAX_PARTS, before it builds more."""
    created = -1  # the parser builds one throwaway message to probe the factory

    def new_part(policy: email_policy.Policy | None = None) -> EmailMessage:
        nonlocal created
        created += 1
        if created > MAX_PARTS:
            raise BadEvent(f"rawMime has more than {MAX_PARTS} MIME parts (MAX_PARTS)")
        return EmailMessage(policy=policy)

    return new_part


def _parse(data: bytes, *, from_text: bool) -> EmailParts:
    policy = email_policy.default.clone(header_factory=_BoundedHeaders())
    msg = BytesParser(_class=_part_counter(), policy=policy).parsebytes(data)
    body = _Body(from_text)
    body.walk(msg)
    text = body.text()
    sender_name, sender_email = _sender(msg)
    auto_reply_reason = _auto_reply_reason(msg, sender_email)
    return EmailParts(
        text=text,
        new_text=extract_new_text(text),
        subject=_short(_decoded(msg, "subject")),
        message_id=_short(_decoded(msg, "message-id")),
        in_reply_to=_short(_first_id(_decoded(msg, "in-reply-to"))),
        references=_references(_decoded(msg, "references")),
        sender_email=sender_email,
        sender_name=sender_name,
        recipients=_recipients(msg),
        attachments=tuple(body.attachments),
        auto_reply=auto_reply_reason is not None,
        auto_reply_reason=auto_reply_reason,
    )


class _Body:
    """One walk over the parts: enforces depth and header bounds, collects body candidates and
    attachments. Iterative, because Message.walk() recurses."""

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
            header_bytes += _header_size(part)
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

    def text(self) -> str:
        plain = "\n\n".join(t.strip() for t in self.plain if t.strip())
        if plain:
            return _clean(plain)
        converted, budget = [], MAX_HTML_CHARS  # one budget for all HTML parts together
        for html in self.html:
            converted.append(_html_text(html[:budget]))
            budget -= min(len(html), budget)
        return _clean("\n\n".join(t for t in converted if t))


def _is_file(part: Message) -> bool:
    return part.is_attachment() or part.get_filename() is not None


def _attachment(part: Message) -> Attachment:
    if part.is_multipart():  # an attached message: its parts' headers and decoded bodies
        size = sum(_header_size(p) + len(p.get_payload(decode=True) or b"") for p in _leaves(part))
    else:
        size = len(part.get_payload(decode=True) or b"")
    name = part.get_filename()
    return Attachment(
        _clean(name)[:MAX_FIELD_CHARS] if name else None, part.get_content_type(), size
    )


def _header_size(part: Message) -> int:
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


def _html_text(html: str) -> str:
    html = html.lstrip()
    if html.startswith("<?xml"):  # lxml refuses str input with an encoding declaration
        html = html[html.find(">") + 1 :]
    try:
        text = html_to_text(html)
    except Exception:  # noqa: BLE001 - markup lxml cannot take: keep the words without tags
        text = ""
    if not text.strip():  # also lxml's answer to markup nested past its depth limit
        text = unescape(_TAG.sub(" ", html))
    lines = [line.rstrip() for line in text.split("\n")]
    return textwrap.dedent("\n".join(lines)).strip()


def _clean(text: str) -> str:
    """Newlines made uniform; NUL (Postgres text refuses it) and lone surrogates replaced."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates, from bytes no charset could decode
        text = _SURROGATES.sub("\ufffd", text)
    return text.strip()


# --- headers --------------------------------------------------------------------------------------


def _raw_values(msg: Message, name: str) -> list[str]:
    return [value for key, value in msg.raw_items() if key.lower() == name]


def _decoded(msg: Message, name: str, header_name: str | None = None) -> str | None:
    """The first `name` field, unfolded and decoded (RFC 2047) from its first 16 KiB."""
    values = _raw_values(msg, name)
    return _decode_header(values[0], header_name or name, msg.policy) if values else None


def _decode_header(raw: str, name: str, policy: email_policy.Policy) -> str:
    value = "".join(_LINESEP.split(raw[:MAX_DECODED_HEADER_CHARS])).strip()
    try:
        return policy.header_fetch_parse(name, value)
    except Exception:  # noqa: BLE001 - a field the stdlib cannot parse keeps its raw text
        return value


def _short(value: str | None) -> str | None:
    value = _clean(str(value)) if value is not None else ""
    return value[:MAX_FIELD_CHARS] or None


def _first_id(value: str | None) -> str | None:
    if value is None:
        return None
    found = _MSG_ID.search(str(value))
    return found.group(0) if found else str(value).strip()


def _references(value: str | None) -> tuple[str, ...]:
    ids = list(dict.fromkeys(_MSG_ID.findall(str(value or ""))))
    if len(ids) > MAX_REFERENCES:
        ids = [ids[0], *ids[-(MAX_REFERENCES - 1) :]]
    return tuple(ids)


def _addresses(header: object) -> list[tuple[str, str]]:
    """(display name, address) pairs of an address-list field, parsed or raw."""
    found = getattr(header, "addresses", None)
    if found is not None:
        return [(a.display_name, a.addr_spec) for a in found]
    try:
        return getaddresses([str(header)])
    except Exception:  # noqa: BLE001 - e.g. RecursionError on "((((…": no address to be had
        return []


def _sender(msg: Message) -> tuple[str | None, str | None]:
    header = _decoded(msg, "from")
    if header is None:
        return None, None
    pairs = _addresses(header) or [("", "")]
    name, address = pairs[0]
    address = _clean(address)
    return (_clean(name)[:200] or None), (address if "@" in address else None)


def _recipients(msg: Message) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for name in ("to", "cc", "delivered-to", "x-original-to"):
        for raw in _raw_values(msg, name):
            # Parsed as an address list whatever the field's own class in the registry.
            for _, address in _addresses(_decode_header(raw, "to", msg.policy)):
                address = _clean(address).lower()
                if "@" in address:
                    found.setdefault(address, None)
    return tuple(found)


def _auto_reply_reason(msg: Message, sender_email: str | None) -> str | None:
    """Why a machine sent this (RFC 3834, vendor headers, bounce sender or report), or None."""

    def first(name: str) -> str | None:
        values = _raw_values(msg, name)
        return " ".join(values[0][:200].split()) if values else None

    if msg.get_content_type() == "multipart/report":
        return f"delivery report (multipart/report; report-type={msg.get_param('report-type')})"
    if first("x-failed-recipients") is not None:
        return "bounce (X-Failed-Recipients)"
    if sender_email and sender_email.split("@")[0].lower() in _DAEMONS:
        return f"bounce (sender {sender_email})"
    submitted = first("auto-submitted")
    if submitted is not None and submitted.split(";")[0].strip().lower() != "no":
        return f"Auto-Submitted: {submitted}"
    for name in ("x-autoreply", "x-autorespond"):
        if (value := first(name)) is not None:
            return f"{name.title()}: {value}"
    precedence = (first("precedence") or "").lower()
    if precedence in _AUTO_PRECEDENCE:
        return f"Precedence: {precedence}"
    return None
