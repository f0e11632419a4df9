"""`agent-runtime clients add|list|delete` and `agent-runtime keys create|list|revoke`."""

from __future__ import annotations

import redis
import typer
from rich.console import Console
from rich.table import Table

from worker.adapters.invalidation import announce
from worker.cli.common import fail, print_json, session_scope, settings
from worker.store import api_keys, tenants

clients_app = typer.Typer(help="Clients (tenants).")
keys_app = typer.Typer(help="API keys: one or more per client, plus admin keys for operators. "
                       "Only a hash is stored; a key is shown once, when created.")


@clients_app.command("add")
def add_client(client_id: str) -> None:
    """Register CLIENT_ID (drafts use the default config until one is set)."""
    with session_scope() as session:
        existed = tenants.client_exists(session, client_id)
        tenants.register_client(session, client_id)
    typer.echo(f"client {client_id} {'already registered' if existed else 'registered'}")


@clients_app.command("delete")
def delete_client(
    client_id: str,
    yes: bool = typer.Option(False, "--yes", help="confirm: this cannot be undone"),
) -> None:
    """Delete CLIENT_ID and everything of it (keys, configs, messages, drafts, memory,
    knowledge base). Every API process stops accepting its keys at once."""
    if not yes:
        fail(f"this deletes client {client_id!r} and all of its data for good; "
             "repeat with --yes")
    with session_scope() as session:
        deleted = tenants.delete_client(session, client_id)
    if not deleted:
        fail(f"no client {client_id!r}")
    announce_change("keys")  # cached keys of the client stop working in every process now
    announce_change("config", client_id)
    typer.echo(f"deleted client {client_id} and all of its data")


@clients_app.command("list")
def list_clients() -> None:
    with session_scope() as session:
        print_json(tenants.list_clients(session))


@keys_app.command("create")
def create(
    client_id: str = typer.Argument(None, help="the client the key acts for"),
    admin: bool = typer.Option(False, "--admin", help="an operator key (any client, "
                               "with X-Client-Id)"),
    name: str = typer.Option(None, help="who or what uses the key (shown as reviewer)"),
) -> None:
    """Create a key for CLIENT_ID (or --admin) and print it: it cannot be shown again."""
    if admin == bool(client_id):
        fail("name a CLIENT_ID, or pass --admin (not both)")
    with session_scope() as session:
        if client_id and not tenants.client_exists(session, client_id):
            fail(f"client {client_id!r} is not registered (agent-runtime clients add "
                 f"{client_id})")
        row, key = api_keys.create_key(session, client_id, is_admin=admin, name=name)
        out = {"keyId": row.id, "prefix": row.prefix, "clientId": row.client_id,
               "admin": row.is_admin, "key": key}
    announce_change("keys")
    print_json(out)


@keys_app.command("list")
def list_(client_id: str = typer.Argument(None, help="only this client's keys")) -> None:
    """Keys (never the keys themselves: id, prefix, owner, state)."""
    with session_scope() as session:
        rows = api_keys.list_keys(session, client_id)
        table = Table("keyId", "prefix", "client", "name", "created", "revoked")
        for k in rows:
            table.add_row(k.id, k.prefix, "(admin)" if k.is_admin else k.client_id or "-",
                          k.name or "-", k.created_at.isoformat(timespec="seconds"),
                          k.revoked_at.isoformat(timespec="seconds") if k.revoked_at else "-")
    Console(width=160).print(table)


@keys_app.command("revoke")
def revoke(key: str = typer.Argument(..., help="key id or prefix")) -> None:
    """Revoke a key. Every API process stops accepting it at once."""
    with session_scope() as session:
        revoked = api_keys.revoke_key(session, key)
    if not revoked:
        fail(f"no active key {key!r}")
    announce_change("keys")
    typer.echo(f"revoked {', '.join(revoked)}")


def announce_change(topic: str, key: str = "*") -> None:
    """Tell running processes to drop their cached copy (best effort: caches expire anyway)."""
    cfg = settings()
    client = redis.Redis.from_url(cfg.redis_url, socket_timeout=2, socket_connect_timeout=2)
    try:
        announce(client, cfg.redis_namespace, topic, key)
    finally:
        client.close()
