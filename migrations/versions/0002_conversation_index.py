"""indexes for "has the lead written again in this conversation?" and its pending drafts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_inbound_messages_client_conversation",
        "inbound_messages",
        ["client_id", "conversation_id", "id"],
    )
    op.create_index(
        "ix_drafts_client_conversation", "drafts", ["client_id", "conversation_id", "status"]
    )


def downgrade() -> None:
    op.drop_index("ix_drafts_client_conversation", table_name="drafts")
    op.drop_index("ix_inbound_messages_client_conversation", table_name="inbound_messages")
