"""API keys: created and revoked from the CLI, looked up by the SHA-256 of what a caller sends.

Keys are 32 random bytes (secrets.token_urlsafe), so a plain SHA-256 is enough: there is
nothing to brute-force that a slow password hash would protect.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from worker.store.models import ApiKey, new_id, utcnow

KEY_PREFIX = "ar_"
_VISIBLE = 10  # characters kept in clear (with "ar_") to tell keys apart in listings


@dataclass(frozen=True)
class Caller:
    """Who a key belongs to. A client key acts for its client only."""

    key_id: str
    client_id: str | None  # None for admin keys
    is_admin: bool
    name: str | None


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(
    session: Session, client_id: str | None, *, is_admin: bool = False, name: str | None = None
) -> tuple[ApiKey, str]:
    """Returns the stored row and the key itself, which is never stored and shown only now."""
    if not is_admin and client_id is None:
        raise ValueError("a client key needs a client")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(
        id=new_id(),
        client_id=None if is_admin else client_id,
        is_admin=is_admin,
        prefix=key[:_VISIBLE],
        key_hash=hash_key(key),
        name=name,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return row, key


def caller_for(session: Session, key: str) -> Caller | None:
    """The active (not revoked) key matching `key`, or None."""
    row = session.execute(
        select(ApiKey.id, ApiKey.client_id, ApiKey.is_admin, ApiKey.name).where(
            ApiKey.key_hash == hash_key(key), ApiKey.revoked_at.is_(None)
        )
    ).first()
    if row is None:
        return None
    return Caller(key_id=row.id, client_id=row.client_id, is_admin=row.is_admin, name=row.name)


def list_keys(session: Session, client_id: str | None = None) -> list[ApiKey]:
    stmt = select(ApiKey).order_by(ApiKey.created_at)
    if client_id is not None:
        stmt = stmt.where(ApiKey.client_id == client_id)
    return list(session.scalars(stmt))


def revoke_key(session: Session, key_id_or_prefix: str) -> list[str]:
    """Revoke by id or by visible prefix; returns the ids revoked (none if already revoked)."""
    match = (ApiKey.id == key_id_or_prefix) | (ApiKey.prefix == key_id_or_prefix)
    revoked = session.scalars(
        update(ApiKey)
        .where(match, ApiKey.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .returning(ApiKey.id),
        execution_options={"synchronize_session": False},
    )
    return list(revoked)
