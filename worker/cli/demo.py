"""`agent-runtime demo` and `agent-runtime up`: the real product on embedded Postgres and Redis.

Both start a `worker.embedded.Stack` (pip-installed Postgres and Redis servers, migrated, then
the ingress, worker, beat and api processes exactly as in production). `demo` does it in a
temporary directory, pushes the bundled sample events by XADD as a producer would, shows what
became of each, prints the drafts and stops everything. `up` keeps it running with its data
under a directory of the user's choice until Ctrl-C.
"""

from __future__ import annotations

import json
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import orjson
import redis
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, create_engine, text

from worker.embedded.servers import EmbeddedError, free_port, port_is_free
from worker.embedded.stack import Stack

EVENT_TIMEOUT_SECONDS = 90.0


def bundled(name: str) -> object:
    return json.loads(resources.files("worker.demo_data").joinpath(name).read_text())


@contextmanager
def _stopped_on_signals() -> Iterator[None]:
    """SIGTERM (and SIGHUP) end the command like Ctrl-C does, through the same clean-up."""
    def _interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


DEMO_REVIEWER = "demo"


def _start(console: Console, stack: Stack, clients: dict | None) -> None:
    from worker.settings import Settings
    from worker.store.migrate import upgrade

    t0 = time.monotonic()
    stack.start_servers()
    console.print(f"  Postgres and Redis up in {time.monotonic() - t0:.1f} s")
    settings = Settings(database_url=stack.postgres.url)
    upgrade(settings)
    if clients:
        _register(stack.postgres.url, clients)
    console.print(f"  migrated in {time.monotonic() - t0:.1f} s; starting ingress, worker, "
                  "beat, api …")
    stack.start_processes()
    stack.wait_ready(on_ready=lambda name, took: console.print(
        f"  {name} ready after {took:.1f} s"))


def _register(database_url: str, clients: dict) -> None:
    from worker.store import tenants
    from worker.store.db import make_engine, make_session_factory
    from worker.settings import Settings

    engine = make_engine(Settings(database_url=database_url))
    try:
        with make_session_factory(engine).begin() as session:
            for client_id, fields in clients.items():
                tenants.activate_new_config(session, client_id, fields, register=True)
    finally:
        engine.dispose()


def _demo_reviewer(database_url: str, client_id: str) -> str | None:
    """A console login `demo` (an admin) for `client_id`, with a new secret each start (only
    its hash is kept, so an old one cannot be shown again); returns the secret, or None when
    the client is no longer registered (`up` on data whose demo client was deleted)."""
    from worker.console import credentials
    from worker.settings import Settings
    from worker.store import reviewers, tenants
    from worker.store.db import make_engine, make_session_factory

    secret = credentials.new_secret()
    engine = make_engine(Settings(database_url=database_url))
    try:
        with make_session_factory(engine).begin() as session:
            if not tenants.client_exists(session, client_id):
                return None
            reviewers.remove(session, client_id, DEMO_REVIEWER)
            reviewers.add(session, client_id, DEMO_REVIEWER, credentials.hash_secret(secret),
                          admin=True)
    finally:
        engine.dispose()
    return secret


def _console_lines(database_url: str, client_id: str, api_port: int, note: str) -> str:
    """Where the console is and a login to use: `demo` of `client_id` with a new secret, and
    `note` about it."""
    url = f"http://127.0.0.1:{api_port}/"
    secret = _demo_reviewer(database_url, client_id)
    if secret is None:
        return (f"  console: {url}  ({client_id} is gone, so no demo login; give yourself one: "
                "agent-runtime reviewers add CLIENT_ID NAME --admin)")
    return (f"  console: {url}  sign in with dealer {client_id}, "
            f"name {DEMO_REVIEWER}, secret {secret}  ({note})")


# ---------------------------------------------------------------------------------------- demo


@dataclass
class Outcome:
    event: dict
    kind: str  # drafted | kept aside | repeat | skipped | failed | waiting
    detail: str


def run_demo(events_path: Path | None) -> None:
    console = Console(width=max(Console().width, 120))
    events = json.loads(events_path.read_text()) if events_path else bundled("events.json")
    clients = bundled("clients.json")
    root = Path(tempfile.mkdtemp(prefix="agent-runtime-demo-"))
    stack = Stack(root, pg_port=free_port(), redis_port=free_port(), api_port=free_port(),
                  throwaway=True)
    env = stack.env()
    import os

    model = os.environ.get("LLM_MODEL") or "offline drafter (set LLM_MODEL for a real model)"
    console.print(f"[bold]agent-runtime demo[/] — {len(events)} events, model: {model}")
    console.print(f"  embedded Postgres and Redis in {root}")
    engine: Engine | None = None
    try:
        with _stopped_on_signals():
            _start(console, stack, clients)
            console.print(_console_lines(env["DATABASE_URL"], next(iter(clients)),
                                         stack.api_port, "while the demo runs"),
                          soft_wrap=True)
            engine = create_engine(env["DATABASE_URL"])
            client = redis.Redis.from_url(env["REDIS_URL"])
            outcomes = []
            for n, item in enumerate(events, 1):
                outcome = _push_and_follow(client, engine, item, stack)
                outcomes.append(outcome)
                console.print(f"  [{n}/{len(events)}] {_label(item)} → {outcome.kind}"
                              + (f": {outcome.detail}" if outcome.detail else ""))
            _print_drafts(console, client, engine)
            _print_kept_aside(console, outcomes)
            _print_summary(console, outcomes)
    except KeyboardInterrupt:
        console.print("interrupted: stopping")
    except EmbeddedError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise SystemExit(1) from None
    finally:
        if engine is not None:
            engine.dispose()
        stack.stop()
        shutil.rmtree(root, ignore_errors=True)
    console.print("stopped everything the demo started")


def _label(item: dict) -> str:
    payload = item.get("payload")
    if isinstance(payload, dict):
        return f"{item['channel']} {payload.get('eventId') or '(no eventId)'} " \
               f"for {payload.get('clientId') or '(no client)'}"
    return f"{item['channel']} (raw entry)"


def _stream(item: dict) -> str:
    from worker.settings import Settings

    return Settings().stream_for(item["channel"])


def _push_and_follow(client: redis.Redis, engine: Engine, item: dict, stack: Stack) -> Outcome:
    """XADD one event as a producer does, then watch what the real processes make of it."""
    payload = item.get("payload")
    ids = (payload.get("clientId"), payload.get("eventId")) if isinstance(payload, dict) else None
    seen_before = ids is not None and _message(engine, *ids) is not None
    raw = item.get("raw") or orjson.dumps(payload)
    stream = _stream(item)
    entry_id = client.xadd(stream, {"payload": raw}).decode()
    deadline = time.monotonic() + EVENT_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if stack.crashed():
            raise EmbeddedError(f"{', '.join(stack.crashed())} stopped; logs in {stack.logs}")
        with engine.connect() as conn:
            kept = conn.execute(text("SELECT reason FROM rejected_events WHERE stream = :s AND "
                                     "entry_id = :e"), {"s": stream, "e": entry_id}).scalar()
        if kept:
            return Outcome(item, "kept aside", kept)
        if seen_before and _consumed(client, stream, entry_id):
            return Outcome(item, "repeat", f"eventId {ids[1]!r} was already stored: ignored, "
                           "no second draft")
        message = _message(engine, *ids) if ids else None
        if message is not None and not seen_before:
            status, draft_status = message
            if draft_status:
                return Outcome(item, "drafted", draft_status)
            if status in ("skipped", "failed"):
                return Outcome(item, status, "")
        time.sleep(0.1)
    return Outcome(item, "waiting", f"no result after {EVENT_TIMEOUT_SECONDS:g} s")


def _message(engine: Engine, client_id: object, event_id: object) -> tuple[str, str | None] | None:
    if not isinstance(client_id, str) or not isinstance(event_id, str):
        return None
    with engine.connect() as conn:
        row = conn.execute(text(
            "SELECT m.status, d.status FROM inbound_messages m LEFT JOIN drafts d "
            "ON d.inbound_message_id = m.id WHERE m.client_id = :c AND m.event_id = :e"),
            {"c": client_id, "e": event_id}).first()
    return (row[0], row[1]) if row else None


def _consumed(client: redis.Redis, stream: str, entry_id: str) -> bool:
    """The ingress has read the entry and acknowledged it."""
    groups = client.xinfo_groups(stream)
    if not groups:
        return False
    group = groups[0]
    last = group["last-delivered-id"]
    last = last.decode() if isinstance(last, bytes) else last
    return _id(last) >= _id(entry_id) and not client.xpending_range(
        stream, group["name"], min=entry_id, max=entry_id, count=1)


def _id(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


def _print_drafts(console: Console, client: redis.Redis, engine: Engine) -> None:
    from worker.settings import Settings

    table = Table("client · channel", "lead wrote", "draft (quick replies)", "written by",
                  title="Drafts on the review stream", show_lines=True, expand=True)
    with engine.connect() as conn:
        for _entry_id, fields in client.xrange(Settings().outbound_stream):
            draft = orjson.loads(fields[b"payload"])
            wrote = conn.execute(text(
                "SELECT m.new_text FROM drafts d JOIN inbound_messages m "
                "ON m.id = d.inbound_message_id WHERE d.id = :d"), {"d": draft["draftId"]}).scalar()
            quick = "".join(f"\n  [{q}]" for q in draft["quickReplies"])
            table.add_row(
                f"{draft['clientId']}\n{draft['channel']}", (wrote or "")[:200],
                draft["reply"] + quick,
                "offline drafter\n(degraded)" if draft["degraded"] else draft["model"],
            )
    console.print(table)


def _print_kept_aside(console: Console, outcomes: list[Outcome]) -> None:
    table = Table("channel", "event", "reason", title="Kept aside (no draft)")
    for o in outcomes:
        if o.kind == "kept aside":
            table.add_row(o.event["channel"], _label(o.event), o.detail)
    console.print(table)


def _print_summary(console: Console, outcomes: list[Outcome]) -> None:
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.kind] = counts.get(o.kind, 0) + 1
    parts = [f"{n} {kind}" for kind, n in counts.items()]
    console.print(f"{len(outcomes)} events: " + ", ".join(parts))
    for o in outcomes:
        if o.kind == "repeat":
            console.print(f"  repeat: {_label(o.event)} — {o.detail}")


# ------------------------------------------------------------------------------------------ up


def run_up(data_dir: Path, pg_port: int, redis_port: int, api_port: int) -> None:
    console = Console()
    data_dir = data_dir.expanduser().resolve()
    for what, port in (("Postgres", pg_port), ("Redis", redis_port), ("API", api_port)):
        if not port_is_free(port):
            console.print(f"[red]error:[/] port {port} for {what} is taken; choose another "
                          f"with --{what.lower().replace('postgres', 'pg')}-port")
            raise SystemExit(1)
    stack = Stack(data_dir, pg_port=pg_port, redis_port=redis_port, api_port=api_port)
    fresh = not (data_dir / "postgres" / "PG_VERSION").exists()
    console.print(f"[bold]agent-runtime up[/] — {'new' if fresh else 'existing'} data in {data_dir}")
    try:
        with _stopped_on_signals():
            clients = bundled("clients.json") if fresh else None
            _start(console, stack, clients)
            if clients:
                console.print(f"  registered the demo clients {', '.join(clients)} "
                              "(worker/demo_data/clients.json)")
            env = stack.env()
            # A new secret each start: the last one cannot be shown again (only its hash is
            # kept), and a user who restarts `up` expects to be let in again.
            signin = _console_lines(
                env["DATABASE_URL"], next(iter(bundled("clients.json"))), api_port,
                "a new secret each start; more logins: agent-runtime reviewers add")
            console.print(
                "\n[bold]Running.[/] Use these with any agent-runtime command "
                "(export them in another shell):\n"
                f"  export DATABASE_URL={env['DATABASE_URL']}\n"
                f"  export REDIS_URL={env['REDIS_URL']}\n"
                f"  export LEAD_HASH_KEY={env['LEAD_HASH_KEY']}\n"
                f"{signin}\n"
                f"  API: http://127.0.0.1:{api_port}  (docs: /docs with API_DOCS=true; "
                "key: agent-runtime keys create CLIENT_ID)\n"
                f"  psql: psql postgresql://postgres@127.0.0.1:{pg_port}/agent_runtime\n"
                f"  logs: {stack.logs}\n"
                "Ctrl-C stops everything; run the same command again to go on with this data.",
                soft_wrap=True,  # a terminal's wrap: no line break inside a URL or secret
            )
            while not stack.crashed():
                time.sleep(0.5)
            crashed = stack.crashed()
            console.print(f"[red]error:[/] {', '.join(crashed)} stopped: "
                          f"{stack.log_tail(crashed[0], 300)}")
            raise SystemExit(1)
    except KeyboardInterrupt:
        console.print("\nstopping …")
    except EmbeddedError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise SystemExit(1) from None
    finally:
        stack.stop()
    console.print("stopped")
