"""`/api/agent/rejected`: the inbound events kept aside for the caller's client, with the reason
(the same as `agent-runtime rejected list|show`). An admin key without X-Client-Id sees the
events that named no valid client."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query

from worker.api.auth import optional_client_id, runtime
from worker.api.strict_json import StrictJSONRoute
from worker.bootstrap import Runtime
from worker.store import rejections

router = APIRouter(prefix="/api/agent/rejected", tags=["operations"],
                   route_class=StrictJSONRoute)


@router.get("")
def list_rejected(
    limit: int = Query(50, ge=1, le=500),
    client: str | None = Depends(optional_client_id), rt: Runtime = Depends(runtime),
) -> list[dict[str, Any]]:
    """Newest first, without payloads."""
    with rt.sessions() as session:
        return [rejections.as_json(r) for r in rejections.list_rejected(session, client, limit)]


@router.get("/{rejectedId}", responses={404: {"description": "no such event for the caller"}})
def show_rejected(
    rejectedId: str = Path(pattern=r"^[0-9A-Za-z]{1,64}$"),  # noqa: N803
    client: str | None = Depends(optional_client_id), rt: Runtime = Depends(runtime),
) -> dict[str, Any]:
    """One kept-aside event with its raw payload as text."""
    with rt.sessions() as session:
        row = rejections.get_rejected(session, client, rejectedId)
        if row is None:
            raise HTTPException(404, f"no kept-aside event {rejectedId!r}")
        return rejections.as_json(row, with_payload=True)
