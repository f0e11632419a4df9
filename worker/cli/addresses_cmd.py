"""`agent-runtime addresses add|list|remove` — inbound e-mail addresses that route to a client."""

from __future__ import annotations

import typer

from worker.cli.common import fail, print_json, session_scope
from worker.store import addresses, tenants

app = typer.Typer(help="Inbound e-mail addresses: mail without a clientId sent to one of them "
                  "is routed to its client.")


@app.command("add")
def add(client_id: str, address: str) -> None:
    with session_scope() as session:
        if not tenants.client_exists(session, client_id):
            fail(f"client {client_id!r} is not registered")
        try:
            addresses.add_address(session, client_id, address)
        except addresses.AddressTaken as exc:
            fail(str(exc))
    typer.echo(f"{address.strip().lower()} → {client_id}")


@app.command("list")
def list_(client_id: str) -> None:
    with session_scope() as session:
        print_json(addresses.addresses_of(session, client_id))


@app.command("remove")
def remove(client_id: str, address: str) -> None:
    with session_scope() as session:
        if addresses.remove_address(session, client_id, address) == 0:
            fail(f"{address} is not registered for {client_id!r}")
    typer.echo("removed")
