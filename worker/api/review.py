"""Review: list drafts by status, show one with its prompt context, approve / edit / reject.

The actions are the review use cases of `worker.pipeline.review` (approved and edited replies
become memory examples, rejections are counted per config version); this module only speaks
HTTP. Until that module is installed the three actions answer 501.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from sqlalchemy.orm import Session

from schema.agent_config import AgentConfigFields
from worker import metrics
from worker.api.auth import caller, client_id, runtime
from worker.api.schemas import ApproveIn, DraftDetail, DraftList, DraftOut, EditIn, RejectIn
from worker.api.strict_json import StrictJSONRoute
from worker.errors import AgentRuntimeError
from worker.logs import log
from worker.bootstrap import Runtime
from worker.pipeline.publish import announce_decision
from worker.store import drafts, messages, tenants
from worker.store.api_keys import Caller
from worker.store.models import Draft
from worker.statuses import DraftStatus

router = APIRouter(prefix="/api/agent/drafts", tags=["review"], route_class=StrictJSONRoute)

_NOT_FOUND = {404: {"description": "no such draft (or another client's)"}}
_ACTION = {**_NOT_FOUND, 409: {"description": "the draft is no longer pending review"},
           422: {"description": "refused: e.g. an empty text or reason"},
           501: {"description": "review use cases not installed"}}
DraftId = Path(pattern=r"^[0-9A-Za-z]{1,64}$", description="the draft's id (a ULID)")
_HIDDEN = {"client_id", "inbound_message_id"}  # internal columns


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


# Every column of drafts, camelCase: review columns added by later migrations show up in the
# API without a change here.
_FIELDS = [
    (column.key, _camel(column.name)) for column in Draft.__table__.columns
    if column.name not in _HIDDEN and column.name != "id"
]


def draft_json(draft: Draft) -> dict[str, Any]:
    out = {"draftId": draft.id}
    for key, name in _FIELDS:
        out[name] = getattr(draft, key, None)
    return out


@router.get("", response_model=DraftList)
def list_drafts(
    status: str | None = Query(None, pattern=r"^[a-z_]{1,16}$",
                               description="pending_review, approved, edited, rejected, stale, "
                               "withdrawn"),
    limit: int = Query(50, ge=1, le=500),
    client: str = Depends(client_id),
    rt: Runtime = Depends(runtime),
) -> DraftList:
    """The client's newest drafts, optionally of one status."""
    with rt.sessions() as session:
        rows = drafts.list_drafts(session, client, status, limit)
        return DraftList(drafts=[DraftOut(**draft_json(d)) for d in rows])


@router.get("/{draftId}", response_model=DraftDetail, responses=_NOT_FOUND)
def show_draft(
    draftId: str = DraftId, client: str = Depends(client_id),  # noqa: N803
    rt: Runtime = Depends(runtime),
) -> DraftDetail:
    """One draft with what it was written from: the config version, the memory it recalled,
    the lead's message, usage."""
    with rt.sessions() as session:
        draft = drafts.get_draft(session, client, draftId)
        if draft is None:
            raise HTTPException(404, f"no draft {draftId!r}")
        return DraftDetail(**draft_json(draft), context=_context(session, client, draft))


def _context(session: Session, client: str, draft: Draft) -> dict[str, Any]:
    config = None
    if draft.config_id:
        row = tenants.config_by_id(session, client, draft.config_id)
        config = AgentConfigFields.model_validate(row.fields).as_contract_json() if row else None
    message = messages.get_message(session, client, draft.inbound_message_id)
    lead = {}
    if message is not None:
        lead = {"text": message.new_text, "subject": message.subject,
                "receivedAt": _iso(message.received_at), "messageId": message.id}
    return {
        "configId": draft.config_id, "configVersion": draft.config_version, "config": config,
        "memoryRefs": draft.memory_refs, "leadMessage": lead,
        "usage": {"promptTokens": draft.prompt_tokens, "completionTokens":
                  draft.completion_tokens, "costUsd": draft.cost_usd,
                  "latencyMs": draft.latency_ms},
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


# --- actions -------------------------------------------------------------------------------


def _review_module():  # noqa: ANN202
    try:
        from worker.pipeline import review
    except ImportError as exc:
        raise HTTPException(501, "review actions are not installed in this build") from exc
    return review


def _refusal(rt: Runtime, client: str, draft_id: str, exc: Exception) -> HTTPException:
    """The use cases refuse a draft that does not exist for the client or is not pending
    (and input they cannot use): tell which from the draft itself, whatever the error's name."""
    with rt.sessions() as session:
        draft = drafts.get_draft(session, client, draft_id)
    if draft is None:
        return HTTPException(404, f"no draft {draft_id!r}")
    if draft.status != DraftStatus.PENDING_REVIEW:
        return HTTPException(409, f"draft {draft_id!r} is {draft.status}, not pending review")
    return HTTPException(422, str(exc) or type(exc).__name__)


def _act(rt: Runtime, client: str, draft_id: str, action: str, reviewer: str,
         call) -> DraftOut:  # noqa: ANN001
    try:
        with rt.sessions.begin() as session:
            draft = call(session)
            out = DraftOut(**draft_json(draft))
    except (AgentRuntimeError, LookupError, ValueError) as exc:
        raise _refusal(rt, client, draft_id, exc) from exc
    rt.call(announce_decision, client, draft_id, out.status)
    metrics.REVIEWS.labels(action).inc()
    log.info("review." + action, client_id=client, draft_id=out.draftId, reviewer=reviewer,
             config_version=out.configVersion)
    return out


def _reviewer(given: str | None, who: Caller) -> str:
    return given or who.name or f"key:{who.key_id}"


@router.post("/{draftId}/approve", response_model=DraftOut, responses=_ACTION)
def approve(
    draftId: str = DraftId, *, body: ApproveIn | None = None,  # noqa: N803
    client: str = Depends(client_id),
    who: Caller = Depends(caller), rt: Runtime = Depends(runtime),
) -> DraftOut:
    """Approve as written: the reply becomes a memory example for this lead."""
    review = _review_module()
    reviewer = _reviewer(body.reviewer if body else None, who)
    return _act(rt, client, draftId, "approve", reviewer,
                lambda s: review.approve(s, client, draftId, reviewer=reviewer,
                                         announce=rt.settings.outbound_decisions_stream))


@router.post("/{draftId}/edit", response_model=DraftOut, responses=_ACTION)
def edit(
    draftId: str = DraftId, *, body: EditIn, client: str = Depends(client_id),  # noqa: N803
    who: Caller = Depends(caller), rt: Runtime = Depends(runtime),
) -> DraftOut:
    """Approve with changes: both texts and the edit distance are kept; the edited text
    becomes the memory example."""
    review = _review_module()
    reviewer = _reviewer(body.reviewer, who)
    return _act(rt, client, draftId, "edit", reviewer,
                lambda s: review.edit(s, client, draftId, body.text, reviewer=reviewer,
                                      announce=rt.settings.outbound_decisions_stream))


@router.post("/{draftId}/reject", response_model=DraftOut, responses=_ACTION)
def reject(
    draftId: str = DraftId, *, body: RejectIn, client: str = Depends(client_id),  # noqa: N803
    who: Caller = Depends(caller), rt: Runtime = Depends(runtime),
) -> DraftOut:
    """Reject with a reason; counted against the config version that wrote the draft."""
    review = _review_module()
    reviewer = _reviewer(body.reviewer, who)
    return _act(rt, client, draftId, "reject", reviewer,
                lambda s: review.reject(s, client, draftId, body.reason, reviewer=reviewer))
