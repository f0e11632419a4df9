"""Stage: put drafts on the outbound review stream (at least once; consumers dedupe on draftId)."""

from __future__ import annotations

from collections import defaultdict

from worker.ports import DraftStore, Publisher, Sessions
from worker.settings import Settings
from worker.store import outbox


def chat_channel(conversation_id: str) -> str:
    """Pub/sub channel the live-chat server's websocket listens on for one conversation."""
    return f"agent:drafts:{conversation_id}"


def publish_drafts(
    client_id: str, payloads: list[dict], *, publisher: Publisher, store: DraftStore, stream: str
) -> None:
    """Publish right after the draft's transaction committed. If this fails or the process dies
    first, the outbox relay publishes the row later."""
    publisher.publish(stream, payloads)
    _notify_chat(publisher, payloads)
    store.mark_published(client_id, [p["draftId"] for p in payloads])


def relay_outbox(
    *, sessions: Sessions, publisher: Publisher, settings: Settings, batch: int = 500
) -> int:
    """Publish outbox rows left unpublished past the grace period. Safe to run in parallel:
    rows are locked with SKIP LOCKED, so two relays never take the same row at once."""
    published = 0
    while True:
        with sessions.begin() as session:
            rows = outbox.claim_unpublished(session, settings.outbox_sweep_after_seconds, batch)
            if not rows:
                return published
            by_stream: dict[str, list[dict]] = defaultdict(list)
            for row in rows:
                by_stream[row.stream].append(row.payload)
            for stream, payloads in by_stream.items():
                publisher.publish(stream, payloads)
                _notify_chat(publisher, payloads)
            by_client: dict[str, list[str]] = defaultdict(list)
            for row in rows:
                by_client[row.client_id].append(row.draft_id)
            for client_id, draft_ids in by_client.items():
                outbox.mark_published(session, client_id, draft_ids)
            published += len(rows)
        if len(rows) < batch:
            return published


def _notify_chat(publisher: Publisher, payloads: list[dict]) -> None:
    """Chat drafts also go straight to their conversation's channel (fire and forget: the
    stream entry is the record; pub/sub only saves the chat server a poll)."""
    for payload in payloads:
        if payload.get("channel") == "chat" and payload.get("conversationId"):
            publisher.notify(chat_channel(payload["conversationId"]), payload)
