"""`agent-runtime kb …` — a client's knowledge base: documents, folders, audiences."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.tree import Tree
from sqlalchemy.orm import Session, sessionmaker

from worker.cli.common import fail, print_json, settings
from worker.api.kb_views import audience_json, document_json
from worker.knowledge import folders as folder_cases
from worker.knowledge import library
from worker.knowledge.bounds import Limits
from worker.audience import Audience, Segmentation, parse_segment
from worker.knowledge.errors import KnowledgeError
from worker.knowledge.ports import DocumentQueue
from worker.logs import configure_logging
from worker.statuses import DocumentStatus

app = typer.Typer(help="The client's own documents (price lists, policies, opening hours), "
                  "searched for every draft and shown only to their audience.",
                  no_args_is_help=True)
_console = Console()

SEGMENT_HELP = "GROUP_ID:ITEM_ID segmentation tag (repeatable)"
USER_HELP = "user id (repeatable)"


@contextmanager
def _kb(inline: bool = False) -> Iterator[tuple[sessionmaker[Session], DocumentQueue]]:
    """Sessions and the queue background work goes to; refusals become clear errors."""
    from worker.knowledge.processing import InlineQueue
    from worker.store.db import make_engine, make_session_factory

    cfg = settings()
    # stdout carries the results; only warnings (e.g. a broker that is down) go to stderr.
    configure_logging("WARNING", cfg.log_json)
    engine = make_engine(cfg)
    sessions = make_session_factory(engine, cfg.db_app_role)
    if inline:
        queue: DocumentQueue = InlineQueue(sessions, cfg.kb_lease_seconds,
                                           limits=Limits.from_settings(cfg))
    else:
        from worker.adapters.celery_app import CeleryDocumentQueue, make_celery

        queue = CeleryDocumentQueue(make_celery(cfg))
    try:
        yield sessions, queue
    except KnowledgeError as exc:
        fail(str(exc))
    finally:
        engine.dispose()


def _segmentation(segments: list[str] | None, users: list[str] | None) -> Segmentation:
    try:
        return Segmentation.of([parse_segment(s) for s in segments or []], users or [])
    except KnowledgeError as exc:
        fail(str(exc))


@app.command()
def upload(
    client_id: str,
    files: list[Path] = typer.Argument(..., help="Markdown/text, HTML, CSV, PDF or DOCX files"),
    folder: str = typer.Option("", help="folder to put them in (created if missing)"),
    segment: list[str] = typer.Option(None, help=SEGMENT_HELP),
    user: list[str] = typer.Option(None, help=USER_HELP),
    everyone: bool = typer.Option(False, help="clear a replaced document's segmentation"),
    inline: bool = typer.Option(False, help="process here and now instead of on a worker"),
    wait: bool = typer.Option(False, help="wait until a worker has processed them"),
    timeout: float = typer.Option(600, help="seconds --wait waits at most"),
) -> None:
    """Upload FILES; one JSON line per file.

    The file name is the key in the folder: the same name replaces the content, same id. With --segment/--user the documents are shown only to
    leads carrying one of those tags or user ids; otherwise to everyone (a replaced document
    keeps its segmentation unless --everyone)."""
    cfg = settings()
    for path in files:
        if not path.is_file():
            fail(f"no such file: {path}")
        if path.stat().st_size > cfg.kb_max_upload_bytes:
            fail(f"{path} has {path.stat().st_size:,} bytes; the limit is "
                 f"{cfg.kb_max_upload_bytes:,}")
    seg = _segmentation(segment, user)
    segmentation = seg if (segment or user or everyone) else None
    results = []
    with _kb(inline) as (sessions, queue), _progress() as progress:
        task = progress.add_task("Uploading", total=sum(p.stat().st_size for p in files))
        for path in files:
            progress.update(task, description=f"Uploading {path.name}")
            result = library.upload_document(
                sessions, queue, client_id, folder=folder, filename=path.name,
                content=path.read_bytes(), segmentation=segmentation,
                max_bytes=cfg.kb_max_upload_bytes,
            )
            results.append(result)
            progress.advance(task, path.stat().st_size)
        if wait or inline:
            _wait_until_processed(sessions, client_id, [r.document.id for r in results],
                                  timeout, progress)
        views = [library.show_document(sessions, client_id, r.document.id) for r in results]
    for result, view in zip(results, views):
        typer.echo(orjson.dumps({**document_json(view), "replaced": result.replaced}).decode())
    if any(v.status == "failed" for v in views):
        raise typer.Exit(1)


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                    console=Console(stderr=True), transient=True)


def _wait_until_processed(sessions, client_id, ids, timeout, progress) -> None:  # noqa: ANN001
    task = progress.add_task("Processing", total=len(ids))
    deadline = time.monotonic() + timeout
    while True:
        pending = [i for i in ids if library.show_document(sessions, client_id, i).status
                   in (DocumentStatus.QUEUED, DocumentStatus.PROCESSING)]
        progress.update(task, completed=len(ids) - len(pending))
        if not pending:
            return
        if time.monotonic() > deadline:
            fail(f"{len(pending)} document(s) still waiting for a worker after {timeout:.0f} s "
                 "(is `agent-runtime worker` running?)", code=3)
        time.sleep(0.5)


@app.command("list")
def list_(
    client_id: str,
    folder: str = typer.Option(None, help="only this folder ('' or / for the root)"),
    recursive: bool = typer.Option(False, help="with --folder: its subfolders too"),
    search: str = typer.Option(None, help="file name contains (case-insensitive)"),
    status: str = typer.Option(None, help="queued, processing, ready or failed"),
    limit: int = typer.Option(100, min=1, max=10_000),
    offset: int = typer.Option(0, min=0),
    as_json: bool = typer.Option(False, "--json", help="JSON instead of a table"),
) -> None:
    """CLIENT_ID's documents."""
    with _kb() as (sessions, _):
        docs = library.list_documents(
            sessions, client_id, folder=folder, recursive=recursive, name_contains=search,
            status=status, limit=limit, offset=offset,
        )
    if as_json:
        print_json([document_json(d) for d in docs])
        return
    table = Table("id", "path", "kind", "size", "status", "chunks", "updated")
    for d in docs:
        status_text = d.status + (f": {d.error}" if d.error else "")
        table.add_row(d.id, d.path, d.kind, f"{d.size_bytes:,}", status_text,
                      str(d.chunk_count), d.updated_at.strftime("%Y-%m-%d %H:%M"))
    _console.print(table)


@app.command()
def show(client_id: str, document_id: str) -> None:
    """One document as JSON: status (and why it failed), folder, audience."""
    with _kb() as (sessions, _):
        print_json(document_json(library.show_document(sessions, client_id, document_id)))


@app.command()
def rename(client_id: str, document_id: str, new_name: str) -> None:
    """Give a document a new file name in its folder; its id stays."""
    with _kb() as (sessions, _):
        print_json(document_json(library.rename_document(sessions, client_id, document_id, new_name)))


@app.command()
def move(
    client_id: str, document_id: str,
    folder: str = typer.Argument(..., help="target folder ('' or / for the root)"),
    name: str = typer.Option(None, help="also rename it"),
) -> None:
    """Move a document to another folder (created if missing); its id stays."""
    with _kb() as (sessions, _):
        print_json(document_json(library.move_document(sessions, client_id, document_id, folder, name)))


@app.command()
def delete(client_id: str, document_id: str) -> None:
    """Delete a document: hidden at once, removed in the background."""
    with _kb() as (sessions, queue):
        library.delete_document(sessions, queue, client_id, document_id)
    typer.echo(f"deleted {document_id}")


@app.command()
def folders(client_id: str) -> None:
    """Every folder path of CLIENT_ID, as JSON."""
    with _kb() as (sessions, _):
        print_json(folder_cases.list_folders(sessions, client_id))


@app.command()
def mkdir(client_id: str, path: str) -> None:
    """Create a folder (and its missing parents)."""
    with _kb() as (sessions, _):
        typer.echo(folder_cases.create_folder(sessions, client_id, path))


@app.command()
def rmdir(client_id: str, path: str) -> None:
    """Delete a folder with its subfolders and every document in them."""
    with _kb() as (sessions, queue):
        count = folder_cases.delete_folder(sessions, queue, client_id, path)
    typer.echo(f"deleted folder {path} and {count} document(s)")


@app.command()
def mvdir(client_id: str, old: str, new: str) -> None:
    """Rename or move a folder with everything in it."""
    with _kb() as (sessions, _):
        typer.echo(folder_cases.rename_folder(sessions, client_id, old, new))


@app.command()
def tree(client_id: str) -> None:
    """The folder tree with the number of documents in each folder."""
    with _kb() as (sessions, _):
        root = folder_cases.folder_tree(sessions, client_id)
    view = Tree(f"[bold]{client_id}[/] ({root.documents} documents)")
    stack = [(view, root)]
    while stack:
        branch, node = stack.pop()
        for child in node.folders:
            stack.append((branch.add(f"{child.name}/ ({child.documents})"), child))
    _console.print(view)


@app.command()
def segments(
    client_id: str,
    document_id: str = typer.Argument(None, help="the document (omit with --file)"),
    segment: list[str] = typer.Option(None, help=SEGMENT_HELP),
    user: list[str] = typer.Option(None, help=USER_HELP),
    everyone: bool = typer.Option(False, help="remove all segmentation: shown to everyone"),
    file: Path = typer.Option(None, help='batch: {"DOC_ID": {"segments": [...], "userIds": '
                              '[...]}, …}, applied all or nothing'),
) -> None:
    """Show or replace (wholesale) a document's audience; --file for a batch.

    --segment/--user/--everyone replace one document's segmentation; --file replaces several
    documents' at once, all or nothing."""
    with _kb() as (sessions, _):
        if file is not None:
            try:
                batch = orjson.loads(file.read_bytes())
            except (OSError, orjson.JSONDecodeError) as exc:
                fail(f"cannot read {file}: {exc}")
            if not isinstance(batch, dict):
                fail(f"{file} must hold a JSON object of document id → segmentation")
            views = library.replace_segmentations(sessions, client_id, batch)
            print_json({v.id: v.segmentation.to_json() for v in views})
            return
        if document_id is None:
            fail("give a DOCUMENT_ID or --file")
        if segment or user or everyone:
            library.replace_segmentation(
                sessions, client_id, document_id, _segmentation(segment, user))
        view = library.show_document(sessions, client_id, document_id)
        print_json({**view.segmentation.to_json(),
                    "count": audience_json(library.audience_count(sessions, client_id, document_id))})


@app.command()
def visible(
    client_id: str,
    user: str = typer.Option(None, help="the lead's user id (metadata.userId)"),
    segment: list[str] = typer.Option(None, help=SEGMENT_HELP + " the lead carries"),
    query: str = typer.Option(None, help="search as recall would, instead of listing"),
    limit: int = typer.Option(100, min=1, max=10_000),
) -> None:
    """What one lead may be shown: its documents, or with --query the ranked search hits."""
    seg = _segmentation(segment, None)
    audience = Audience(user_id=user, segments=seg.segments)
    with _kb() as (sessions, _):
        if query is not None:
            hits = library.search(sessions, client_id, query, audience, limit)
            print_json([
                {"id": h.id, "documentId": h.document_id, "kind": h.kind, "score": h.score,
                 "title": h.title, "heading": h.heading, "snippet": h.snippet}
                for h in hits
            ])
            return
        docs = library.visible_documents(sessions, client_id, audience, limit)
    print_json([{"id": d.id, "path": d.path, "status": d.status} for d in docs])
