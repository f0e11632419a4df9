"""Entry point of `agent-runtime`."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import orjson
import redis
import typer

from worker.cli import addresses_cmd, config_cmd, drafts_cmd, failed_cmd, leads_cmd, memory_cmd
from worker.cli.common import fail, read_json_file, settings
from worker.logs import configure_logging

app = typer.Typer(
    help="agent-runtime: inbound lead e-mails and chats → reply drafts for human review.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(config_cmd.app, name="config")
app.add_typer(drafts_cmd.app, name="drafts")
app.add_typer(failed_cmd.app, name="failed")
app.add_typer(addresses_cmd.app, name="addresses")
app.add_typer(memory_cmd.app, name="memory")
app.add_typer(leads_cmd.app, name="leads")


@app.command()
def migrate() -> None:
    """Apply every database migration (safe to run twice)."""
    from worker.store.migrate import upgrade

    upgrade(settings())
    typer.echo("migrations applied")


@app.command()
def send(
    channel: str = typer.Argument(..., help="email or chat"),
    file: Path = typer.Option(..., "--file", help="the event as a JSON object"),
) -> None:
    """Append an event to the inbound stream of CHANNEL (as a producer would)."""
    if channel not in ("email", "chat"):
        fail("channel must be 'email' or 'chat'")
    event = read_json_file(file)
    cfg = settings()
    client = redis.Redis.from_url(cfg.redis_url)
    entry_id = client.xadd(cfg.stream_for(channel), {"payload": orjson.dumps(event)})
    typer.echo(entry_id.decode())


@app.command()
def ingress() -> None:
    """Run the inbound stream consumer until SIGTERM/SIGINT."""
    from tasks.app import runtime
    from worker.ingress.consumer import Ingress

    cfg = settings()
    configure_logging(cfg.log_level, cfg.log_json)
    if not cfg.is_sqlite and cfg.lead_hash_key is None:
        fail("LEAD_HASH_KEY is required outside the demo (it keys the HMAC of lead e-mails)")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    Ingress(runtime()).run(stop)


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def worker(ctx: typer.Context) -> None:
    """Run a drafting worker (Celery). Extra arguments go to `celery worker`."""
    from tasks.app import app as celery_app

    args = [
        "worker",
        "--pool=threads",
        "--concurrency=200",
        "--queues=drafts.chat,drafts.email,maintenance",
        "--without-gossip",
        "--without-mingle",
        "--loglevel=INFO",
        *ctx.args,
    ]
    celery_app.worker_main(argv=args)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def beat(ctx: typer.Context) -> None:
    """Run the scheduler for failed-reply reprocessing and the outbox relay."""
    from tasks.app import app as celery_app

    celery_app.start(argv=["beat", "--loglevel=INFO", *ctx.args])


@app.command()
def demo(
    events: Path = typer.Option(None, help="JSON list of events to use instead of the samples"),
) -> None:
    """Run the whole pipeline on an embedded default (no servers) and print the drafts."""
    from worker.cli.demo import run_demo

    run_demo(events)


def main() -> None:
    app()
