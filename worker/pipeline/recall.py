"""Stage: what the model is shown from before. Here: the lead's own earlier messages.

Scoped by client in SQL; newer items score higher so the model reads the latest first.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from worker.pipeline.prompt import Recalled
from worker.store import messages
from worker.store.models import InboundMessage

SNIPPET_CHARS = 500


def recall_for(
    session: Session, client_id: str, message: InboundMessage, limit: int
) -> list[Recalled]:
    earlier = messages.earlier_messages(session, client_id, message, limit)
    return [
        Recalled(
            id=m.id,
            kind="inbound_message",
            text=m.new_text[:SNIPPET_CHARS],
            score=round(1.0 / (rank + 1), 4),
            when=m.received_at.date().isoformat(),
        )
        for rank, m in enumerate(earlier)
    ]
