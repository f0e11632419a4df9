"""`agent-runtime rejected list|show`: inbound events kept aside, with the reason."""

from __future__ import annotations

import typer

from worker.cli.common import fail, print_json, session_scope
from worker.store import rejections

app = typer.Typer(help="Inbound events kept aside (never drafted, never retried blindly), "
                  "with the reason.")
_CLIENT = typer.Argument(None, help="the client the events claimed; none: events that named "
                         "no valid client")


@app.command("list")
def list_(client_id: str = _CLIENT, limit: int = typer.Option(50, min=1, max=1000)) -> None:
    """Newest first, without their payloads."""
    with session_scope() as session:
        rows = [rejections.as_json(r) for r in
                rejections.list_rejected(session, client_id, limit)]
    print_json(rows)


@app.command("show")
def show(rejected_id: str, client_id: str = _CLIENT) -> None:
    """One kept-aside event with its raw payload."""
    with session_scope() as session:
        row = rejections.get_rejected(session, client_id, rejected_id)
        if row is None:
            fail(f"no kept-aside event {rejected_id!r}"
                 + (f" for client {client_id!r}" if client_id else " without a client"))
        out = rejections.as_json(row, with_payload=True)
    print_json(out)
