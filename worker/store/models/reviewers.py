"""Reviewer logins of the review console and their sessions (migrations 0011, 0015)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from worker.store.models.base import Base, new_id, utcnow


class Reviewer(Base):
    """A person who signs in to the review console of one client. Only a scrypt hash of the
    secret is stored (worker.console.credentials)."""

    __tablename__ = "reviewers"
    __table_args__ = (UniqueConstraint("client_id", "name", name="uq_reviewers_client_name"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str] = mapped_column(String(300))
    # Admins may also change the client's agent config and knowledge base in the console.
    is_admin: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReviewerSession(Base):
    """A signed-in console session: the SHA-256 of the cookie's token, and the CSRF token
    every state-changing request must echo. Deleted on logout."""

    __tablename__ = "reviewer_sessions"
    __table_args__ = (Index("ix_reviewer_sessions_reviewer", "reviewer_id"),)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    reviewer_id: Mapped[str] = mapped_column(
        ForeignKey("reviewers.id", ondelete="CASCADE")
    )
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
