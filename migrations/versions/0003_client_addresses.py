"""inbound e-mail addresses that route mail to a client

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "client_addresses",
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("client_id", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("address"),
    )
    op.create_index("ix_client_addresses_client_id", "client_addresses", ["client_id"])


def downgrade() -> None:
    op.drop_index("ix_client_addresses_client_id", table_name="client_addresses")
    op.drop_table("client_addresses")
