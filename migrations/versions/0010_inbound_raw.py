"""inbound messages keep the raw message exactly as it came

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The rawMime (or message) as the producer sent it, UTF-8; the stored text is cleaned
    # (worker.ingress.text_clean) and this is never shown to the model.
    op.add_column("inbound_messages", sa.Column("raw", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    op.drop_column("inbound_messages", "raw")
