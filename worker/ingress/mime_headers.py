"""Header fields of a parsed message: decoded within bounds, sender, recipients, thread ids,
and whether a machine sent it (RFC 3834, vendor headers, bounce sender or report)."""

from __future__ import annotations

import re
from email import policy as email_policy
from email.message import Message
from email.utils import getaddresses

from worker.ingress.mime_bounds import MAX_DECODED_HEADER_CHARS, MAX_FIELD_CHARS, MAX_REFERENCES
from worker.ingress.text_clean import clean_text

_AUTO_PRECEDENCE = {"auto_reply", "bulk", "junk"}
_DAEMONS = {"mailer-daemon", "postmaster"}
_MSG_ID = re.compile(r"<[^<>\s]{1,998}>")
_LINESEP = re.compile(r"\r\n|\r|\n")


def raw_values(msg: Message, name: str) -> list[str]:
    return [value for key, value in msg.raw_items() if key.lower() == name]


def decoded(msg: Message, name: str) -> str | None:
    """The first `name` field, unfolded and decoded (RFC 2047) from its first 16 KiB."""
    values = raw_values(msg, name)
    return _decode_header(values[0], name, msg.policy) if values else None


def _decode_header(raw: str, name: str, policy: email_policy.Policy) -> str:
    value = "".join(_LINESEP.split(raw[:MAX_DECODED_HEADER_CHARS])).strip()
    try:
        return policy.header_fetch_parse(name, value)
    except Exception:  # noqa: BLE001 - a field the stdlib cannot parse keeps its raw text
        return value


def short(value: str | None) -> str | None:
    """A message id: NUL and surrogates out, one line, bounded."""
    value = " ".join(clean_text(str(value))[0].split()) if value is not None else ""
    return value[:MAX_FIELD_CHARS] or None


def first_id(value: str | None) -> str | None:
    if value is None:
        return None
    found = _MSG_ID.search(str(value))
    return found.group(0) if found else str(value).strip()


def references(value: str | None) -> tuple[str, ...]:
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


def sender(msg: Message) -> tuple[str | None, str | None]:
    """(display name as written, address) of From; the name is cleaned by the caller."""
    header = decoded(msg, "from")
    if header is None:
        return None, None
    pairs = _addresses(header) or [("", "")]
    name, address = pairs[0]
    address = "".join(clean_text(address)[0].split())
    return (name[:MAX_FIELD_CHARS] or None), (address if "@" in address else None)


def recipients(msg: Message) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for name in ("to", "cc", "delivered-to", "x-original-to"):
        for raw in raw_values(msg, name):
            # Parsed as an address list whatever the field's own class in the registry.
            for _, address in _addresses(_decode_header(raw, "to", msg.policy)):
                address = "".join(clean_text(address)[0].split()).lower()
                if "@" in address:
                    found.setdefault(address, None)
    return tuple(found)


def auto_reply_reason(msg: Message, sender_email: str | None) -> str | None:
    """Why a machine sent this, or None."""

    def first(name: str) -> str | None:
        values = raw_values(msg, name)
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
