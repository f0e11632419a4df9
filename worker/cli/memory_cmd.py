"""`agent-runtime memory import|search` — move history in; see what a draft would recall."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import orjson
import typer
from pydantic import BaseModel, ValidationError

from schema.memory import ImportItem, SearchQuery
from worker.cli.common import embedder, fail, lead_secret, session_scope, sessions_scope, settings
from worker.audience import Audience, parse_segment
from worker.knowledge.errors import InvalidInput
from worker.errors import RecallTimedOut
from worker.pipeline.recall import RecallRequest, RecallResult, recall
from worker.pipeline.remember import import_items
from worker.store import tenancy, tenants
from worker.store.memory_search import Scope

app = typer.Typer(help="A client's memory: bulk import of history, and recall as drafts see it.")

_CHUNK = 5000  # lines per transaction: a big import commits as it goes


def _lines(path: Path, model: type[BaseModel]) -> Iterator[tuple[int, BaseModel | str]]:
    """(line number, parsed item or the reason it is invalid); blank lines are skipped."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        fail(f"no such file: {path}")
    with handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                yield number, model.model_validate(orjson.loads(raw))
            except orjson.JSONDecodeError as exc:
                yield number, f"not valid JSON: {exc}"
            except ValidationError as exc:
                yield number, "; ".join(
                    f"{'.'.join(str(p) for p in e['loc']) or 'line'}: {e['msg']}"
                    for e in exc.errors()
                )


@app.command("import")
def import_cmd(
    client_id: str,
    file: Path = typer.Option(..., "--file", help="JSON lines: text, kind, leadId, leadEmail, "
                              "conversationId, createdAt, externalId"),
) -> None:
    """Bulk-import history into CLIENT_ID's memory. Invalid lines are reported and skipped."""
    cfg = settings()
    with session_scope(cfg) as session:
        if not tenants.client_exists(session, client_id):
            fail(f"client {client_id!r} is not registered (agent-runtime config set)")
    received = imported = invalid = 0
    batch: list[ImportItem] = []

    def flush() -> None:
        nonlocal received, imported
        with session_scope(cfg) as session:
            try:
                summary = import_items(session, client_id, batch, lead_secret(cfg),
                                       embedder(cfg))
            except ValueError as exc:
                fail(str(exc))
        received += summary.received
        imported += summary.imported
        batch.clear()

    for number, item in _lines(file, ImportItem):
        if isinstance(item, str):
            invalid += 1
            typer.echo(f"line {number}: {item}", err=True)
            continue
        batch.append(item)
        if len(batch) >= _CHUNK:
            flush()
    if batch:
        flush()
    _print_line({"clientId": client_id, "imported": imported,
                 "alreadyThere": received - imported, "invalid": invalid})
    if invalid:
        raise typer.Exit(1)


@app.command("search")
def search_cmd(
    client_id: str,
    query: str = typer.Option(None, "--query", help="the text to recall for"),
    lead: str = typer.Option(None, "--lead", help="the lead's id (leadId) whose history counts"),
    k: int = typer.Option(None, "--k", min=1, max=100, help="results per query (RECALL_LIMIT)"),
    file: Path = typer.Option(None, "--file", help='JSON lines {"query", "leadId"?}'),
    user: str = typer.Option(None, "--user", help="the lead's user id, for knowledge-base audiences"),
    segment: list[str] = typer.Option(
        [], "--segment", help="GROUP:ITEM tag the lead carries (repeatable), as in event metadata"
    ),
) -> None:
    """Recall for each query exactly as a draft would: one JSON line per query. Knowledge-base
    documents are those a lead with --user / --segment may see (none given: documents for
    everyone), as a draft's event metadata decides."""
    if (query is None) == (file is None):
        fail("give either --query or --file")
    try:
        audience = Audience(
            user_id=Audience.from_metadata({"userId": user}).user_id,  # validated as metadata is
            segments=frozenset(parse_segment(v) for v in segment),
        )
    except InvalidInput as exc:
        fail(str(exc))
    cfg = settings()
    limit = k or cfg.recall_limit
    queries = (
        [(0, SearchQuery(query=query, leadId=lead))] if query is not None
        else _lines(file, SearchQuery)
    )
    vectors = embedder(cfg)
    with sessions_scope(cfg) as sessions:
        with sessions.begin() as session:
            if not tenants.client_exists(session, client_id):
                fail(f"client {client_id!r} is not registered")
        for number, item in queries:
            if isinstance(item, str):
                fail(f"line {number}: {item}")
            _print_line(_search(sessions, client_id, item, limit, cfg.recall_budget_seconds,
                                vectors, audience))


def _search(sessions, client_id: str, q: SearchQuery, limit: int, budget: float,  # noqa: ANN001
            vectors, audience: Audience) -> dict:  # noqa: ANN001
    # A draft reads its lead's history plus the client-wide memory; without a lead, everything.
    scope = Scope(lead_key=f"id:{q.lead_id}") if q.lead_id else Scope(whole_client=True)
    # One transaction per query, under recall's budget as a draft's claim runs it: a cancelled
    # statement aborts only this query's transaction.
    try:
        with sessions.begin() as session:
            tenancy.bind(session, client_id, statement_timeout=budget)
            result = recall(session, RecallRequest(client_id, q.query, scope, limit,
                                                   audience=audience), budget, embedder=vectors)
    except RecallTimedOut as exc:
        result = RecallResult([], f"recall skipped: {exc}")
    if result.note:
        typer.echo(f"warning: {result.note}", err=True)
    return {
        "query": q.query,
        "results": [
            {"id": h.id, "externalId": h.external_id, "kind": h.kind, "score": h.score,
             "snippet": h.snippet, "clientId": h.client_id}
            for h in result.hits
        ],
    }


def _print_line(data: object) -> None:
    sys.stdout.write(orjson.dumps(data).decode() + "\n")
