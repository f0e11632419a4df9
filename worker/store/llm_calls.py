"""The audit of model calls: one row per attempt, beside the draft (or failure) it led to."""

from __future__ import annotations

from sqlalchemy.orm import Session

from worker.ports import CallAudit
from worker.store import sql, tenancy
from worker.store.models import new_id, utcnow


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
    sql.run(session, _INSERT, {
        "client_id": client_id, "message_id": message_id, "config_id": config_id,
        "now": utcnow(),
        "ids": [new_id() for _ in calls],
        "models": [c.model for c in calls],
        "attempts": [c.attempt for c in calls],
        "latencies": [c.latency_ms for c in calls],
        "prompt_tokens": [c.prompt_tokens for c in calls],
        "completion_tokens": [c.completion_tokens for c in calls],
        "costs": [c.cost_usd for c in calls],
        "errors": [c.error and c.error[:2000] for c in calls],
    })


# Hand-written, one statement text however many calls a draft made (worker/store/sql.py).
_INSERT = (
    "INSERT INTO llm_calls (id, client_id, inbound_message_id, config_id, model, attempt, "
    "latency_ms, prompt_tokens, completion_tokens, cost_usd, error, created_at) "
    "SELECT c.id, %(client_id)s::varchar, %(message_id)s::varchar, %(config_id)s::varchar, "
    "c.model, c.attempt, c.latency_ms, c.prompt_tokens, c.completion_tokens, c.cost_usd, "
    "c.error, %(now)s "
    "FROM unnest(%(ids)s::varchar[], %(models)s::varchar[], %(attempts)s::int[], "
    "%(latencies)s::int[], %(prompt_tokens)s::int[], %(completion_tokens)s::int[], "
    "%(costs)s::float8[], %(errors)s::text[]) "
    "AS c(id, model, attempt, latency_ms, prompt_tokens, completion_tokens, cost_usd, error)"
)
