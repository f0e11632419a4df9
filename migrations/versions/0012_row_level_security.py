"""row-level security on the tenant tables, keyed by the per-transaction app.client_id

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05

Every tenant table shows a transaction only the rows of the client its `app.client_id`
setting names, or every row when `app.all_clients` is 'on' (the narrow bypass of the
scheduler's sweeps, ingress batches, retention and operator listings; see
worker/store/tenancy.py). FORCE makes the table owner subject too; superusers and roles with
BYPASSRLS never are, so the application runs as `agent_runtime_app` (created here, NOLOGIN,
no BYPASSRLS): the store switches each transaction to it, and a production DATABASE_URL names a
login that is a member of it and not a superuser.

Not under RLS, on purpose: `clients` (the tenants themselves), `client_addresses` and
`api_keys` (looked up before any tenant is known, to find it: routing and authentication) and
`rejected_events` (entries whose client is unverified; operator-only).
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

ROLE = "agent_runtime_app"
TENANT_TABLES = (
    "agent_configs", "leads", "conversations", "inbound_messages", "drafts", "llm_calls",
    "outbox", "memory_items", "kb_folders", "kb_documents", "kb_document_segments",
    "kb_document_users", "kb_chunks",
)
_VISIBLE = ("client_id = current_setting('app.client_id', true) "
            "OR current_setting('app.all_clients', true) = 'on'")


def upgrade() -> None:
    # Roles belong to the cluster: another database may have created it (or be doing so now).
    op.execute(f"""
        DO $$ BEGIN
            CREATE ROLE {ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END $$""")
    op.execute(f"GRANT USAGE ON SCHEMA public TO {ROLE}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {ROLE}")
    # Tables of later migrations, created by the same migrating role, are granted as well.
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public "
               f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {ROLE}")
    # The API needs the session's current role to be able to become it (membership).
    op.execute(f"""
        DO $$ BEGIN
            EXECUTE format('GRANT {ROLE} TO %I', current_user);
        EXCEPTION WHEN others THEN NULL;
        END $$""")
    for table in TENANT_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY tenant_isolation ON {table} "
                   f"USING ({_VISIBLE}) WITH CHECK ({_VISIBLE})")
    # Under RLS a full-text match (`@@`, not leakproof) can no longer use a GIN index, so the
    # client's rows are found by client_id first: kb_chunks had no index that starts with it.
    op.create_index("ix_kb_chunks_client_document", "kb_chunks", ["client_id", "document_id"])


def downgrade() -> None:
    op.drop_index("ix_kb_chunks_client_document", table_name="kb_chunks")
    for table in TENANT_TABLES:
        op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    op.execute(f"REVOKE SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public FROM {ROLE}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public "
               f"REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM {ROLE}")
