"""The Procfile processes for real: `agent-runtime ingress` and `agent-runtime worker` as
subprocesses on Postgres and Redis, events appended with XADD, drafts read off the outbound
stream — what a producer and a reviewer see."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
import redis
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from worker.store.models import RejectedEvent

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent / "agent-runtime"
# Celery's queues live in Redis under fixed names: the e2e tests use a database of their own.
E2E_REDIS_DB = int(os.environ.get("TEST_E2E_REDIS_DB", "11"))


@pytest.fixture
def deployment(database_url, redis_client, fake_llm, tmp_path):  # noqa: ANN001
    redis_url = f"redis://127.0.0.1:6379/{E2E_REDIS_DB}"
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "LEAD_HASH_KEY": "e2e-secret",
        "LLM_MODEL": "openai/e2e",
        "LLM_API_BASE": fake_llm.url,
        "LLM_API_KEY": "sk-e2e",
        "LOG_LEVEL": "INFO",
    }

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(BIN), *args], env=env, capture_output=True, text=True,
                              timeout=120, cwd=ROOT)

    processes: dict[str, subprocess.Popen] = {}

    def start(name: str, *args: str) -> None:
        log = open(tmp_path / f"{name}.log", "w")  # noqa: SIM115
        processes[name] = subprocess.Popen([str(BIN), *args], env=env, stdout=log,
                                           stderr=subprocess.STDOUT, cwd=ROOT)

    for client_id, name in (("north", "Nora of North Cars"), ("south", "Sam of South Homes")):
        config = tmp_path / f"{client_id}.json"
        config.write_text(json.dumps({"name": name, "industry": "retail"}))
        assert cli("config", "set", client_id, "--file", str(config)).returncode == 0
    start("ingress", "ingress")
    start("worker", "worker", "--concurrency=8", "-n", f"e2e{os.getpid()}@%h")
    yield client, cli, processes, env, tmp_path
    for proc in processes.values():
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    client.flushdb()
    client.close()


def _read_drafts(client: redis.Redis, expected: int, timeout: float = 90.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    drafts: list[dict] = []
    last_id = "0"
    while len(drafts) < expected and time.monotonic() < deadline:
        for _stream, entries in client.xread({"agent:outbound:drafts": last_id}, block=500) or []:
            for entry_id, fields in entries:
                last_id = entry_id
                drafts.append(orjson.loads(fields[b"payload"]))
    return drafts


def test_events_appended_with_xadd_come_out_as_one_draft_each_in_the_clients_voice(deployment):
    client, cli, processes, env, tmp_path = deployment
    events = [
        ("agent:inbound:chat", {"eventId": f"chat-{i}", "clientId": "north" if i % 2 else "south",
                                "message": f"Question number {i}", "conversationId": f"c{i}"})
        for i in range(10)
    ]
    events.append(("agent:inbound:email", {"eventId": "mail-1", "clientId": "south",
                                           "message": "Viewing?", "subject": "Flat",
                                           "messageId": "<m1@x>", "leadEmail": "a@b.c"}))
    for stream, event in events:
        client.xadd(stream, {"payload": orjson.dumps(event)})
    client.xadd("agent:inbound:chat", {"payload": orjson.dumps(events[0][1])})  # a repeat
    client.xadd("agent:inbound:chat", {"payload": b"{broken"})
    client.xadd("agent:inbound:chat", {"payload": orjson.dumps(
        {"eventId": "x", "clientId": "unknown", "message": "Hi"})})
    # A producer can also use the CLI.
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps({"eventId": "cli-1", "clientId": "north", "message": "Hey"}))
    assert cli("send", "chat", "--file", str(event_file)).returncode == 0

    drafts = _read_drafts(client, expected=12)
    time.sleep(2)  # anything extra (a second draft for the repeat) would show up by now
    drafts += _read_drafts(client, expected=1, timeout=0.5)[len(drafts):]

    by_event = {}
    for d in drafts:
        by_event.setdefault(d["eventId"], []).append(d)
    assert sorted(by_event) == sorted([e["eventId"] for _, e in events] + ["cli-1"])
    assert all(len(v) == 1 for v in by_event.values()), "an eventId was drafted twice"
    for event_id, [draft] in by_event.items():
        voice = "Nora of North Cars" if draft["clientId"] == "north" else "Sam of South Homes"
        assert voice in draft["reply"], (event_id, draft["reply"])
        assert draft["degraded"] is False and draft["status"] == "pending_review"
    assert by_event["mail-1"][0]["subject"] == "Re: Flat"

    engine = create_engine(env["DATABASE_URL"])
    with Session(engine) as s:
        reasons = sorted(r.reason for r in s.scalars(select(RejectedEvent)))
    engine.dispose()
    assert len(reasons) == 2
    assert "not valid JSON" in reasons[1] and "not registered" in reasons[0]

    listed = cli("drafts", "list", "south")
    assert listed.returncode == 0 and "pending_review" in listed.stdout
    shown = cli("drafts", "show", "north", by_event["cli-1"][0]["draftId"])
    assert json.loads(shown.stdout)["eventId"] == "cli-1"
    # Tenant scoping: client south cannot see client north's draft.
    assert cli("drafts", "show", "south", by_event["cli-1"][0]["draftId"]).returncode != 0


def test_processes_stop_cleanly_on_sigterm(deployment):
    client, cli, processes, env, tmp_path = deployment
    log = open(tmp_path / "beat.log", "w")  # noqa: SIM115
    processes["beat"] = subprocess.Popen([str(BIN), "beat"], env=env, stdout=log,
                                         stderr=subprocess.STDOUT, cwd=ROOT)
    time.sleep(3)  # beat has ticked (its first tick sends the due tasks)
    for name, marker in (("worker", "ready."), ("ingress", "ingress.started"),
                         ("beat", "Starting")):
        log = tmp_path / f"{name}.log"
        deadline = time.monotonic() + 60
        while marker not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
    for proc in processes.values():
        proc.send_signal(signal.SIGTERM)
    for name, proc in processes.items():
        assert proc.wait(30) == 0, (tmp_path / f"{name}.log").read_text()[-2000:]


def test_worker_that_stops_unasked_exits_non_zero(deployment):
    """Only a stop signal is a clean stop: a worker that ends any other way (here a remote
    `shutdown` broadcast; in the wild a broker-reconnect crash Celery reports as 0) must exit
    non-zero, or a supervisor with `restart: on-failure` would leave the queue unserved."""
    client, cli, processes, env, tmp_path = deployment
    log = tmp_path / "worker.log"
    from celery import Celery

    control = Celery(broker=env["REDIS_URL"])
    name = f"e2e{os.getpid()}@{os.uname().nodename}"
    # Ready means answering a ping: Celery logs "ready." before it has subscribed to
    # broadcasts on Redis, and a shutdown sent then is lost (seen once in CI).
    deadline = time.monotonic() + 60
    answered = []
    while not answered and time.monotonic() < deadline:
        answered = control.control.ping(destination=[name], timeout=1)
    assert answered, "the worker never answered a ping: " + log.read_text()[-2000:]
    control.control.broadcast("shutdown", destination=[name])
    code = processes["worker"].wait(30)
    assert code != 0, log.read_text()[-2000:]
    assert "worker.stopped_unasked" in log.read_text()
