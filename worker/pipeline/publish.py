"""Stage: put drafts on the outbound review stream, and reviewers' approved replies on the
decisions stream (at least once each; consumers dedupe on draftId). Each publication also
tells the client's open review consoles that their queue changed."""

from __future__ import annotations

from collections import defaultdict

from worker.ports import DraftStore, Publisher, Sessions
from worker.settings import Settings
from worker.store import outbox


def chat_channel(conversation_id: str) -> str:
    """Pub/sub channel the live-chat server's websocket listens on for one conversation."""
    return f"agent:drafts:{conversation_id}"


def review_channel(client_id: str) -> str:
    """Pub/sub channel of one client's open review consoles (worker.console.live)."""
    return f"agent:review:{client_id}"


def notify_review(publisher: Publisher, client_id: str, draft_id: str, status: str) -> None:
    """Fire and forget: a console that misses it catches up on its periodic re-check."""
    publisher.notify(*_review_notice(client_id, draft_id, status))


def _review_notice(client_id: str, draft_id: str, status: str) -> tuple[str, dict]:
    return review_channel(client_id), {"draftId": draft_id, "status": status}


def publish_drafts(
    client_id: str, payloads: list[dict], *, publisher: Publisher, store: DraftStore, stream: str
) -> None:
    """Publish right after the draft's transaction committed. If this fails or the process dies
    first, the outbox relay publishes the row later."""
    publisher.publish(stream, payloads, _notices(payloads))
    store.mark_published(client_id, [p["draftId"] for p in payloads], stream)


def publish_decision(
    client_id: str, draft_id: str, *, sessions: Sessions, publisher: Publisher,
    settings: Settings,
) -> None:
    """Right after a review decision committed: announce its outbox row, if it has one (an
    approval or an edit). If this fails or the process dies first, the relay publishes it."""
    stream = settings.outbound_decisions_stream
    with sessions() as session:
        payload = outbox.unpublished_payload(session, client_id, draft_id, stream)
    if payload is not None:
        publisher.publish(stream, [payload])
        with sessions.begin() as session:
            outbox.mark_published(session, client_id, [draft_id], stream)


def announce_decision(
    client_id: str, draft_id: str, status: str, *, sessions: Sessions, publisher: Publisher,
    settings: Settings,
) -> None:
    """After a review decision committed: publish it and tell the client's open consoles the
    draft left the queue. A failure here loses nothing: the outbox row is committed and the
    relay publishes it, so it is logged, not raised (the decision itself stands)."""
    try:
        publish_decision(client_id, draft_id, sessions=sessions, publisher=publisher,
                         settings=settings)
        notify_review(publisher, client_id, draft_id, status)
    except Exception as exc:  # noqa: BLE001 - see above
        from worker.logs import log

        log.warning("review.announce_deferred", client_id=client_id, draft_id=draft_id,
                    error=f"{type(exc).__name__}: {exc}"[:300])


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
                notices = _notices(payloads) if stream == settings.outbound_stream else []
                publisher.publish(stream, payloads, notices)
            by_client: dict[tuple[str, str], list[str]] = defaultdict(list)
            for row in rows:
                by_client[(row.client_id, row.stream)].append(row.draft_id)
            for (client_id, stream), draft_ids in by_client.items():
                outbox.mark_published(session, client_id, draft_ids, stream)
            published += len(rows)
        if len(rows) < batch:
            return published


def _notices(payloads: list[dict]) -> list[tuple[str, dict]]:
    """What a draft's publication tells besides its stream entry: chat drafts go straight to
    their conversation's channel (the stream entry is the record; pub/sub only saves the chat
    server a poll), and the client's open review consoles hear their queue changed."""
    notices = [(chat_channel(p["conversationId"]), p) for p in payloads
               if p.get("channel") == "chat" and p.get("conversationId")]
    notices += [_review_notice(p["clientId"], p["draftId"], p.get("status", ""))
                for p in payloads]
    return notices
