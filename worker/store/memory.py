"""Writing memory: items written once per source, indexed with their conversation neighbours.

Every function takes `client_id` and filters on it in SQL. Reading is worker.store.memory_search.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete, select, text, update
from sqlalchemy.orm import Session

from worker.store.models import InboundMessage, Lead, MemoryItem, new_id, utcnow
from worker.store.upsert import insert_for

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


def remember(session: Session, client_id: str, writes: list[MemoryWrite]) -> int:
    """Insert new items (a source already written is left as it is); returns how many."""
    writes = [w for w in writes if w.text.strip()]
    inserted = 0
    for start in range(0, len(writes), _BATCH):
        rows = [_row(client_id, w) for w in writes[start:start + _BATCH]]
        written = session.scalars(
            insert_for(session, MemoryItem)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["client_id", "source_ref"])
            .returning(MemoryItem.id)
        ).all()
        inserted += len(written)
    refresh_context(session, client_id, {w.conversation_id for w in writes if w.conversation_id})
    return inserted


def replace(session: Session, client_id: str, write: MemoryWrite) -> None:
    """Write the item of `write.source_ref`, replacing its kind and text if it exists."""
    stmt = insert_for(session, MemoryItem).values(_row(client_id, write))
    stmt = stmt.on_conflict_do_update(
        index_elements=["client_id", "source_ref"],
        set_={"kind": stmt.excluded.kind, "text": stmt.excluded.text,
              "created_at": stmt.excluded.created_at, "embedding": stmt.excluded.embedding},
    )
    session.execute(stmt)
    if write.conversation_id:
        refresh_context(session, client_id, {write.conversation_id})


def forget_source(session: Session, client_id: str, source_ref: str) -> int:
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
    weigh less than the item's own words (tsv weights B and C).
    """
    ids = sorted(set(conversation_ids))
    for start in range(0, len(ids), _BATCH):
        session.execute(
            text(
                """
                UPDATE memory_items SET context = n.near, context_far = n.far
                FROM (
                    SELECT id,
                        trim(coalesce(substr(lag(text) OVER w, 1, :chars), '') || ' ' ||
                             coalesce(substr(lead(text) OVER w, 1, :chars), '')) AS near,
                        trim(coalesce(substr(lag(text, 2) OVER w, 1, :chars), '') || ' ' ||
                             coalesce(substr(lead(text, 2) OVER w, 1, :chars), '')) AS far
                    FROM memory_items
                    WHERE client_id = :client_id AND conversation_id IN :conversations
                    WINDOW w AS (PARTITION BY conversation_id ORDER BY created_at, id)
                ) AS n
                WHERE memory_items.client_id = :client_id AND memory_items.id = n.id
                  AND (memory_items.context <> n.near OR memory_items.context_far <> n.far)
                """
            ).bindparams(bindparam("conversations", expanding=True)),
            {"client_id": client_id, "conversations": ids[start:start + _BATCH],
             "chars": CONTEXT_CHARS},
        )

def lead_key_of_message(session: Session, client_id: str, message_id: str) -> str | None:
    return session.scalar(
        select(Lead.lead_key)
        .join(InboundMessage, InboundMessage.lead_id == Lead.id)
        .where(InboundMessage.client_id == client_id, Lead.client_id == client_id,
               InboundMessage.id == message_id)
    )

def set_embedding(session: Session, client_id: str, source_ref: str, vector: list[float]) -> None:
    session.execute(
        update(MemoryItem)
        .where(MemoryItem.client_id == client_id, MemoryItem.source_ref == source_ref)
        .values(embedding=vector),
        execution_options={"synchronize_session": False},
    )
