"""The audit of model calls: one row per attempt, beside the draft (or failure) it led to."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from worker.ports import CallAudit
from worker.store.models import LlmCall, new_id, utcnow
from worker.store import tenancy



def write_calls(
    session: Session,
    client_id: str,
    message_id: str | None,
    config_id: str | None,
    calls: list[CallAudit],
) -> None:
    tenancy.bind(session, client_id)
    if not calls:
        return
    session.execute(
        insert(LlmCall.__table__).values(  # Core: see drafts.insert_draft

            [
                {
                    "id": new_id(),
                    "client_id": client_id,
                    "inbound_message_id": message_id,
                    "config_id": config_id,
                    "model": c.model,
                    "attempt": c.attempt,
                    "latency_ms": c.latency_ms,
                    "prompt_tokens": c.prompt_tokens,
                    "completion_tokens": c.completion_tokens,
                    "cost_usd": c.cost_usd,
                    "error": c.error and c.error[:2000],
                    "created_at": utcnow(),
                }
                for c in calls
            ]
        )
    )
