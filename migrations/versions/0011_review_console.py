"""review console: reviewer logins and sessions, who decided each draft, one outbox row per
draft and stream (the draft on the review stream, the decision on the decisions stream)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A reviewer signs in to the console of one client; only a scrypt hash of the secret is kept.
    op.create_table(
        "reviewers",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("client_id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("secret_hash", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("client_id", "name", name="uq_reviewers_client_name"),
    )
    # Sessions: the cookie holds a random token, the table its SHA-256 (a leaked table signs
    # nobody in); the CSRF token every state-changing request must echo; deleted on logout.
    op.create_table(
        "reviewer_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("reviewer_id", sa.String(length=26), nullable=False),
        sa.Column("client_id", sa.String(length=200), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["reviewer_id"], ["reviewers.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("ix_reviewer_sessions_reviewer", "reviewer_sessions", ["reviewer_id"])
    with op.batch_alter_table("drafts") as batch:
        batch.add_column(sa.Column("reviewed_by", sa.String(length=200), nullable=True))
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint("uq_outbox_draft", type_="unique")
        batch.create_unique_constraint("uq_outbox_draft_stream", ["draft_id", "stream"])


def downgrade() -> None:
    op.execute("DELETE FROM outbox WHERE id NOT IN (SELECT min(id) FROM outbox GROUP BY draft_id)")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint("uq_outbox_draft_stream", type_="unique")
        batch.create_unique_constraint("uq_outbox_draft", ["draft_id"])
    with op.batch_alter_table("drafts") as batch:
        batch.drop_column("reviewed_by")
    op.drop_index("ix_reviewer_sessions_reviewer", table_name="reviewer_sessions")
    op.drop_table("reviewer_sessions")
    op.drop_table("reviewers")
