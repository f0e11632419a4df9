"""Server-sent events for an open queue: Redis pub/sub tells a client's consoles that a draft
entered or left the queue (worker.pipeline.publish.notify_review); the page then re-renders
its list from the server. A periodic cheap re-check covers a notification lost on the way
(and drafts withdrawn by the lead writing again)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import orjson
import redis.asyncio as aioredis
from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from worker.console.session import signed_in
from worker.pipeline.publish import review_channel
from worker.bootstrap import Runtime
from worker.store import review_queue
from worker.store.reviewers import SignedIn

router = APIRouter(include_in_schema=False)
RECHECK_SECONDS = 5.0
# A connection is closed after this long; EventSource reconnects by itself, so a server that
# is stopping is never held up by an open stream for long.
MAX_STREAM_SECONDS = 300.0


@router.get("/events")
async def events(request: Request, who: SignedIn = Depends(signed_in)) -> StreamingResponse:
    rt: Runtime = request.app.state.rt
    return StreamingResponse(
        _stream(request, rt, who.client_id), media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _fingerprint(rt: Runtime, client_id: str) -> tuple:
    with rt.sessions() as session:
        return review_queue.pending_fingerprint(session, client_id)


async def _stream(request: Request, rt: Runtime, client_id: str) -> AsyncIterator[bytes]:
    client = aioredis.Redis.from_url(rt.settings.redis_url)
    pubsub = client.pubsub()
    await pubsub.subscribe(review_channel(client_id))
    try:
        yield b"retry: 2000\nevent: ready\ndata: {}\n\n"
        known = await run_in_threadpool(_fingerprint, rt, client_id)
        started = checked = time.monotonic()
        while time.monotonic() - started < MAX_STREAM_SECONDS:
            if await request.is_disconnected():
                return
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if message is not None:
                data = orjson.loads(message["data"])
                yield b"event: queue\ndata: " + orjson.dumps(
                    {"draftId": str(data.get("draftId", "")), "status": str(data.get("status", ""))}
                ) + b"\n\n"
                continue
            if time.monotonic() - checked >= RECHECK_SECONDS:
                checked = time.monotonic()
                now = await run_in_threadpool(_fingerprint, rt, client_id)
                if now != known:
                    known = now
                    yield b"event: queue\ndata: {}\n\n"
                else:
                    yield b": still here\n\n"
    except asyncio.CancelledError:
        raise
    finally:
        await pubsub.aclose()
        await client.aclose()
