"""Reviewer logins of the console and their sessions; every query is scoped by client."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from worker.store.models import Reviewer, ReviewerSession, new_id, utcnow
from worker.store import tenancy


@dataclass(frozen=True)
class SignedIn:
    """Who a console request comes from: a reviewer of exactly one client."""

    reviewer_id: str
    client_id: str
    name: str
    csrf_token: str
    admin: bool = False  # may change the agent config and the knowledge base


def add(session: Session, client_id: str, name: str, secret_hash: str,
        admin: bool = False) -> Reviewer | None:
    """None when the client already has a reviewer of that name."""
    tenancy.bind(session, client_id)
    if find(session, client_id, name) is not None:
        return None
    row = Reviewer(id=new_id(), client_id=client_id, name=name, secret_hash=secret_hash,
                   is_admin=admin, created_at=utcnow())
    session.add(row)
    session.flush()
    return row


def find(session: Session, client_id: str, name: str) -> Reviewer | None:
    tenancy.bind(session, client_id)
    return session.scalar(
        select(Reviewer).where(Reviewer.client_id == client_id, Reviewer.name == name)
    )


def list_for(session: Session, client_id: str) -> list[Reviewer]:
    tenancy.bind(session, client_id)
    return list(session.scalars(
        select(Reviewer).where(Reviewer.client_id == client_id).order_by(Reviewer.name)
    ))


def remove(session: Session, client_id: str, name: str) -> bool:
    """Removes the login and (by cascade) every session it has open."""
    tenancy.bind(session, client_id)
    gone = session.execute(
        delete(Reviewer).where(Reviewer.client_id == client_id, Reviewer.name == name)
    )
    return gone.rowcount > 0


def open_session(
    session: Session, reviewer: Reviewer, token_hash: str, csrf_token: str, expires_at: datetime
) -> None:
    session.add(ReviewerSession(
        token_hash=token_hash, reviewer_id=reviewer.id, client_id=reviewer.client_id,
        csrf_token=csrf_token, created_at=utcnow(), expires_at=expires_at,
    ))


def signed_in(session: Session, token_hash: str) -> SignedIn | None:
    """The reviewer of an unexpired session (the client is the reviewer's own)."""
    row = session.execute(
        select(ReviewerSession, Reviewer)
        .join(Reviewer, Reviewer.id == ReviewerSession.reviewer_id)
        .where(ReviewerSession.token_hash == token_hash,
               ReviewerSession.expires_at > utcnow(),
               Reviewer.client_id == ReviewerSession.client_id)
    ).first()
    if row is None:
        return None
    sess, reviewer = row
    return SignedIn(reviewer.id, reviewer.client_id, reviewer.name, sess.csrf_token,
                    reviewer.is_admin)


def close_session(session: Session, token_hash: str) -> None:
    session.execute(delete(ReviewerSession).where(ReviewerSession.token_hash == token_hash))
    session.execute(delete(ReviewerSession).where(ReviewerSession.expires_at <= utcnow()))
