"""Writing memory: items written once per source, indexed with their conversation neighbours.

Every function takes `client_id` and filters on it in SQL. Reading is worker.store.memory_search.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from worker.store.models import InboundMessage, Lead, MemoryItem, new_id, utcnow
from worker.store import tenancy
from worker.store.rows import as_arrays, insert_rows

# Neighbours' text indexed with an item is cut to this much per side: enough for the topic.
CONTEXT_CHARS = 600
_BATCH = 1000


@dataclass(frozen=True)
class MemoryWrite:
    kind: str
    text: str
    lead_key: str | None = None
    conversation_id: str | None = None
    source_ref: str | None = None
    external_id: str | None = None
    created_at: datetime | None = None
    embedding: list[float] | None = None


_ITEMS = MemoryItem.__table__
_ITEM_COLUMNS = ("id", "client_id", "lead_key", "conversation_id", "kind", "text", "context",
                 "context_far", "source_ref", "external_id", "embedding", "created_at")
# Built once, one text whatever the number of items (rows.py).
_INSERT_ITEMS = (
    insert_rows(_ITEMS, _ITEM_COLUMNS)
    .on_conflict_do_nothing(index_elements=["client_id", "source_ref"])
    .returning(_ITEMS.c.id)
)


def remember(session: Session, client_id: str, writes: list[MemoryWrite]) -> int:
    """Insert new items (a source already written is left as it is); returns how many."""
    tenancy.bind(session, client_id)
    writes = [w for w in writes if w.text.strip()]
    inserted = 0
    for start in range(0, len(writes), _BATCH):
        rows = [_row(client_id, w) for w in writes[start:start + _BATCH]]
        written = session.connection().execute(
            _INSERT_ITEMS, as_arrays(_ITEMS, rows, _ITEM_COLUMNS)).all()
        inserted += len(written)
    refresh_context(session, client_id, {w.conversation_id for w in writes if w.conversation_id})
    return inserted


def replace(session: Session, client_id: str, write: MemoryWrite) -> None:
    """Write the item of `write.source_ref`, replacing its kind and text if it exists."""
    tenancy.bind(session, client_id)
    stmt = insert(MemoryItem).values(_row(client_id, write))
    stmt = stmt.on_conflict_do_update(
        index_elements=["client_id", "source_ref"],
        set_={"kind": stmt.excluded.kind, "text": stmt.excluded.text,
              "created_at": stmt.excluded.created_at, "embedding": stmt.excluded.embedding},
    )
    session.execute(stmt)
    if write.conversation_id:
        refresh_context(session, client_id, {write.conversation_id})


def forget_source(session: Session, client_id: str, source_ref: str) -> int:
    tenancy.bind(session, client_id)
    result = session.execute(
        delete(MemoryItem).where(
            MemoryItem.client_id == client_id, MemoryItem.source_ref == source_ref
        )
    )
    return result.rowcount


def _row(client_id: str, w: MemoryWrite) -> dict:
    return {
        "id": new_id(),
        "client_id": client_id,
        "lead_key": w.lead_key,
        "conversation_id": w.conversation_id,
        "kind": w.kind,
        "text": w.text,
        "context": "",
        "context_far": "",
        "source_ref": w.source_ref,
        "external_id": w.external_id,
        "embedding": w.embedding,
        "created_at": w.created_at or utcnow(),
    }


def refresh_context(session: Session, client_id: str, conversation_ids: Iterable[str]) -> None:
    """Index each item with the text of its neighbours in its conversation: the items right
    before and after it (`context`), and the ones beyond those (`context_far`).

    A short answer ("Yes, on Saturday") is then found by the question it answered; neighbours
    weigh less than the item's own words (tsv weights B and C). Computed here and written by
    primary key: one UPDATE … FROM (window query) was planned, on young tables, as a walk over
    every item of the client for each write.
    """
    tenancy.bind(session, client_id)
    ids = sorted(set(conversation_ids))
    for start in range(0, len(ids), _BATCH):
        rows = session.execute(
            select(MemoryItem.id, MemoryItem.conversation_id, MemoryItem.text,
                   MemoryItem.context, MemoryItem.context_far)
            .where(MemoryItem.client_id == client_id,
                   MemoryItem.conversation_id.in_(ids[start:start + _BATCH]))
            .order_by(MemoryItem.conversation_id, MemoryItem.created_at, MemoryItem.id)
        ).all()
        changed = [
            {"item_id": row.id, "near": near, "far": far}
            for row, near, far in _with_neighbours(rows)
            if (row.context, row.context_far) != (near, far)
        ]
        if changed:
            table = MemoryItem.__table__
            session.connection().execute(
                update(table)
                .where(table.c.client_id == client_id, table.c.id == bindparam("item_id"))
                .values(context=bindparam("near"), context_far=bindparam("far")),
                changed,
            )


def _with_neighbours(rows: list) -> Iterable[tuple]:  # noqa: ANN001
    """(row, near, far) for rows sorted by conversation, then time."""
    def cut(i: int, conversation: str) -> str:
        if 0 <= i < len(rows) and rows[i].conversation_id == conversation:
            return rows[i].text[:CONTEXT_CHARS]
        return ""

    for i, row in enumerate(rows):
        c = row.conversation_id
        near = f"{cut(i - 1, c)} {cut(i + 1, c)}".strip(" ")  # as SQL trim() did
        far = f"{cut(i - 2, c)} {cut(i + 2, c)}".strip(" ")
        yield row, near, far


def lead_key_of(session: Session, client_id: str, lead_id: object) -> str | None:
    """The key of the lead with this id (a value, or a scalar subquery that yields it)."""
    tenancy.bind(session, client_id)
    return session.scalar(
        select(Lead.lead_key).where(Lead.id == lead_id, Lead.client_id == client_id)
    )


def lead_key_of_message(session: Session, client_id: str, message_id: str) -> str | None:
    # Two primary-key lookups, written so: as a join, a plan made while the tables were small
    # walked every lead of the client (1.5 s per draft at a few thousand messages).
    tenancy.bind(session, client_id)
    lead_id = (
        select(InboundMessage.lead_id)
        .where(InboundMessage.id == message_id, InboundMessage.client_id == client_id)
        .scalar_subquery()
    )
    return lead_key_of(session, client_id, lead_id)


def set_embedding(session: Session, client_id: str, source_ref: str, vector: list[float]) -> None:
    tenancy.bind(session, client_id)
    session.execute(
        update(MemoryItem)
        .where(MemoryItem.client_id == client_id, MemoryItem.source_ref == source_ref)
        .values(embedding=vector),
        execution_options={"synchronize_session": False},
    )
