"""A raw RFC 5322 message → its text, the lead's new words, sender, thread headers, recipients,
attachments, whether a machine sent it (auto-reply or bounce), and what cleaning removed.

Parsed by the standard library with its modern policy (`email.policy.default`), within the
bounds of worker.ingress.mime_bounds; the parts are walked by mime_parts, the header fields read
by mime_headers, and the text the lead's client showed is chosen by body_text (hidden HTML
dropped by html_visible). Body, subject and sender name are cleaned of invisible characters
(text_clean). A message past a bound raises BadEvent naming it; any other failure of the parser
is wrapped into BadEvent too, so nothing else escapes on any input.
"""

from __future__ import annotations

from dataclasses import dataclass
from email import policy as email_policy
from email.parser import BytesParser

from worker.errors import BadEvent
from worker.ingress import mime_headers as headers
from worker.ingress.body_text import displayed_text
from worker.ingress.mime_bounds import (  # noqa: F401 - the bounds are part of this API
    MAX_DEPTH,
    MAX_FIELD_CHARS,
    MAX_HEADER_BYTES,
    MAX_PARTS,
    MAX_RAW_BYTES,
    BoundedHeaders,
    as_bytes,
    part_counter,
)
from worker.ingress.mime_parts import Attachment, Bodies
from worker.ingress.reply_text import extract_new_text
from worker.ingress.text_clean import Findings, Flag

__all__ = ["Attachment", "EmailParts", "parse_raw_mime"]


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
    flags: tuple[Flag, ...] = ()  # what cleaning removed (text_clean)


def parse_raw_mime(raw: str | bytes) -> EmailParts:
    """Parse one raw message. Raises BadEvent (with the reason) and nothing else."""
    data = as_bytes(raw)
    try:
        return _parse(data, from_text=isinstance(raw, str))
    except BadEvent:
        raise
    except RecursionError as exc:
        raise BadEvent("rawMime is nested too deeply to parse") from exc
    except Exception as exc:  # noqa: BLE001 - any parser failure is a fact about this e-mail
        raise BadEvent(f"rawMime could not be parsed: {type(exc).__name__}: {exc}") from exc


def _parse(data: bytes, *, from_text: bool) -> EmailParts:
    policy = email_policy.default.clone(header_factory=BoundedHeaders())
    msg = BytesParser(_class=part_counter(), policy=policy).parsebytes(data)
    bodies = Bodies(from_text)
    bodies.walk(msg)
    found = Findings()
    text = displayed_text(bodies.plain, bodies.html, found)
    sender_name, sender_email = headers.sender(msg)
    auto_reply_reason = headers.auto_reply_reason(msg, sender_email)
    subject = found.line("subject", headers.decoded(msg, "subject"))
    sender_name = found.line("sender name", sender_name)
    return EmailParts(
        text=text,
        new_text=extract_new_text(text),
        subject=subject[:MAX_FIELD_CHARS] if subject else None,
        message_id=headers.short(headers.decoded(msg, "message-id")),
        in_reply_to=headers.short(headers.first_id(headers.decoded(msg, "in-reply-to"))),
        references=headers.references(headers.decoded(msg, "references")),
        sender_email=sender_email,
        sender_name=sender_name[:200] if sender_name else None,
        recipients=headers.recipients(msg),
        attachments=tuple(bodies.attachments),
        auto_reply=auto_reply_reason is not None,
        auto_reply_reason=auto_reply_reason,
        flags=found.flags(),
    )
