"""Drafts, their outbox rows and the audit of the model calls that wrote them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from worker.store.models import Draft, InboundMessage, LlmCall, Outbox, new_id, utcnow


@dataclass(frozen=True)
class CallAudit:
    """One model call attempt, written beside the draft (or the failure) it led to."""

    model: str
    attempt: int
    latency_ms: int
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    error: str | None = None


@dataclass
class DraftRecord:
    draft: dict[str, Any]  # Draft columns
    outbox_payload: dict[str, Any]
    calls: list[CallAudit] = field(default_factory=list)


def write_calls(
    session: Session,
    client_id: str,
    message_id: str | None,
    config_id: str | None,
    calls: list[CallAudit],
) -> None:
    if not calls:
        return
    session.execute(
        insert(LlmCall).values(
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


def save_draft(
    session: Session, client_id: str, message_id: str, record: DraftRecord, stream: str
) -> bool:
    """Draft, outbox row, call audit and message status in the caller's transaction.
    A draft whose status is not pending_review (a stale chat draft) gets no outbox row.

    Returns False (and writes nothing but the audit) when the message already has a draft.
    """
    draft_cols = record.draft
    write_calls(session, client_id, message_id, draft_cols.get("config_id"), record.calls)
    inserted = session.scalar(
        insert(Draft)
        .values(client_id=client_id, inbound_message_id=message_id, **draft_cols)
        .on_conflict_do_nothing(index_elements=["inbound_message_id"])
        .returning(Draft.id)
    )
    if inserted is None:
        return False
    if draft_cols["status"] == "pending_review":
        session.execute(
            insert(Outbox).values(
                id=new_id(),
                client_id=client_id,
                draft_id=draft_cols["id"],
                stream=stream,
                payload=record.outbox_payload,
                created_at=utcnow(),
            )
        )
    session.execute(
        update(InboundMessage)
        .where(InboundMessage.client_id == client_id, InboundMessage.id == message_id)
        .values(
            status="drafted",
            lease_until=None,
            failure_kind=None,
            last_error=None,
            next_attempt_at=None,
            updated_at=utcnow(),
        ),
        execution_options={"synchronize_session": False},
    )
    return True


def mark_published(session: Session, client_id: str, draft_ids: list[str]) -> None:
    session.execute(
        update(Outbox)
        .where(Outbox.client_id == client_id, Outbox.draft_id.in_(draft_ids))
        .values(published_at=utcnow()),
        execution_options={"synchronize_session": False},
    )


def claim_unpublished(session: Session, older_than_seconds: float, limit: int) -> list[Outbox]:
    """Outbox rows nobody published in time, locked so a second relay skips them.

    A relay query over all tenants: each row is published to the stream its own draft names.
    """
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    stmt = (
        select(Outbox)
        .where(Outbox.published_at.is_(None), Outbox.created_at <= cutoff)
        .order_by(Outbox.created_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(stmt))


def list_drafts(
    session: Session, client_id: str, status: str | None = None, limit: int = 50
) -> list[Draft]:
    """The client's drafts, optionally of one status: needs_human first, then newest first."""
    stmt = select(Draft).where(Draft.client_id == client_id)
    if status:
        stmt = stmt.where(Draft.status == status)
    # Drafts that need a person come first, then the newest.
    stmt = stmt.order_by(Draft.needs_human.desc(), Draft.created_at.desc())
    return list(session.scalars(stmt.limit(limit)))


def get_draft(session: Session, client_id: str, draft_id: str) -> Draft | None:
    return session.scalar(select(Draft).where(Draft.client_id == client_id, Draft.id == draft_id))


def outbox_payload(session: Session, client_id: str, draft_id: str) -> dict | None:
    return session.scalar(
        select(Outbox.payload).where(Outbox.client_id == client_id, Outbox.draft_id == draft_id)
    )

