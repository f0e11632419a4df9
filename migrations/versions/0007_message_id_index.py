"""find an e-mail's parent by Message-ID (threading replies that carry no References)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_inbound_messages_client_message_id", "inbound_messages", ["client_id", "message_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_inbound_messages_client_message_id", table_name="inbound_messages")
