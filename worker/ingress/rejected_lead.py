"""Whose was a kept-aside entry? The lead key of a payload we could not accept, when it can
be told (best effort, bounded): the JSON's leadId or leadEmail, else the From of its rawMime.
It ties the kept-aside event to the lead, so `leads erase` removes it as well."""

from __future__ import annotations

from email.parser import HeaderParser
from email.policy import compat32
from email.utils import parseaddr

import orjson

from worker.leads import MAX_LEAD_KEY, lead_key

# Only the header block is read, and only this much of it: a payload kept aside may be hostile.
_MAX_HEADER_BYTES = 64 * 1024


def lead_key_of_payload(raw: bytes, secret: bytes) -> str | None:
    try:
        data = orjson.loads(raw)
    except (orjson.JSONDecodeError, TypeError):
        return None
    if not isinstance(data, dict):
        return None
    lead_id, email = data.get("leadId"), data.get("leadEmail")
    key = lead_key(lead_id if _text(lead_id) else None, email if _text(email) else None, secret)
    if key:
        # A leadId past the contract's bound names no lead that could have been stored.
        return key if len(key) <= MAX_LEAD_KEY else None
    mime = data.get("rawMime")
    if _text(mime):
        return lead_key(None, _sender(mime), secret)
    return None


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip()) and "\x00" not in value


def _sender(mime: str) -> str | None:
    head = mime[:_MAX_HEADER_BYTES].replace("\r\n", "\n").split("\n\n", 1)[0]
    try:
        headers = HeaderParser(policy=compat32).parsestr(head, headersonly=True)
        _name, address = parseaddr(str(headers.get("From") or ""))
    except Exception:  # noqa: BLE001 - a header we cannot read names no one
        return None
    return address if "@" in address else None
