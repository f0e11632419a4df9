"""`agent-runtime demo`: the real pipeline on an embedded default, no servers needed.

SQLite file instead of Postgres, an in-process Redis (fakeredis) for the streams, Celery in
eager mode as the in-process broker, and the offline drafter unless LLM_MODEL is set.
Everything between "XADD" and "read the outbound stream" is the production code path.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import fakeredis
import orjson
from rich.console import Console
from rich.progress import track
from rich.table import Table

from worker.settings import DEMO_HOME, Settings

DEMO_DB = DEMO_HOME / "demo.sqlite3"


def _bundled(name: str) -> object:
    return json.loads(resources.files("worker.demo_data").joinpath(name).read_text())


def run_demo(events_path: Path | None) -> None:
    from tasks.app import app as celery_app
    from tasks.app import use_runtime
    from tasks.dispatch import CeleryDispatcher
    from worker.ingress.consumer import Ingress
    from worker.logs import configure_logging
    from worker.runtime import build_runtime
    from worker.store import rejections, tenants
    from worker.store.migrate import upgrade

    console = Console(width=max(Console().width, 120))
    configure_logging("ERROR", as_json=False)
    for leftover in DEMO_HOME.glob("demo.sqlite3*"):
        leftover.unlink()
    settings = Settings(database_url=f"sqlite:///{DEMO_DB}", redis_url="redis://in-process/0")
    upgrade(settings)
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    rt = build_runtime(
        settings, CeleryDispatcher(), redis_client=fakeredis.FakeRedis(),
        limits_storage_uri="memory://",
    )
    use_runtime(rt)

    clients = _bundled("clients.json")
    with rt.sessions.begin() as session:
        for client_id, fields in clients.items():
            tenants.activate_new_config(session, client_id, fields, register=True)
    events = json.loads(events_path.read_text()) if events_path else _bundled("events.json")

    ingress = Ingress(rt, name="demo")
    ingress.setup()
    for item in events:  # what a producer does: XADD <stream> * payload <json>
        raw = item.get("raw") or orjson.dumps(item["payload"])
        rt.redis.xadd(settings.stream_for(item["channel"]), {"payload": raw})

    model = settings.llm_model or "offline drafter (set LLM_MODEL for a real model)"
    console.print(f"[bold]agent-runtime demo[/] — {len(events)} events, model: {model}")
    entries = []
    while batch := ingress.read(start=">"):  # chats first, then e-mail a batch at a time
        entries += batch
    for entry in track(entries, description="Drafting", console=console):
        ingress.handle([entry])

    _print_drafts(console, rt, settings)
    with rt.sessions() as session:
        claimed = sorted(set(clients) | _claimed(events))
        kept = [r for c in claimed for r in rejections.list_rejected(session, c)]
        kept += rejections.list_rejected(session, None)
    table = Table("stream", "clientId (claimed)", "reason", title="Kept aside (no draft)")
    for r in kept:
        table.add_row(r.stream, r.claimed_client_id or "-", r.reason)
    console.print(table)
    console.print(f"Demo database: {DEMO_DB}")
    rt.close()


def _claimed(events: list[dict]) -> set[str]:
    return {
        e["payload"]["clientId"]
        for e in events
        if isinstance(e.get("payload"), dict) and isinstance(e["payload"].get("clientId"), str)
    }


def _print_drafts(console: Console, rt, settings: Settings) -> None:  # noqa: ANN001
    from worker.store.messages import get_message
    from worker.store.models import Draft

    table = Table("client · channel", "lead wrote", "draft (quick replies)", "written by",
                  title="Drafts on the review stream", show_lines=True, expand=True)
    outbound = rt.redis.xrange(settings.outbound_stream)
    with rt.sessions() as session:
        for _entry_id, fields in outbound:
            draft = orjson.loads(fields[b"payload"])
            row = session.get(Draft, draft["draftId"])
            message = get_message(session, draft["clientId"], row.inbound_message_id)
            quick = "".join(f"\n  [{q}]" for q in draft["quickReplies"])
            table.add_row(
                f"{draft['clientId']}\n{draft['channel']}",
                message.new_text[:200],
                draft["reply"] + quick,
                "offline drafter\n(degraded)" if draft["degraded"] else draft["model"],
            )
    console.print(table)
