"""Stage: put drafts on the outbound review stream, and reviewers' approved replies on the
decisions stream (at least once each; consumers dedupe on draftId). Each publication also
tells the client's review consoles over pub/sub that their queue changed."""

from __future__ import annotations

from collections import defaultdict

from worker.runtime import Runtime
from worker.store import drafts


def chat_channel(conversation_id: str) -> str:
    """Pub/sub channel the live-chat server's websocket listens on for one conversation."""
    return f"agent:drafts:{conversation_id}"


def review_channel(namespace: str, client_id: str) -> str:
    """Pub/sub channel of one client's review consoles (worker.console.live)."""
    return f"{namespace}:review:{client_id}"


def notify_review(rt: Runtime, client_id: str, draft_id: str, status: str) -> None:
    """Fire and forget: a console that misses it catches up on its periodic re-check."""
    rt.publisher.notify(review_channel(rt.settings.redis_namespace, client_id),
                        {"draftId": draft_id, "status": status})


def publish_drafts(rt: Runtime, client_id: str, payloads: list[dict]) -> None:
    """Publish right after the draft's transaction committed. If this fails or the process dies
    first, the outbox relay publishes the row later."""
    rt.publisher.publish(rt.settings.outbound_stream, payloads)
    _notify_chat(rt, payloads)
    with rt.sessions.begin() as session:
        drafts.mark_published(session, client_id, [p["draftId"] for p in payloads],
                              rt.settings.outbound_stream)
    _notify_review(rt, payloads)


def publish_decision(rt: Runtime, client_id: str, draft_id: str) -> None:
    """Right after a review decision committed: announce its outbox row, if it has one (an
    approval or an edit). If this fails or the process dies first, the relay publishes it."""
    stream = rt.settings.outbound_decisions_stream
    with rt.sessions() as session:
        payload = drafts.unpublished_payload(session, client_id, draft_id, stream)
    if payload is not None:
        rt.publisher.publish(stream, [payload])
        with rt.sessions.begin() as session:
            drafts.mark_published(session, client_id, [draft_id], stream)


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
                if stream == rt.settings.outbound_stream:
                    _notify_chat(rt, payloads)
                    _notify_review(rt, payloads)
            by_client: dict[tuple[str, str], list[str]] = defaultdict(list)
            for row in rows:
                by_client[(row.client_id, row.stream)].append(row.draft_id)
            for (client_id, stream), draft_ids in by_client.items():
                drafts.mark_published(session, client_id, draft_ids, stream)
            published += len(rows)
        if len(rows) < batch:
            return published


def _notify_chat(rt: Runtime, payloads: list[dict]) -> None:
    """Chat drafts also go straight to their conversation's channel (fire and forget: the
    stream entry is the record; pub/sub only saves the chat server a poll)."""
    for payload in payloads:
        if payload.get("channel") == "chat" and payload.get("conversationId"):
            rt.publisher.notify(chat_channel(payload["conversationId"]), payload)


def _notify_review(rt: Runtime, payloads: list[dict]) -> None:
    for payload in payloads:
        notify_review(rt, payload["clientId"], payload["draftId"], payload.get("status", ""))
