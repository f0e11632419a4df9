"""`agent-runtime drafts list|show` — what reviewers see."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from worker.cli.common import fail, print_json, session_scope
from worker.store import drafts

app = typer.Typer(help="Drafts waiting for (or past) human review.")


@app.command("list")
def list_drafts(
    client_id: str,
    status: str = typer.Option(None, help="pending_review, approved, edited or rejected"),
    limit: int = typer.Option(50, min=1, max=1000),
) -> None:
    """CLIENT_ID's newest drafts."""
    with session_scope() as session:
        rows = drafts.list_drafts(session, client_id, status, limit)
        table = Table("draftId", "channel", "lead", "status", "model", "reply", show_lines=True)
        for d in rows:
            table.add_row(
                d.id, d.channel, d.lead_id or "-", d.status,
                (d.model or "offline") + (" (degraded)" if d.degraded else ""),
                d.reply if len(d.reply) < 160 else d.reply[:157] + "...",
            )
    Console().print(table)


@app.command("show")
def show_draft(client_id: str, draft_id: str) -> None:
    """One draft of CLIENT_ID as JSON, as it was published for review, with its status now."""
    with session_scope() as session:
        draft = drafts.get_draft(session, client_id, draft_id)
        if draft is None:
            fail(f"no draft {draft_id!r} for client {client_id!r}")
        payload = drafts.outbox_payload(session, client_id, draft_id) or {}
        payload["status"] = draft.status
    print_json(payload)
