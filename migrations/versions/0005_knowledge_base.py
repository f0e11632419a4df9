"""knowledge base documents, folders and audiences

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_NOT_DELETING = sa.text("status <> 'deleting'")


def upgrade() -> None:
    op.create_table(
        "kb_folders",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("client_id", sa.String(length=200), nullable=False),
        sa.Column("path", sa.String(length=1000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("client_id", "path", name="uq_kb_folders_client_path"),
    )
    op.create_table(
        "kb_documents",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("client_id", sa.String(length=200), nullable=False),
        sa.Column("folder", sa.String(length=1000), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("content_version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("chunk_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "uq_kb_documents_client_folder_name",
        "kb_documents",
        ["client_id", "folder", "filename"],
        unique=True,
        postgresql_where=_NOT_DELETING,
    )
    op.create_index("ix_kb_documents_status_lease", "kb_documents", ["status", "lease_until"])
    for table, columns in (
        ("kb_document_segments", ("group_id", "item_id")),
        ("kb_document_users", ("user_id",)),
    ):
        op.create_table(
            table,
            sa.Column("document_id", sa.String(length=26), nullable=False),
            *(sa.Column(c, sa.String(length=200), nullable=False) for c in columns),
            sa.Column("client_id", sa.String(length=200), nullable=False),
            sa.ForeignKeyConstraint(["client_id"], ["clients.id"], ondelete="CASCADE"),
            sa.ForeignKeyConstraint(["document_id"], ["kb_documents.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("document_id", *columns),
        )
        op.create_index(f"ix_{table}_client", table, ["client_id", *columns])
    op.create_table(
        "kb_chunks",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("client_id", sa.String(length=200), nullable=False),
        sa.Column("document_id", sa.String(length=26), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("heading", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["document_id"], ["kb_documents.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_kb_chunks_document", "kb_chunks", ["document_id", "position"])
    # Full-text search: the section heading weighs more than the body. 'english' stems
    # both sides alike; the query side also drops stop words of five languages
    # (worker/knowledge/query_terms.py), so German or French documents are found too.
    op.execute(
        "ALTER TABLE kb_chunks ADD COLUMN tsv tsvector GENERATED ALWAYS AS ("
        "setweight(to_tsvector('english'::regconfig, heading), 'A') || "
        "setweight(to_tsvector('english'::regconfig, text), 'D')) STORED"
    )
    op.execute("CREATE INDEX ix_kb_chunks_tsv ON kb_chunks USING gin (tsv)")


def downgrade() -> None:
    op.drop_table("kb_chunks")
    op.drop_table("kb_document_users")
    op.drop_table("kb_document_segments")
    op.drop_table("kb_documents")
    op.drop_table("kb_folders")
