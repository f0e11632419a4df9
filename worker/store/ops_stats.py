"""Figures of the console's operations page, for one client: drafts per hour, review outcomes,
tokens and cost per day."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from worker.store.models import Draft, LlmCall, utcnow
from worker.store import tenancy


def drafts_per_hour(
    session: Session, client_id: str, hours: int = 24
) -> list[tuple[datetime, int]]:
    tenancy.bind(session, client_id)
    since = (utcnow() - timedelta(hours=hours - 1)).replace(minute=0, second=0, microsecond=0)
    bucket = func.date_trunc("hour", Draft.created_at)
    rows = dict(session.execute(
        select(bucket, func.count()).where(Draft.client_id == client_id,
                                           Draft.created_at >= since).group_by(bucket)
    ).all())
    return [(h, _count(rows, h)) for h in (since + timedelta(hours=i) for i in range(hours))]


def usage_per_day(
    session: Session, client_id: str, days: int = 7
) -> list[tuple[datetime, int, float]]:
    """(day, tokens, cost in USD) of every model call, failed ones included."""
    tenancy.bind(session, client_id)
    since = (utcnow() - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0,
                                                          microsecond=0)
    bucket = func.date_trunc("day", LlmCall.created_at)
    rows = {d: (t, c) for d, t, c in session.execute(
        select(bucket, func.sum(LlmCall.prompt_tokens + LlmCall.completion_tokens),
               func.sum(LlmCall.cost_usd))
        .where(LlmCall.client_id == client_id, LlmCall.created_at >= since).group_by(bucket)
    ).all()}
    out = []
    for day in (since + timedelta(days=i) for i in range(days)):
        tokens, cost = _lookup(rows, day) or (0, 0.0)
        out.append((day, int(tokens or 0), float(cost or 0.0)))
    return out


def outcomes(session: Session, client_id: str, days: int = 7) -> dict[str, int]:
    tenancy.bind(session, client_id)
    since = utcnow() - timedelta(days=days)
    return {str(s): n for s, n in session.execute(
        select(Draft.status, func.count()).where(Draft.client_id == client_id,
                                                 Draft.created_at >= since)
        .group_by(Draft.status)
    ).all()}


def _count(rows: dict, at: datetime) -> int:
    return int(_lookup(rows, at) or 0)


def _lookup(rows: dict, at: datetime):  # noqa: ANN202
    for key, value in rows.items():  # date_trunc answers in the session's time zone
        if key is not None and abs((key - at).total_seconds()) < 1:
            return value
    return None
