"""Who wrote: the lead key. Never a plain hash of an address (that is reversible by guessing)."""

from __future__ import annotations

import hashlib
import hmac


def normalize_email(address: str) -> str:
    return address.strip().lower()


def lead_key(lead_id: str | None, lead_email: str | None, secret: bytes) -> str | None:
    """The producer's leadId when given, else HMAC-SHA256(secret, normalized e-mail)."""
    if lead_id:
        return f"id:{lead_id}"
    if lead_email and lead_email.strip():
        digest = hmac.new(secret, normalize_email(lead_email).encode(), hashlib.sha256)
        return f"email:{digest.hexdigest()}"
    return None
