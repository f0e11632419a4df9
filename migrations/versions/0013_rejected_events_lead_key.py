"""kept-aside events tied to the lead key, so a lead's erasure and retention reach them

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("rejected_events", sa.Column("lead_key", sa.String(length=200), nullable=True))
    op.create_index("ix_rejected_events_client_lead", "rejected_events",
                    ["claimed_client_id", "lead_key"])
    op.create_index("ix_rejected_events_client_created", "rejected_events",
                    ["claimed_client_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_rejected_events_client_created", table_name="rejected_events")
    op.drop_index("ix_rejected_events_client_lead", table_name="rejected_events")
    op.drop_column("rejected_events", "lead_key")
