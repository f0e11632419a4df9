"""Stage: put drafts on the outbound review stream (at least once; consumers dedupe on draftId)."""

from __future__ import annotations

from collections import defaultdict

from worker.runtime import Runtime
from worker.store import drafts


def chat_channel(conversation_id: str) -> str:
    """Pub/sub channel the live-chat server's websocket listens on for one conversation."""
    return f"agent:drafts:{conversation_id}"


def publish_drafts(rt: Runtime, client_id: str, payloads: list[dict]) -> None:
    """Publish right after the draft's transaction committed. If this fails or the process dies
    first, the outbox relay publishes the row later."""
    rt.publisher.publish(rt.settings.outbound_stream, payloads)
    _notify_chat(rt, payloads)
    with rt.sessions.begin() as session:
        drafts.mark_published(session, client_id, [p["draftId"] for p in payloads])


def relay_outbox(rt: Runtime, batch: int = 500) -> int:
    """Publish outbox rows left unpublished past the grace period. Safe to run in parallel:
    rows are locked with SKIP LOCKED, so two relays never take the same row at once."""
    published = 0
    while True:
        with rt.sessions.begin() as session:
            rows = drafts.claim_unpublished(session, rt.settings.outbox_sweep_after_seconds, batch)
            if not rows:
                return published
            by_stream: dict[str, list[dict]] = defaultdict(list)
            for row in rows:
                by_stream[row.stream].append(row.payload)
            for stream, payloads in by_stream.items():
                rt.publisher.publish(stream, payloads)
                _notify_chat(rt, payloads)
            by_client: dict[str, list[str]] = defaultdict(list)
            for row in rows:
                by_client[row.client_id].append(row.draft_id)
            for client_id, draft_ids in by_client.items():
                drafts.mark_published(session, client_id, draft_ids)
            published += len(rows)
        if len(rows) < batch:
            return published


def _notify_chat(rt: Runtime, payloads: list[dict]) -> None:
    """Chat drafts also go straight to their conversation's channel (fire and forget: the
    stream entry is the record; pub/sub only saves the chat server a poll)."""
    for payload in payloads:
        if payload.get("channel") == "chat" and payload.get("conversationId"):
            rt.publisher.notify(chat_channel(payload["conversationId"]), payload)
