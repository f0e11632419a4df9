"""Row-level security between tenants (migration 0012, worker/store/tenancy.py), on real
Postgres. The negative tests connect as a login that is not a superuser (superusers pass RLS
whatever the policies say): without the setting a query sees nothing, with client A's it never
sees B's rows. Then the real paths run on such a login, as production should."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import text

from tests.conftest import _admin
from tests.integration.conftest import outbound, set_config
from tests.integration.test_drafting import _draft
from worker.pipeline.publish import relay_outbox
from worker.pipeline.reprocess import reprocess_due
from worker.store import erase, tenancy

LOGIN = "agent_runtime_test_login"  # a cluster-wide role, as an operator would create it
TENANT_TABLES = (
    "agent_configs", "leads", "conversations", "inbound_messages", "drafts", "llm_calls",
    "outbox", "memory_items", "kb_folders", "kb_documents", "kb_document_segments",
    "kb_document_users", "kb_chunks",
)


@pytest.fixture
def login_url(database_url: str) -> str:
    """DATABASE_URL naming a non-superuser login, member of agent_runtime_app."""
    with _admin() as conn:
        conn.execute(f"""
            DO $$ BEGIN
                CREATE ROLE {LOGIN} LOGIN NOSUPERUSER NOBYPASSRLS IN ROLE agent_runtime_app;
            EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
            END $$""")
    user, rest = database_url.split("://", 1)[1].split("@", 1)
    return database_url.replace(f"://{user}@", f"://{LOGIN}@", 1)


def _plain(url: str) -> str:
    return url.replace("+psycopg", "")


@pytest.fixture
def two_tenants(rt):  # noqa: ANN001
    """Two clients, each with a config, a lead, a drafted message, memory, an outbox row and
    model-call audit, written through the real pipeline (as the superuser)."""
    for client in ("alpha", "beta"):
        set_config(rt, client, name=client.title())
        outcome, _ = _draft(rt, client, {"eventId": "same-event", "leadId": "same-lead",
                                         "conversationId": "same-conv",
                                         "message": f"Hello from a lead of {client}"})
        assert outcome.status == "drafted"
    return rt


def _counts(conn: psycopg.Connection) -> dict[str, int]:
    return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TENANT_TABLES}


def test_a_login_without_the_setting_sees_nothing(two_tenants, login_url):
    with psycopg.connect(_plain(login_url)) as conn:
        assert set(_counts(conn).values()) == {0}
        assert conn.execute("SELECT count(*) FROM clients").fetchone()[0] == 2  # not a tenant table


def test_with_a_clients_setting_only_its_rows_are_seen_and_written(two_tenants, login_url):
    with psycopg.connect(_plain(login_url)) as conn:
        conn.execute("SELECT set_config('app.client_id', 'alpha', true)")
        seen = conn.execute(
            "SELECT DISTINCT client_id FROM inbound_messages UNION SELECT DISTINCT client_id "
            "FROM drafts UNION SELECT DISTINCT client_id FROM memory_items UNION SELECT "
            "DISTINCT client_id FROM llm_calls UNION SELECT DISTINCT client_id FROM outbox"
        ).fetchall()
        assert seen == [("alpha",)]
        # Even a query that names the other tenant outright gets nothing of it …
        assert conn.execute("SELECT count(*) FROM drafts WHERE client_id = 'beta'").fetchone() == (0,)
        # … cannot change it …
        assert conn.execute("UPDATE drafts SET reply = 'x' WHERE client_id = 'beta'").rowcount == 0
        assert conn.execute("DELETE FROM memory_items WHERE client_id = 'beta'").rowcount == 0
        # … and cannot write a row in its name.
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO kb_folders (id, client_id, path, created_at) "
                         "VALUES ('x', 'beta', 'stolen', now())")
    with psycopg.connect(_plain(login_url)) as conn:
        conn.execute("SELECT set_config('app.client_id', 'beta', true)")
        assert conn.execute("SELECT count(*) FROM memory_items WHERE client_id = 'beta'"
                            ).fetchone()[0] > 0


def test_the_setting_ends_with_its_transaction(two_tenants, login_url):
    with psycopg.connect(_plain(login_url), autocommit=True) as conn:
        with conn.transaction():
            conn.execute("SELECT set_config('app.client_id', 'alpha', true)")
            assert conn.execute("SELECT count(*) FROM drafts").fetchone()[0] == 1
        assert conn.execute("SELECT count(*) FROM drafts").fetchone()[0] == 0


def test_even_a_superuser_connection_is_held_to_the_bound_tenant(two_tenants):
    """The store switches each bound transaction to agent_runtime_app, so the superuser of the
    test fixtures (or a table owner) gets no pass either."""
    with two_tenants.sessions() as session:
        tenancy.bind(session, "alpha")
        assert session.scalar(text("SELECT count(DISTINCT client_id) FROM memory_items")) == 1
        assert session.scalar(text("SELECT count(*) FROM drafts WHERE client_id = 'beta'")) == 0
        tenancy.bind(session, "beta")  # rebinding within a transaction switches tenant
        assert session.scalar(text("SELECT min(client_id) FROM drafts")) == "beta"
        tenancy.all_clients(session)  # the narrow bypass: the scheduler's sweeps
        assert session.scalar(text("SELECT count(DISTINCT client_id) FROM drafts")) == 2


def test_the_pipeline_runs_on_a_non_superuser_login(make_runtime, login_url):
    """What production runs: DATABASE_URL names a plain login. Ingress, drafting with recall,
    publishing, the scheduler's sweeps and an erasure all work, each tenant on its own."""
    for role in ("", "agent_runtime_app"):  # as connected, and switched to the app role
        rt = make_runtime(database_url=login_url, db_app_role=role)
        client = f"tenant{len(role)}"
        set_config(rt, client, name="Ava")
        _draft(rt, client, {"eventId": "e1", "leadId": "L1", "message": "Is the van for sale?"})
        outcome, _ = _draft(rt, client, {"eventId": "e2", "leadId": "L1",
                                         "message": "And the van's price?"})
        assert outcome.status == "drafted"
        drafted = [d for d in outbound(rt) if d["clientId"] == client]
        assert len(drafted) == 2 and drafted[1]["memoryRefs"]  # recalled the lead's first message
        assert rt.call(reprocess_due) == 0 and rt.call(relay_outbox) == 0
        with rt.sessions.begin() as session:
            counts = erase.erase_lead(session, client, "id:L1")
        assert counts["inboundMessages"] == 2 and counts["drafts"] == 2
