"""Use case: store what arrived — each new message with its lead and conversation, its
conversation's pending drafts withdrawn, and its text remembered — in the caller's one
transaction. Each table is written by its own store module."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.orm import Session

from worker.statuses import MessageStatus
from worker.store import drafts, leads, memory, messages
from worker.store.conversations import conversation_for_lead
from worker.store.messages import NewMessage, StoredRef


def store_messages(session: Session, new: list[NewMessage]) -> list[StoredRef]:
    """Insert each message unless its (client, eventId) is already stored; every new message
    that is not skipped joins its client's memory in the same transaction."""
    refs: list[StoredRef] = []
    remembered: dict[str, list[memory.MemoryWrite]] = {}
    for msg in new:
        if msg.thread_parent:
            parent_thread = messages.thread_of(session, msg.client_id, msg.thread_parent)
            if parent_thread:
                msg = replace(msg, external_conversation_id=parent_thread)
        lead_id = leads.upsert_lead(session, msg)
        if msg.external_conversation_id:  # joined only if it is this lead's (conversations.py)
            msg = replace(msg, external_conversation_id=conversation_for_lead(
                session, msg.client_id, msg.external_conversation_id, lead_id, msg.lead_key))
        conversation_id = leads.upsert_conversation(session, msg, lead_id)
        row_id = messages.insert_message(session, msg, lead_id, conversation_id)
        if row_id is None:
            existing_id, status = messages.stored_status(session, msg.client_id, msg.event_id)
            # Stored but never picked up (e.g. we died between storing and enqueueing): hand
            # it over again. The drafting claim makes a second hand-over harmless.
            refs.append(StoredRef(msg.client_id, existing_id, msg.channel,
                                  status == MessageStatus.RECEIVED))
            continue
        drafting = msg.skip_reason is None
        refs.append(StoredRef(msg.client_id, row_id, msg.channel, drafting))
        if drafting and msg.external_conversation_id:
            # The lead wrote again: drafts still waiting for review in that conversation
            # answer an outdated message; the new message gets its own draft.
            drafts.withdraw_pending(session, msg.client_id, msg.external_conversation_id,
                                    lead_id)
        if drafting:
            remembered.setdefault(msg.client_id, []).append(_memory_of(msg, row_id))
    for client_id, writes in remembered.items():
        memory.remember(session, client_id, writes)
    return refs


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
