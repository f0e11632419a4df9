"""What joins memory besides inbound messages: imported history and reviewed replies."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from schema.memory import ImportItem
from worker.leads import lead_key
from worker.ports import Embedder
from worker.store import memory
from worker.store.memory import MemoryWrite


@dataclass(frozen=True)
class ImportSummary:
    received: int
    imported: int


def import_items(
    session: Session, client_id: str, items: list[ImportItem], lead_secret: bytes | None,
    embedder: Embedder | None = None,
) -> ImportSummary:
    """Write `items` into CLIENT_ID's memory. An item with an externalId is written once, so
    an interrupted import can simply be run again. With an embedder, each item gets its vector."""
    vectors = embedder.embed([i.text for i in items]) if embedder else [None] * len(items)
    writes = [
        MemoryWrite(
            kind=item.kind,
            text=item.text,
            lead_key=_lead_key(item, lead_secret),
            conversation_id=item.conversation_id,
            source_ref=f"import:{item.external_id}" if item.external_id else None,
            external_id=item.external_id,
            created_at=item.created_at,
            embedding=vector,
        )
        for item, vector in zip(items, vectors)
    ]
    return ImportSummary(len(writes), memory.remember(session, client_id, writes))


def _lead_key(item: ImportItem, secret: bytes | None) -> str | None:
    if item.lead_email and not item.lead_id and secret is None:
        raise ValueError("leadEmail needs LEAD_HASH_KEY (addresses are only stored as HMACs)")
    return lead_key(item.lead_id, item.lead_email, secret or b"")
