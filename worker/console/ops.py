"""The operations page: health checks, stream lag and queue depths, the client's kept-aside
events with their reasons, drafts per hour, approval rate, tokens and cost per day (simple bar
charts drawn server-side as inline SVG: no script, no chart library)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from worker.bootstrap import Runtime
from worker.console.pages import render
from worker.console.session import signed_in
from worker.health import check_health
from worker.store import ops_stats, rejections
from worker.store.reviewers import SignedIn

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    height: float
    label: str
    value: str


def bars(points: list[tuple[str, float, str]], width: float = 480,
         height: float = 120) -> list[Bar]:
    """(label, value, value as text) → bars scaled to the tallest, inside width × height."""
    top = max((v for _, v, _ in points), default=0) or 1
    step = width / max(len(points), 1)
    return [Bar(x=i * step + 1, y=height - v / top * height, height=v / top * height,
                label=label, value=text) for i, (label, v, text) in enumerate(points)]


def _gather(rt: Runtime, who: SignedIn) -> dict:
    report = rt.call(check_health, who.client_id)
    with rt.sessions() as session:
        hourly = ops_stats.drafts_per_hour(session, who.client_id)
        daily = ops_stats.usage_per_day(session, who.client_id)
        outcomes = ops_stats.outcomes(session, who.client_id)
        kept = [rejections.as_json(r) for r in
                rejections.list_rejected(session, who.client_id, 50)]
    approved = outcomes.get("approved", 0) + outcomes.get("edited", 0)
    reviewed = approved + outcomes.get("rejected", 0)
    return {
        "report": report.as_json(), "healthy": report.healthy, "kept": kept,
        "outcomes": outcomes, "approval_rate": approved / reviewed if reviewed else None,
        "hourly": bars([(h.strftime("%H:00"), n, str(n)) for h, n in hourly]),
        "hourly_total": sum(n for _, n in hourly),
        "tokens": bars([(d.strftime("%d %b"), t, f"{t:,}") for d, t, _ in daily]),
        "cost": bars([(d.strftime("%d %b"), c, f"${c:.4f}") for d, _, c in daily]),
        "daily": daily,
    }


@router.get("/operations")
async def operations(request: Request, who: SignedIn = Depends(signed_in)) -> HTMLResponse:
    data = await run_in_threadpool(_gather, request.app.state.rt, who)
    return render(request, "operations.html", who=who, section="ops", **data)
