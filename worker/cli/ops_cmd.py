"""`agent-runtime health` and `agent-runtime stats` — what an operator looks at first."""

from __future__ import annotations

from datetime import timedelta

import typer
from rich.console import Console
from rich.progress import track
from rich.table import Table

from worker.cli.common import print_json, settings
from worker.store import stats, tenants
from worker.store.models import utcnow


def health(client_id: str = typer.Argument(None, help="also check this client's config and "
                                           "model")) -> None:
    """Database, Redis, stream lag, worker heartbeat, model (and CLIENT_ID's active config).
    Exit code 0 when healthy, 1 when not."""
    from worker.health import check_health

    rt = _runtime()
    try:
        report = rt.call(check_health, client_id)
    finally:
        rt.close()
    print_json({"clientId": client_id, **report.as_json()})
    raise typer.Exit(0 if report.healthy else 1)


def stats_(
    days: int = typer.Option(7, min=1, help="look back this many days"),
    client_id: str = typer.Option(None, "--client", help="one client only"),
    json_: bool = typer.Option(False, "--json", help="JSON lines instead of a table"),
) -> None:
    """Per client: messages, drafts, approval rate, model calls, tokens and cost."""
    from worker.cli.common import session_scope

    since = utcnow() - timedelta(days=days)
    console = Console(width=160, stderr=json_)
    with session_scope() as session:
        clients = [client_id] if client_id else tenants.list_clients(session)
        rows = [
            stats.client_stats(session, c, since)
            for c in track(clients, description="Counting", console=console,
                           disable=len(clients) < 2)
        ]
    if json_:
        for r in rows:
            print_json({"clientId": r.client_id, "messages": r.messages, "drafts": r.drafts,
                        "approvalRate": r.approval_rate, "modelCalls": r.model_calls,
                        "failedCalls": r.failed_calls, "promptTokens": r.prompt_tokens,
                        "completionTokens": r.completion_tokens, "costUsd": r.cost_usd})
        return
    table = Table("client", "messages", "drafts", "pending", "approved", "edited", "rejected",
                  "approval rate", "model calls (failed)", "tokens", "cost USD",
                  title=f"Last {days} day(s)")
    for r in rows:
        rate = "-" if r.approval_rate is None else f"{r.approval_rate:.0%}"
        table.add_row(
            r.client_id, str(r.messages), str(sum(r.drafts.values())),
            str(r.drafts.get("pending_review", 0)), str(r.drafts.get("approved", 0)),
            str(r.drafts.get("edited", 0)), str(r.drafts.get("rejected", 0)), rate,
            f"{r.model_calls} ({r.failed_calls})", str(r.prompt_tokens + r.completion_tokens),
            f"{r.cost_usd:.4f}",
        )
    console.print(table)


def _runtime():  # noqa: ANN202
    from worker.bootstrap import bootstrap

    return bootstrap(settings())
