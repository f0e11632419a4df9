"""`agent-runtime reviewers add|list|remove`: who may sign in to a client's review console."""

from __future__ import annotations

import typer

from worker.cli.common import fail, print_json, session_scope
from worker.console import credentials
from worker.store import reviewers, tenants

app = typer.Typer(help="Reviewer logins of the review console (one client each). Only a hash "
                  "of the secret is stored; the secret is shown once, when created.")


@app.command("add")
def add(client_id: str, name: str,
        admin: bool = typer.Option(False, "--admin", help="may also change the agent config "
                                   "and the knowledge base in the console")) -> None:
    """Create reviewer NAME for CLIENT_ID and print the generated secret (shown only now)."""
    name = name.strip()
    if not name or len(name) > 200:
        fail("the name must be 1 to 200 characters")
    secret = credentials.new_secret()
    with session_scope() as session:
        if not tenants.client_exists(session, client_id):
            fail(f"client {client_id!r} is not registered (agent-runtime clients add "
                 f"{client_id})")
        row = reviewers.add(session, client_id, name, credentials.hash_secret(secret), admin)
        if row is None:
            fail(f"client {client_id!r} already has a reviewer {name!r}")
        out = {"reviewerId": row.id, "clientId": client_id, "name": name, "admin": admin,
               "secret": secret}
    print_json(out)


@app.command("list")
def list_(client_id: str) -> None:
    """CLIENT_ID's reviewers (never their secrets)."""
    with session_scope() as session:
        rows = [{"reviewerId": r.id, "name": r.name, "admin": r.is_admin,
                 "createdAt": r.created_at.isoformat()}
                for r in reviewers.list_for(session, client_id)]
    print_json(rows)


@app.command("remove")
def remove(client_id: str, name: str) -> None:
    """Remove reviewer NAME of CLIENT_ID; their open sessions end at once."""
    with session_scope() as session:
        if not reviewers.remove(session, client_id, name):
            fail(f"client {client_id!r} has no reviewer {name!r}")
    typer.echo(f"reviewer {name} of {client_id} removed")
