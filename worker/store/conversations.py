"""Which conversation a new message joins: the one its thread id names only when that
conversation is the same lead's.

Thread ids are written by the sender: an e-mail's References / In-Reply-To can name any
Message-ID, and a chat producer's conversationId or an imported conversation's id can be
reused. Joining a conversation means recalling its history and withdrawing its pending drafts,
so a message whose lead key differs from the conversation's owner starts a conversation of its
own instead: the same id with the lead's mark appended, stable, so the lead's next message
joins it again.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from worker.store.models import Conversation, MemoryItem, new_id
from worker.store import tenancy

MAX_CONVERSATION_ID = 200  # conversations.external_id
_MARK = "#lead:"


def conversation_for_lead(
    session: Session, client_id: str, external_id: str, lead_id: str | None, lead_key: str | None
) -> str:
    """`external_id` when it is this lead's conversation (or nobody's yet), else its own."""
    tenancy.bind(session, client_id)
    candidate = external_id
    for attempt in range(3):
        if not _owned_by_another(session, client_id, candidate, lead_id, lead_key):
            return candidate
        # Someone may have taken the marked id too: then one that cannot be guessed.
        salt = lead_key or "no-lead" if attempt == 0 else f"{lead_key}:{new_id()}"
        mark = _MARK + hashlib.sha256(salt.encode()).hexdigest()[:16]
        candidate = external_id[: MAX_CONVERSATION_ID - len(mark)] + mark
    return candidate


def _owned_by_another(
    session: Session, client_id: str, external_id: str, lead_id: str | None, lead_key: str | None
) -> bool:
    owner = session.execute(
        select(Conversation.lead_id).where(
            Conversation.client_id == client_id, Conversation.external_id == external_id
        )
    ).first()
    if owner is not None:
        return owner.lead_id != lead_id
    # No conversation row: an imported conversation lives only in memory.
    stranger = session.scalar(
        select(MemoryItem.id)
        .where(
            MemoryItem.client_id == client_id,
            MemoryItem.conversation_id == external_id,
            MemoryItem.lead_key.is_distinct_from(lead_key),
        )
        .limit(1)
    )
    return stranger is not None
