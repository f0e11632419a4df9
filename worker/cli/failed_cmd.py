"""`agent-runtime failed list|retry` — replies that have no draft, and why."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from worker.cli.common import fail, session_scope
from worker.store import message_states

app = typer.Typer(help="Messages whose drafting failed: transient ones are retried by beat; "
                  "permanent ones wait for `failed retry`.")


@app.command("list")
def list_failed(
    client_id: str,
    kind: str = typer.Option(None, help="transient or permanent"),
    limit: int = typer.Option(50, min=1, max=1000),
) -> None:
    """CLIENT_ID's failed messages, newest first."""
    with session_scope() as session:
        rows = message_states.list_failed(session, client_id, kind, limit)
        table = Table("messageId", "eventId", "kind", "attempts", "next attempt", "reason",
                      show_lines=True)
        for m in rows:
            table.add_row(
                m.id, m.event_id, m.failure_kind or "-", str(m.attempts),
                m.next_attempt_at.isoformat(timespec="seconds") if m.next_attempt_at else "-",
                (m.last_error or "")[:300],
            )
    Console().print(table)


@app.command("retry")
def retry(
    client_id: str,
    message_id: str = typer.Argument(None, help="one message; omit with --all"),
    all_: bool = typer.Option(False, "--all", help="every failed message of CLIENT_ID"),
) -> None:
    """Put failed messages back in line for drafting (beat hands them to a worker)."""
    if not message_id and not all_:
        fail("name a MESSAGE_ID or pass --all")
    with session_scope() as session:
        count = message_states.requeue_failed(session, client_id, None if all_ else message_id)
    if message_id and count == 0:
        fail(f"no failed message {message_id!r} for client {client_id!r}")
    typer.echo(f"{count} message(s) queued for drafting again")
