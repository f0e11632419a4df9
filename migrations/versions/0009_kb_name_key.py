"""knowledge base: file names unique per folder case-folded (name_key)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05

`name_key` is the NFKC case-fold of the file name (worker/knowledge/paths.py: name_key), so
"Prices.md", "PRICES.md" and a fullwidth "Ｐｒｉｃｅｓ.md" are one file in a folder. Existing
rows get lower(filename); where two live documents of a folder already collide, the newer
keeps a key made unique by its id (both stay reachable by id and are listed as before).
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("kb_documents", sa.Column("name_key", sa.String(length=300), nullable=True))
    op.execute("""
        UPDATE kb_documents d SET name_key = CASE
            WHEN EXISTS (
                SELECT 1 FROM kb_documents o
                WHERE o.client_id = d.client_id AND o.folder = d.folder
                  AND lower(o.filename) = lower(d.filename) AND o.status <> 'deleting'
                  AND d.status <> 'deleting' AND (o.created_at, o.id) < (d.created_at, d.id))
            THEN lower(d.filename) || '#' || d.id
            ELSE lower(d.filename) END
    """)
    with op.batch_alter_table("kb_documents") as batch:
        batch.alter_column("name_key", existing_type=sa.String(length=300), nullable=False)
    op.drop_index("uq_kb_documents_client_folder_name", table_name="kb_documents")
    op.create_index(
        "uq_kb_documents_client_folder_name", "kb_documents",
        ["client_id", "folder", "name_key"], unique=True,
        postgresql_where=sa.text("status <> 'deleting'"),
        sqlite_where=sa.text("status <> 'deleting'"),
    )


def downgrade() -> None:
    op.drop_index("uq_kb_documents_client_folder_name", table_name="kb_documents")
    op.create_index(
        "uq_kb_documents_client_folder_name", "kb_documents",
        ["client_id", "folder", "filename"], unique=True,
        postgresql_where=sa.text("status <> 'deleting'"),
        sqlite_where=sa.text("status <> 'deleting'"),
    )
    op.drop_column("kb_documents", "name_key")
