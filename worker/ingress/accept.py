"""Use case: store what arrived — each new message with its lead and conversation, its
conversation's pending drafts withdrawn, and its text remembered — in the caller's one
transaction. Each table is written by its own store module.

A batch is stored set-wise, one client at a time (the transaction is bound to that client
once): one statement per table for the client's messages, not one per message. The result is
the same as storing the messages one after the other, in order: a message's thread parent may
be an earlier message of the batch, a conversation an earlier message starts is that lead's
from then on, and message ids increase in batch order (a later message is the newer one).
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.orm import Session

from worker.statuses import MessageStatus
from worker.store import drafts, leads, memory, messages
from worker.store.conversations import Conversations
from worker.store.models import new_ids
from worker.store.messages import MessageRow, NewMessage, StoredRef, bare_message_id


def store_messages(session: Session, new: list[NewMessage]) -> list[StoredRef]:
    """Insert each message unless its (client, eventId) is already stored; every new message
    that is not skipped joins its client's memory in the same transaction. One StoredRef per
    message, in order."""
    by_client: dict[str, list[int]] = {}
    for i, msg in enumerate(new):
        by_client.setdefault(msg.client_id, []).append(i)
    refs: list[StoredRef | None] = [None] * len(new)
    for client_id, positions in by_client.items():
        stored = _store_client(session, client_id, [new[i] for i in positions])
        for i, ref in zip(positions, stored):
            refs[i] = ref
    return [ref for ref in refs if ref is not None]


def _store_client(session: Session, client_id: str, batch: list[NewMessage]) -> list[StoredRef]:
    lead_ids = leads.upsert_leads(session, client_id, _leads_of(batch))
    parents = messages.threads_of(
        session, client_id, [m.thread_parent for m in batch if m.thread_parent])
    # Which conversation each message names, as far as the store tells before the batch.
    named = []
    for msg in batch:
        parent = parents.get(bare_message_id(msg.thread_parent)) if msg.thread_parent else None
        named.append(parent or msg.external_conversation_id)
    conversations = Conversations(
        session, client_id,
        [(c, m.lead_key) for c, m in zip(named, batch) if c])

    rows: list[MessageRow] = []
    threads: dict[str, str] = {}  # this batch's e-mails: bare Message-ID -> conversation
    for msg, row_id in zip(batch, new_ids(len(batch))):
        lead_id = lead_ids.get(msg.lead_key) if msg.lead_key else None
        if msg.thread_parent:
            bare = bare_message_id(msg.thread_parent)
            parent = parents.get(bare) or threads.get(bare)
            if parent:
                msg = replace(msg, external_conversation_id=parent)
        if msg.external_conversation_id:  # joined only if it is this lead's (conversations.py)
            msg = replace(msg, external_conversation_id=conversations.for_lead(
                msg.external_conversation_id, lead_id, msg.lead_key, msg.channel))
            if msg.message_id:
                threads.setdefault(bare_message_id(msg.message_id), msg.external_conversation_id)
        rows.append(MessageRow(row_id, msg, lead_id, None))

    conversation_ids = {
        **conversations.known_ids(),
        **leads.create_conversations(session, client_id, conversations.new()),
    }
    rows = [replace(r, conversation_id=conversation_ids.get(r.msg.external_conversation_id))
            if r.msg.external_conversation_id else r for r in rows]
    inserted = messages.insert_messages(session, client_id, rows)

    repeats = [r.msg.event_id for r in rows if r.id not in inserted]
    already = messages.stored_statuses(session, client_id, repeats) if repeats else {}
    refs: list[StoredRef] = []
    written_in: set[tuple[str, str | None]] = set()
    remembered: list[memory.MemoryWrite] = []
    for r in rows:
        msg = r.msg
        if r.id not in inserted:
            existing_id, status = already[msg.event_id]
            # Stored but never picked up (e.g. we died between storing and enqueueing): hand
            # it over again. The drafting claim makes a second hand-over harmless.
            refs.append(StoredRef(client_id, existing_id, msg.channel,
                                  status == MessageStatus.RECEIVED))
            continue
        drafting = msg.skip_reason is None
        refs.append(StoredRef(client_id, r.id, msg.channel, drafting))
        if drafting and msg.external_conversation_id:
            # The lead wrote again: drafts still waiting for review in that conversation
            # answer an outdated message; the new message gets its own draft.
            written_in.add((msg.external_conversation_id, r.lead_id))
        if drafting:
            remembered.append(_memory_of(msg, r.id))
    drafts.withdraw_pending(session, client_id, written_in)
    if remembered:
        memory.remember(session, client_id, remembered)
    return refs


def _leads_of(batch: list[NewMessage]) -> list[leads.LeadRow]:
    """One row per lead key: as if each message upserted its lead in turn, the first message
    creates the lead and the newest name given is the lead's name."""
    rows: dict[str, leads.LeadRow] = {}
    for msg in batch:
        if not msg.lead_key:
            continue
        first = rows.get(msg.lead_key)
        if first is None:
            rows[msg.lead_key] = leads.LeadRow(msg.lead_key, msg.external_lead_id, msg.lead_name)
        elif msg.lead_name is not None:
            rows[msg.lead_key] = replace(first, display_name=msg.lead_name)
    return list(rows.values())


def _memory_of(msg: NewMessage, message_id: str) -> memory.MemoryWrite:
    text = f"{msg.subject}\n{msg.new_text}" if msg.subject else msg.new_text
    return memory.MemoryWrite(
        kind="inbound_message",
        text=text,
        lead_key=msg.lead_key,
        conversation_id=msg.external_conversation_id,
        source_ref=f"message:{message_id}",
        created_at=msg.received_at,
    )
