"""Entry point of `agent-runtime`. The Celery commands (`worker`, `beat`) join it in
tasks/cli.py, the console script's module, so nothing here imports the tasks."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

import orjson
import redis
import typer

from worker.cli import (
    addresses_cmd, config_cmd, drafts_cmd, failed_cmd, kb_cmd, keys_cmd, leads_cmd, memory_cmd,
    ops_cmd, rejected_cmd, reviewers_cmd,
)
from worker.cli.common import fail, read_json_file, settings
from worker.cli.errors import require_services
from worker.logs import configure_logging, log

app = typer.Typer(
    help="agent-runtime: inbound lead e-mails and chats → reply drafts for human review.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(config_cmd.app, name="config")
app.add_typer(drafts_cmd.app, name="drafts")
app.add_typer(failed_cmd.app, name="failed")
app.add_typer(addresses_cmd.app, name="addresses")
app.add_typer(kb_cmd.app, name="kb")
app.add_typer(keys_cmd.clients_app, name="clients")
app.add_typer(keys_cmd.keys_app, name="keys")
app.command("health")(ops_cmd.health)
app.command("stats")(ops_cmd.stats_)
app.add_typer(memory_cmd.app, name="memory")
app.add_typer(leads_cmd.app, name="leads")
app.add_typer(reviewers_cmd.app, name="reviewers")
app.add_typer(rejected_cmd.app, name="rejected")


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
    from schema.events import Channel
    from worker.bootstrap import bootstrap
    from worker.ingress.consumer import Ingress, consumer_name

    cfg = settings()
    configure_logging(cfg.log_level, cfg.log_json)
    if cfg.lead_hash_key is None:
        fail("LEAD_HASH_KEY is required (it keys the HMAC of lead e-mails)")
    require_services(cfg.database_url, cfg.redis_url)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    # One consumer per channel, each in its own thread: a chat is stored the moment it
    # arrives, never after the e-mail batch in progress. A short GIL switch interval keeps
    # e-mail parsing (pure Python) from holding the chat thread up for long.
    sys.setswitchinterval(0.001)
    rt = bootstrap(cfg)
    rt.listen()  # config changes reach this process within a second
    base = consumer_name()
    ingresses = [rt.call(Ingress, f"{base}-{c.value}", (c,))
                 for c in (Channel.CHAT, Channel.EMAIL)]
    for each in ingresses:
        each.setup()  # the consumer groups exist: entries added from now on are read
    consumers = [threading.Thread(target=each.run, args=(stop,), name=f"ingress-{each.name}")
                 for each in ingresses]
    for thread in consumers:
        thread.start()
    log.info("ingress.ready", consumer=base, streams=[cfg.inbound_chat_stream,
                                                       cfg.inbound_email_stream])
    while all(t.is_alive() for t in consumers) and not stop.wait(0.5):
        pass
    died = not stop.is_set()  # a consumer ended on its own: it crashed (traceback above)
    stop.set()
    for thread in consumers:
        thread.join()
    if died:
        raise SystemExit(1)


@app.command()
def api(
    host: str = typer.Option(None, help="default API_HOST (0.0.0.0)"),
    port: int = typer.Option(None, help="default API_PORT (8000)"),
    workers: int = typer.Option(1, min=1, help="processes; set PROMETHEUS_MULTIPROC_DIR "
                                "when more than one"),
) -> None:
    """Run the HTTP API (uvicorn) until SIGTERM/SIGINT."""
    from worker.api.server import serve

    cfg = settings()
    configure_logging(cfg.log_level, cfg.log_json)
    require_services(cfg.database_url, cfg.redis_url)
    serve(cfg, host or cfg.api_host, port or cfg.api_port, workers)


@app.command()
def demo(
    events: Path = typer.Option(None, help="JSON list of events to use instead of the samples"),
) -> None:
    """Run the real processes on embedded Postgres and Redis, push the sample events, print the
    drafts, and stop everything (no servers needed)."""
    from worker.cli.demo import run_demo

    run_demo(events)


@app.command()
def up(
    data_dir: Path = typer.Option(..., "--data-dir", help="where Postgres and Redis keep their "
                                  "data (created if missing; reused on the next run)"),
    pg_port: int = typer.Option(54320, help="Postgres port on 127.0.0.1"),
    redis_port: int = typer.Option(63790, help="Redis port on 127.0.0.1"),
    api_port: int = typer.Option(8000, help="HTTP API port on 127.0.0.1"),
) -> None:
    """Run the whole deployment on embedded Postgres and Redis until Ctrl-C, data kept in
    DATA_DIR (LLM_MODEL, LLM_API_BASE, LLM_API_KEY … from the environment)."""
    from worker.cli.demo import run_up

    run_up(data_dir, pg_port, redis_port, api_port)


def main() -> None:
    """Run a command. Postgres or Redis refusing, or a missing setting, is one line on stderr
    (what, where and why) and exit code 1, never a traceback."""
    from worker.cli.errors import OUTAGES, describe_outage

    try:
        app()
    except OUTAGES as exc:
        typer.echo(f"error: {describe_outage(exc)}", err=True)
        raise SystemExit(1) from None
