"""The declarative base, ids and timestamps shared by every table."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase
from ulid import ULID

JsonType = JSONB()


def new_id() -> str:
    return str(ULID())


def new_ids(n: int) -> list[str]:
    """`n` ids in strictly increasing order: ids order messages by arrival (a newer message in
    the conversation), and ULIDs made in the same millisecond are otherwise in random order."""
    first = int(ULID())
    return [str(ULID.from_int(first + i)) for i in range(n)]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {
        datetime: DateTime(timezone=True),
        dict[str, Any]: JsonType,
        list[Any]: JsonType,
    }
