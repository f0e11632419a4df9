"""A reviewer's decision on a draft, recorded once: only a draft pending review changes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from worker.statuses import DraftStatus
from worker.store.models import Draft
from worker.store import tenancy


def decide(session: Session, client_id: str, draft_id: str, values: dict[str, Any]) -> Draft | None:
    """Set `values` on the draft if it is still pending review; None if it was not (or is not
    this client's). The status test in the UPDATE makes two reviewers' race end with one."""
    tenancy.bind(session, client_id)
    return session.scalar(
        update(Draft)
        .where(Draft.client_id == client_id, Draft.id == draft_id,
               Draft.status == DraftStatus.PENDING_REVIEW)
        .values(**values)
        .returning(Draft),
        # The caller may hold the row already; it gets the values just written.
        execution_options={"synchronize_session": False, "populate_existing": True},
    )


def rejections_per_config_version(session: Session, client_id: str) -> dict[int, int]:
    tenancy.bind(session, client_id)
    rows = session.execute(
        select(Draft.config_version, func.count())
        .where(Draft.client_id == client_id, Draft.status == DraftStatus.REJECTED)
        .group_by(Draft.config_version)
        .order_by(Draft.config_version)
    )
    return {version: count for version, count in rows}
