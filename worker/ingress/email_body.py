"""The text, sender and thread headers of a raw RFC 5322 message (standard library parser)."""

from __future__ import annotations

from dataclasses import dataclass
from email import policy
from email.parser import Parser
from email.utils import parseaddr


@dataclass(frozen=True)
class EmailParts:
    text: str
    subject: str | None
    message_id: str | None
    in_reply_to: str | None
    sender_email: str | None
    sender_name: str | None


def parse_raw_mime(raw: str) -> EmailParts:
    msg = Parser(policy=policy.default).parsestr(raw)
    body = msg.get_body(preferencelist=("plain", "html"))
    text = ""
    if body is not None:
        try:
            text = body.get_content()
        except (LookupError, UnicodeError):  # unknown or lying charset: keep what decodes
            payload = body.get_payload(decode=True) or b""
            text = payload.decode("utf-8", errors="replace")
    name, address = parseaddr(str(msg.get("From", "")))
    return EmailParts(
        text=text.strip(),
        subject=_header(msg, "Subject"),
        message_id=_header(msg, "Message-ID"),
        in_reply_to=_header(msg, "In-Reply-To"),
        sender_email=address or None,
        sender_name=name or None,
    )


def _header(msg, name: str) -> str | None:  # noqa: ANN001
    value = msg.get(name)
    return str(value).strip()[:1000] if value is not None else None
