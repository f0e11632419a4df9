"""lead_key columns hold "id:" + a 200-character leadId (the contract's bound)

A valid chat event with a leadId of 198-200 characters made a key of 201-203 characters, which
varchar(200) refused, so the event was kept aside. Widening a varchar is a catalog change in
Postgres: no table rewrite.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_TABLES = ("leads", "memory_items", "rejected_events")
_WIDTH = 203  # worker.leads.MAX_LEAD_KEY, written out: a migration keeps its own numbers


def upgrade() -> None:
    for table in _TABLES:
        op.alter_column(table, "lead_key", type_=sa.String(length=_WIDTH),
                        existing_type=sa.String(length=200))


def downgrade() -> None:
    for table in _TABLES:
        op.alter_column(table, "lead_key", type_=sa.String(length=200),
                        existing_type=sa.String(length=_WIDTH))
