"""Aggregates for operators: per-client volume, review outcomes and cost."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from worker.statuses import DraftStatus
from worker.store.models import Draft, InboundMessage, LlmCall
from worker.store import tenancy

APPROVED = (DraftStatus.APPROVED, DraftStatus.EDITED)


@dataclass(frozen=True)
class ClientStats:
    client_id: str
    messages: int
    drafts: dict[str, int]  # by status
    model_calls: int
    failed_calls: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float

    @property
    def approval_rate(self) -> float | None:
        """Approved (as is or edited) among reviewed drafts; None before any review."""
        approved = sum(self.drafts.get(s, 0) for s in APPROVED)
        reviewed = approved + self.drafts.get("rejected", 0)
        return approved / reviewed if reviewed else None


def drafts_by_config(session: Session, client_id: str) -> dict[str | None, dict[str, int]]:
    """How the drafts of each config version fared: config id → status → count."""
    tenancy.bind(session, client_id)
    rows = session.execute(
        select(Draft.config_id, Draft.status, func.count())
        .where(Draft.client_id == client_id)
        .group_by(Draft.config_id, Draft.status)
    )
    out: dict[str | None, dict[str, int]] = {}
    for config_id, status, count in rows:
        out.setdefault(config_id, {})[status] = count
    return out


def client_stats(session: Session, client_id: str, since: datetime) -> ClientStats:
    tenancy.bind(session, client_id)
    messages = session.scalar(
        select(func.count()).select_from(InboundMessage).where(
            InboundMessage.client_id == client_id, InboundMessage.created_at >= since
        )
    )
    drafts = dict(
        session.execute(
            select(Draft.status, func.count())
            .where(Draft.client_id == client_id, Draft.created_at >= since)
            .group_by(Draft.status)
        ).all()
    )
    calls = session.execute(
        select(
            func.count(),
            func.count(LlmCall.error),
            func.coalesce(func.sum(LlmCall.prompt_tokens), 0),
            func.coalesce(func.sum(LlmCall.completion_tokens), 0),
            func.coalesce(func.sum(LlmCall.cost_usd), 0.0),
        ).where(LlmCall.client_id == client_id, LlmCall.created_at >= since)
    ).one()
    return ClientStats(
        client_id=client_id,
        messages=messages or 0,
        drafts=drafts,
        model_calls=calls[0],
        failed_calls=calls[1],
        prompt_tokens=int(calls[2]),
        completion_tokens=int(calls[3]),
        cost_usd=float(calls[4]),
    )
