"""`/api/agent/reply`, `/api/agent/config/…` and `/api/agent/health`."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from cachetools import LRUCache
from sqlalchemy.exc import IntegrityError
from ulid import ULID

from schema.agent_config import AgentConfigFields, ResolvedConfig
from worker.api.auth import client_id, optional_client_id, runtime
from worker.api.schemas import (
    ConfigIn, ConfigOut, ConfigVersion, HealthOut, ReplyIn, ReplyOut, ReplyPending,
)
from worker.api.strict_json import StrictJSONRoute
from worker.errors import BadEvent
from worker.health import check_health
from worker.ingress.direct import accept_chat
from worker.bootstrap import Runtime
from worker.pipeline.config_change import activate_config, config_versions
from worker.store import replies, tenants
from worker.store.models import Draft, InboundMessage
from worker.statuses import FailureKind, MessageStatus

router = APIRouter(prefix="/api/agent", tags=["agent"], route_class=StrictJSONRoute)

_NOT_FOUND = {404: {"description": "not found (or another client's)"}}


# --- reply ---------------------------------------------------------------------------------


@router.post(
    "/reply",
    response_model=ReplyOut,
    responses={202: {"model": ReplyPending, "description": "not drafted within the wait"},
               422: {"description": "the message is not a valid chat event"}},
)
async def reply(
    body: ReplyIn,
    client: str = Depends(client_id),
    rt: Runtime = Depends(runtime),
    wait: float | None = Query(None, ge=0, le=60, description="seconds to wait for the draft "
                               "(default REPLY_WAIT_SECONDS)"),
) -> ReplyOut | JSONResponse:
    """Store and enqueue a chat message exactly as a chat event from the stream, then wait
    (bounded) for its draft. The same eventId is never drafted twice: sending it again
    returns the existing draft."""
    event = body.model_dump(mode="json", by_alias=True, exclude_none=True)
    event["eventId"] = body.event_id or f"api-{ULID()}"
    event["clientId"] = client
    try:
        await run_in_threadpool(rt.call, accept_chat, event)
    except BadEvent as exc:
        raise HTTPException(422, str(exc)) from exc
    except IntegrityError as exc:  # the client was deleted behind this process's config cache
        if await run_in_threadpool(_client_exists, rt, client):
            raise
        rt.configs.invalidate(client)
        raise HTTPException(404, f"no client {client!r}") from exc
    deadline = time.monotonic() + (rt.settings.reply_wait_seconds if wait is None else wait)
    pause = 0.02
    while True:
        message, draft = await run_in_threadpool(_state, rt, client, event["eventId"])
        finished = message is not None and message.status in (MessageStatus.FAILED, MessageStatus.SKIPPED) and (
            message.status == MessageStatus.SKIPPED
            or message.failure_kind == FailureKind.PERMANENT
        )
        if draft is not None or finished or time.monotonic() >= deadline:
            break
        await asyncio.sleep(min(pause, max(0.0, deadline - time.monotonic())))
        pause = min(pause * 1.5, 0.25)
    return _reply_or_pending(event["eventId"], message, draft)


@router.get(
    "/reply/{eventId}",
    response_model=ReplyOut,
    responses={202: {"model": ReplyPending}, **_NOT_FOUND},
)
def reply_status(
    eventId: str = Path(pattern=r"^[^\x00]{1,200}$"),  # noqa: N803
    client: str = Depends(client_id),
    rt: Runtime = Depends(runtime),
) -> ReplyOut | JSONResponse:
    """The draft of a message sent with POST /reply, once it is ready (202 until then)."""
    message, draft = _state(rt, client, eventId)
    if message is None:
        raise HTTPException(404, f"no message with eventId {eventId!r}")
    return _reply_or_pending(eventId, message, draft)


def _client_exists(rt: Runtime, client: str) -> bool:
    with rt.sessions() as session:
        return tenants.client_exists(session, client)


def _state(rt: Runtime, client: str, event_id: str):  # noqa: ANN202
    with rt.sessions() as session:
        return replies.message_and_draft(session, client, event_id)


def _reply_or_pending(
    event_id: str, message: InboundMessage | None, draft: Draft | None
) -> ReplyOut | JSONResponse:
    if draft is not None:
        return ReplyOut(
            reply=draft.reply, quickReplies=draft.quick_replies, usedConfigId=draft.config_id,
            memoryContextDocs=draft.memory_refs, draftId=draft.id, eventId=draft.event_id,
            status=draft.status, configVersion=draft.config_version, model=draft.model,
            degraded=draft.degraded,
        )
    assert message is not None
    location = f"/api/agent/reply/{quote(event_id, safe='')}"  # a header is latin-1
    pending = ReplyPending(
        eventId=event_id, messageId=message.id, status=message.status,
        reason=message.last_error if message.status in (MessageStatus.FAILED, MessageStatus.SKIPPED)
        else None,
        location=location,
    )
    return JSONResponse(pending.model_dump(mode="json"), status_code=202,
                        headers={"Location": location})


# --- config --------------------------------------------------------------------------------


def _config_out(resolved: ResolvedConfig) -> ConfigOut:
    return ConfigOut(
        clientId=resolved.client_id, configId=resolved.config_id, version=resolved.version,
        active=resolved.config_id is not None, **resolved.fields.model_dump(),
    )


# A config version never changes once written: its JSON is rendered once per process.
_rendered: LRUCache = LRUCache(maxsize=2_000)


@router.get("/config/active", response_model=ConfigOut, responses=_NOT_FOUND)
async def get_active_config(
    client: str = Depends(client_id), rt: Runtime = Depends(runtime)
) -> Response:
    """The client's active config (version 0 and the defaults when it has none). Served from
    the per-process cache that a PUT invalidates in every process."""
    resolved = rt.configs.cached(client) or await run_in_threadpool(rt.configs.resolve, client)
    if resolved is None:
        raise HTTPException(404, f"no client {client!r}")
    key = (client, resolved.config_id, resolved.version)
    body = _rendered.get(key)
    if body is None:
        body = _rendered[key] = _config_out(resolved).model_dump_json(by_alias=True).encode()
    return Response(body, media_type="application/json")


@router.put(
    "/config/active",
    response_model=ConfigOut,
    responses={422: {"description": "invalid config: the problems, field by field"}},
)
def put_active_config(
    body: ConfigIn, client: str = Depends(client_id), rt: Runtime = Depends(runtime)
) -> ConfigOut:
    """Store a new version and make it the active one. Every worker drafts with it from its
    next message on (the change is announced over Redis; caches drop it at once)."""
    fields = AgentConfigFields.model_validate(body.as_contract_json())
    done = rt.call(activate_config, client, fields, via="api")
    if done is None:
        raise HTTPException(404, f"no client {client!r}")
    return _config_out(ResolvedConfig(client_id=client, config_id=done.config_id,
                                      version=done.version, fields=fields))


@router.get("/config/history", response_model=list[ConfigVersion])
def config_history(
    client: str = Depends(client_id), rt: Runtime = Depends(runtime)
) -> list[ConfigVersion]:
    """Every config version, newest first, with how its drafts fared in review."""
    return [ConfigVersion(configId=v.config_id, version=v.version, active=v.active,
                          createdAt=v.created_at, config=v.fields, drafts=v.drafts)
            for v in config_versions(rt.sessions, client)]


# --- health --------------------------------------------------------------------------------


@router.get(
    "/health",
    response_model=HealthOut,
    responses={503: {"model": HealthOut, "description": "unhealthy: see the failing checks"}},
)
def health(
    request: Request, response: Response, client: str | None = Depends(optional_client_id),
    rt: Runtime = Depends(runtime),
) -> HealthOut:
    """Database, Redis, stream lag and queues, worker heartbeat, model reachability and (for
    a client) whether it has an active config. 200 only when every check passes."""
    report = rt.call(check_health, client)
    if not report.healthy:
        response.status_code = 503
    return HealthOut(clientId=client, **report.as_json())
