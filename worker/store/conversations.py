"""Which conversation a new message joins: the one its thread id names only when that
conversation is the same lead's.

Thread ids are written by the sender: an e-mail's References / In-Reply-To can name any
Message-ID, and a chat producer's conversationId or an imported conversation's id can be
reused. Joining a conversation means recalling its history and withdrawing its pending drafts,
so a message whose lead key differs from the conversation's owner starts a conversation of its
own instead: the same id with the lead's mark appended, stable, so the lead's next message
joins it again.

The ingress stores a batch at a time: `Conversations` answers for a whole batch of one client
with two queries (the conversation rows its ids name, and, for ids without a row, whether
another lead's memory names them), and it counts a conversation the batch starts as owned from
then on, so the batch's messages are placed as if stored one after the other.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sqlalchemy import String, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from worker.store.leads import NewConversation
from worker.store.models import Conversation, MemoryItem, new_id
from worker.store import tenancy

MAX_CONVERSATION_ID = 200  # conversations.external_id
_MARK = "#lead:"
_CONVERSATIONS = Conversation.__table__
_MEMORY = MemoryItem.__table__


def lead_mark(external_id: str, lead_key: str | None) -> str:
    """The id of this lead's own conversation when `external_id` is another's."""
    mark = _MARK + hashlib.sha256((lead_key or "no-lead").encode()).hexdigest()[:16]
    return external_id[: MAX_CONVERSATION_ID - len(mark)] + mark


class Conversations:
    """One client's conversations as a batch of messages sees them."""

    def __init__(
        self, session: Session, client_id: str, wanted: Iterable[tuple[str, str | None]]
    ):
        """`wanted`: (thread id, lead key) of the batch's messages, to look up at once."""
        tenancy.bind(session, client_id)
        self._session, self._client_id = session, client_id
        # external id -> (conversation id or None while only this batch has it, owner lead id)
        self._rows: dict[str, tuple[str | None, str | None]] = {}
        self._looked_up: set[str] = set()
        self._strangers: dict[tuple[str, str | None], bool] = {}
        self._new: dict[str, NewConversation] = {}
        wanted = set(wanted)
        if wanted:
            self._look_up({c for c, _ in wanted} | {lead_mark(c, k) for c, k in wanted})
            self._look_up_strangers({(c, k) for c, k in wanted if c not in self._rows})

    def for_lead(
        self, external_id: str, lead_id: str | None, lead_key: str | None, channel: str
    ) -> str:
        """`external_id` when it is this lead's conversation (or nobody's yet), else its own;
        a conversation nobody has yet is this lead's from now on."""
        candidate = external_id
        for attempt in range(3):
            if not self._owned_by_another(candidate, lead_id, lead_key):
                break
            # Someone may have taken the marked id too: then one that cannot be guessed.
            if attempt == 0:
                candidate = lead_mark(external_id, lead_key)
            else:
                mark = _MARK + hashlib.sha256(f"{lead_key}:{new_id()}".encode()).hexdigest()[:16]
                candidate = external_id[: MAX_CONVERSATION_ID - len(mark)] + mark
        if candidate not in self._rows:
            self._rows[candidate] = (None, lead_id)
            self._new[candidate] = NewConversation(candidate, channel, lead_id)
        return candidate

    def new(self) -> list[NewConversation]:
        """The conversations this batch starts, in order."""
        return list(self._new.values())

    def known_ids(self) -> dict[str, str]:
        """external id -> conversation id, of those already stored."""
        return {ext: row[0] for ext, row in self._rows.items() if row[0] is not None}

    def _owned_by_another(self, external_id: str, lead_id: str | None,
                          lead_key: str | None) -> bool:
        if external_id not in self._looked_up:
            self._look_up({external_id})
        row = self._rows.get(external_id)
        if row is not None:
            return row[1] != lead_id
        # No conversation row: an imported conversation lives only in memory.
        if (external_id, lead_key) not in self._strangers:
            self._look_up_strangers({(external_id, lead_key)})
        return self._strangers[(external_id, lead_key)]

    def _look_up(self, external_ids: set[str]) -> None:
        ids = sorted(external_ids - self._looked_up)
        if not ids:
            return
        self._looked_up.update(ids)
        rows = self._session.connection().execute(
            select(_CONVERSATIONS.c.external_id, _CONVERSATIONS.c.id, _CONVERSATIONS.c.lead_id)
            .where(_CONVERSATIONS.c.client_id == self._client_id,
                   _CONVERSATIONS.c.external_id.in_(ids))
        )
        for external_id, id_, lead_id in rows:
            self._rows[external_id] = (id_, lead_id)

    def _look_up_strangers(self, pairs: set[tuple[str, str | None]]) -> None:
        """Whether another lead's memory names each (conversation, lead key)'s conversation."""
        todo = sorted(p for p in pairs if p not in self._strangers)
        if not todo:
            return
        wanted = func.unnest(
            bindparam("conversations", [c for c, _ in todo], type_=ARRAY(String)),
            bindparam("lead_keys", [k for _, k in todo], type_=ARRAY(String)),
        ).table_valued("conversation_id", "lead_key").render_derived(name="wanted")
        found = self._session.connection().execute(
            select(wanted.c.conversation_id, wanted.c.lead_key).where(
                select(_MEMORY.c.id).where(
                    _MEMORY.c.client_id == self._client_id,
                    _MEMORY.c.conversation_id == wanted.c.conversation_id,
                    _MEMORY.c.lead_key.is_distinct_from(wanted.c.lead_key),
                ).exists()
            )
        )
        strangers = set(found.tuples())
        for pair in todo:
            self._strangers[pair] = pair in strangers
