"""Who wrote: the lead key. Never a plain hash of an address (that is reversible by guessing)."""

from __future__ import annotations

import hashlib
import hmac

from pydantic import SecretStr

# Only where no LEAD_HASH_KEY is set: the demo (the CLI refuses to run ingress without one).
DEMO_SECRET = b"demo-only-key"

MAX_LEAD_ID = 200  # the contract's leadId bound (schema/events.py)
# "id:" + a leadId, or "email:" + 64 hex digits: the width of every lead_key column.
MAX_LEAD_KEY = len("id:") + MAX_LEAD_ID


def lead_secret(key: SecretStr | None) -> bytes:
    """The HMAC key of lead e-mail addresses, as bytes."""
    return key.get_secret_value().encode() if key else DEMO_SECRET


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
