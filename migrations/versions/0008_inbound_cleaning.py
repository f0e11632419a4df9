"""inbound messages keep the raw message as it came and what cleaning removed from it

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


def upgrade() -> None:
    # raw: the rawMime (or message) exactly as the producer sent it, UTF-8; never shown to the
    # model. flags: [{code, detail}] of what inbound cleaning removed, for the reviewer.
    op.add_column("inbound_messages", sa.Column("raw", sa.LargeBinary(), nullable=True))
    op.add_column(
        "inbound_messages",
        sa.Column(
            "flags",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
            server_default=sa.text("'[]'"),
        ),
    )


def downgrade() -> None:
    op.drop_column("inbound_messages", "flags")
    op.drop_column("inbound_messages", "raw")
