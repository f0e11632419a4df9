"""Reviewer secrets and session tokens.

A reviewer's secret is hashed with scrypt (hashlib, no extra dependency): it is a password a
person may reuse or type, so the hash must be slow. Session tokens are 32 random bytes, kept as
a plain SHA-256 like API keys (nothing there to brute-force).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

# scrypt cost: ~16 MB and ~50 ms per check on this class of machine.
_N, _R, _P = 2**14, 8, 1
_DUMMY = None  # a hash to check against when the name is unknown, so timing tells nothing


def new_secret() -> str:
    return secrets.token_urlsafe(18)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_secret(secret: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=_N, r=_R, p=_P, maxmem=64 << 20)
    return "$".join(["scrypt", str(_N), str(_R), str(_P), _b64(salt), _b64(digest)])


def verify_secret(secret: str, stored: str | None) -> bool:
    """Constant work whether or not there is a stored hash (`None`: unknown reviewer)."""
    global _DUMMY
    if stored is None:
        _DUMMY = _DUMMY or hash_secret(new_secret())
        stored, known = _DUMMY, False
    else:
        known = True
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(secret.encode()[:1024], salt=_unb64(salt), n=int(n), r=int(r),
                             p=int(p), maxmem=64 << 20)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, _unb64(digest)) and known


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hmac_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
