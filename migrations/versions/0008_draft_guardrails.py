"""guardrail flags, confidence and needs_human on drafts; inbound flags on messages

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.add_column("drafts", sa.Column("flags", _JSON, nullable=False, server_default=sa.text("'[]'")))
    op.add_column("drafts", sa.Column("confidence", sa.Float(), nullable=True))
    op.add_column(
        "drafts", sa.Column("needs_human", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column("drafts", sa.Column("needs_human_reason", sa.Text(), nullable=True))
    # The review list: a client's drafts of a status, needs_human first, newest first.
    op.create_index(
        "ix_drafts_client_review_order", "drafts",
        ["client_id", "status", "needs_human", "created_at"],
    )
    op.add_column(
        "inbound_messages",
        sa.Column("inbound_flags", _JSON, nullable=False, server_default=sa.text("'[]'")),
    )


def downgrade() -> None:
    op.drop_column("inbound_messages", "inbound_flags")
    op.drop_index("ix_drafts_client_review_order", table_name="drafts")
    for column in ("needs_human_reason", "needs_human", "confidence", "flags"):
        op.drop_column("drafts", column)
