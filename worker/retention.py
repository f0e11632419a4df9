"""Privacy: each client's retention (`retentionDays` in its config), applied by beat's
`privacy.retention` task. One transaction per client, bound to it (row-level security): the
clients are listed from `clients`, which needs no bypass."""

from __future__ import annotations

from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from schema.agent_config import AgentConfigFields
from worker.logs import log
from worker.store import retention, tenants


def apply_retention(*, sessions: sessionmaker[Session]) -> dict[str, dict[str, int]]:
    """Purge every client that sets `retentionDays`; returns the counts per client."""
    with sessions() as session:
        clients = tenants.list_clients(session)
    purged: dict[str, dict[str, int]] = {}
    for client_id in clients:
        with sessions.begin() as session:
            days = _retention_days(session, client_id)
            if days is None:
                continue
            counts = retention.purge_older_than(session, client_id, days)
        purged[client_id] = counts
        if any(counts.values()):
            log.info("privacy.retention", client_id=client_id, days=days, **counts)
    return purged


def _retention_days(session: Session, client_id: str) -> int | None:
    row = tenants.active_config(session, client_id)
    if row is None:
        return None
    try:
        return AgentConfigFields.model_validate(row.fields).retention_days
    except ValidationError:
        return None
