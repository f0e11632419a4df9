"""`agent-runtime drafts list|show|approve|edit|reject|rejections` — what reviewers see and do."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from worker.cli.common import fail, print_json, session_scope, settings
from worker.store import drafts, outbox
from worker.statuses import DraftStatus

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
        payload = outbox.payload_of(session, client_id, draft_id,
                                    settings().outbound_stream) or {}
        payload["status"] = draft.status
        review = {"reviewedAt": draft.reviewed_at and draft.reviewed_at.isoformat(),
                  "reviewedBy": draft.reviewed_by,
                  "editedText": draft.edited_text, "editDistance": draft.edit_distance,
                  "rejectionReason": draft.rejection_reason, "recallNote": draft.recall_note}
        payload |= {k: v for k, v in review.items() if v is not None}
    print_json(payload)


def _embedder():  # noqa: ANN202
    from worker.cli.common import embedder, settings

    return embedder(settings())


def _reviewer(given: str | None) -> str:
    return given or f"cli:{os.environ.get('USER') or 'unknown'}"


def _review(action, client_id: str, draft_id: str, *args: object,  # noqa: ANN001
            **kwargs: object) -> None:
    """Approvals and edits are announced through the outbox: the relay (beat) publishes them."""
    from worker.pipeline import review

    with session_scope() as session:
        try:
            draft = action(session, client_id, draft_id, *args, **kwargs)
        except review.ReviewRefused as exc:
            fail(str(exc))
        result = {
            "draftId": draft.id, "clientId": draft.client_id, "status": draft.status,
            "reviewedAt": draft.reviewed_at.isoformat(), "reviewedBy": draft.reviewed_by,
        }
        if draft.status == DraftStatus.EDITED:
            result |= {"reply": draft.reply, "editedText": draft.edited_text,
                       "editDistance": draft.edit_distance}
        if draft.status == DraftStatus.REJECTED:
            result["reason"] = draft.rejection_reason
    print_json(result)


_REVIEWER = typer.Option(None, "--reviewer", help="who decides (default: cli:$USER)")


@app.command("approve")
def approve(client_id: str, draft_id: str, reviewer: str = _REVIEWER) -> None:
    """Approve a pending draft as written; it becomes an example of what this client says."""
    from worker.pipeline import review

    _review(review.approve, client_id, draft_id, _embedder(), reviewer=_reviewer(reviewer),
            announce=settings().outbound_decisions_stream)


@app.command("edit")
def edit(
    client_id: str,
    draft_id: str,
    text: str = typer.Option(None, "--text", help="the reply as it should be sent"),
    file: Path = typer.Option(None, "--file", help="a file holding that reply"),
    reviewer: str = _REVIEWER,
) -> None:
    """Replace a pending draft's reply with the reviewer's text (both are kept)."""
    from worker.pipeline import review

    if (text is None) == (file is None):
        fail("give either --text or --file")
    _review(review.edit, client_id, draft_id, text if text is not None else file.read_text(),
            _embedder(), reviewer=_reviewer(reviewer),
            announce=settings().outbound_decisions_stream)


@app.command("reject")
def reject(
    client_id: str,
    draft_id: str,
    reason: str = typer.Option(..., "--reason", help="why it cannot be sent"),
    reviewer: str = _REVIEWER,
) -> None:
    """Reject a pending draft, with the reason."""
    from worker.pipeline import review

    _review(review.reject, client_id, draft_id, reason, reviewer=_reviewer(reviewer))


@app.command("rejections")
def rejections(client_id: str) -> None:
    """How many drafts were rejected under each config version of CLIENT_ID."""
    from worker.pipeline import review

    with session_scope() as session:
        counts = review.rejections_per_config_version(session, client_id)
    print_json([{"configVersion": v, "rejected": n} for v, n in counts.items()])
