"""Fault-suite harness: the real agent-runtime processes, a fault, then counting by eventId.

Run the suite (it is also part of plain `pytest -q`, which CI runs):

    .venv/bin/python -m pytest tests/faults -m faults -s

Each scenario starts its own world and removes it afterwards, whatever happens:

* its own `redis-server` on a spare port (never the shared one on 6379);
* a fresh Postgres database cloned from a migrated template on the shared server
  (127.0.0.1:5432), or, for the scenario that stops Postgres, its own cluster (initdb as user
  `postgres`, `pg_ctl` on a spare port) in a temporary directory;
* the fake model server (`python -m tests.support.fake_llm`);
* `agent-runtime ingress`, N workers, and one or two `agent-runtime beat`.

Workers are started as `python -m tests.faults.worker_probe worker …`: the same `agent-runtime`
command line with a Celery `task_postrun` observer that logs each drafting task's outcome, so
"task runs that reported drafted" can be counted.

It pushes a known set of events, applies the fault, waits until drained (every pushed eventId
has a terminal record and every draft in Postgres has been seen on the outbound stream) or the
deadline, and computes:

* terminal record: a draft row; an inbound message `failed` with `failure_kind='permanent'`; or a
  `rejected_events` row (for malformed entries only the latter, matched by stream entry id);
* lost = events pushed − events with a terminal record;
* duplicate drafts = outbound entries with a distinct draftId for the same (clientId, eventId)
  beyond the first, plus draft rows beyond one per inbound message;
* duplicate executions = successful model calls (`llm_calls.error IS NULL`) beyond one per
  message, plus drafting task runs that returned `drafted`/`degraded` beyond one per message;
* crashed = product processes (ingress, workers, beats) that exited without being told to, or
  did not exit 0 within 60 s of SIGTERM at teardown.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import psycopg
import redis

from tests.support.processes import (
    CLI,
    NotReady,
    Proc,
    free_port,
    ingress_ready,
    run_cli,
    wait_until,
    workers_ready,
)

PY = sys.executable
PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_BIN_ROOT = Path("/usr/lib/postgresql")

CHAT = "agent:inbound:chat"
EMAIL = "agent:inbound:email"
OUTBOUND = "agent:outbound:drafts"
GROUP = "agent-runtime"

DRAIN_LIMIT_S = 120.0
TERM_GRACE_S = 60.0

# Two tenants: north allows the poison models as per-message overrides, south allows none.
POISON_MODELS = {
    "error500": "openai/error500-poison",
    "timeout": "openai/timeout-poison",
    "garbage": "openai/garbage-poison",
    "ratelimit": "openai/ratelimit-poison",
}
CLIENTS = {
    "fault-north": {
        "name": "Nora of North Cars",
        "industry": "automotive retail",
        "allowedModels": sorted(POISON_MODELS.values()),
    },
    "fault-south": {"name": "Sam of South Homes", "industry": "residential lettings"},
}

# Settings that make recovery fast enough for a test (all are ordinary environment settings).
FAST_ENV = {
    "DRAFT_LEASE_SECONDS": "20",
    "RETRY_FAILED_AFTER_SECONDS": "1",
    "LLM_RETRY_BASE_SECONDS": "0.05",
    "LLM_RETRY_MAX_SECONDS": "0.5",
    "LLM_TIMEOUT_SECONDS": "2",
    # Beat's schedule is read from these settings (worker/settings.py, tasks/app.py).
    "REPROCESS_EVERY_SECONDS": "5",
    "OUTBOX_RELAY_EVERY_SECONDS": "2",
    # The shared Postgres allows 100 connections and others use it too.
    "DB_POOL_SIZE": "8",
    "DB_MAX_OVERFLOW": "8",
}


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:40]


def log(msg: str) -> None:
    print(f"[faults {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _pg_bin(tool: str) -> str:
    versions = sorted(
        (p for p in PG_BIN_ROOT.iterdir() if (p / "bin" / tool).exists()),
        key=lambda p: int(p.name) if p.name.isdigit() else 0,
    )
    if not versions:
        raise RuntimeError(f"no {tool} under {PG_BIN_ROOT}")
    return str(versions[-1] / "bin" / tool)


# ----------------------------------------------------------------------------------------------
# Redis of our own
# ----------------------------------------------------------------------------------------------


class RedisServer:
    """A private redis-server on a spare port. No persistence unless we ask for a SAVE on
    shutdown: a restart after `stop(save=True)` keeps the data, after `stop(save=False)` it is
    empty (a flush)."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.dir = workdir / "redis"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.log_path = workdir / "redis.log"
        self.proc: Proc | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self, **kw: object) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, **kw)

    def start(self) -> None:
        self.proc = Proc(
            "redis",
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--dir", str(self.dir),
             "--dbfilename", "dump.rdb", "--maxclients", "2000"],
            dict(os.environ), self.log_path, product=False,
        ).start()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with self.client(socket_timeout=1) as c:
                    if c.ping():
                        return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server on {self.port} did not start:\n{self.proc.tail()}")

    def stop(self, save: bool = False) -> None:
        if self.proc is None or not self.proc.alive():
            return
        try:
            with self.client(socket_timeout=10) as c:
                c.execute_command("SHUTDOWN", "SAVE" if save else "NOSAVE")
        except redis.RedisError:
            pass  # the server closes the connection as it goes
        if self.proc.wait(20) is None:
            self.proc.signal(signal.SIGKILL)
            self.proc.wait(5)
        if not save:
            (self.dir / "dump.rdb").unlink(missing_ok=True)


# ----------------------------------------------------------------------------------------------
# Postgres: a database on the shared server, or a cluster of our own
# ----------------------------------------------------------------------------------------------


def _sa(dsn: str) -> str:
    return dsn.replace("postgresql://", "postgresql+psycopg://", 1)


def prepare_database(dsn: str, workdir: Path) -> None:
    """Apply the migrations and register the suite's clients, through the CLI."""
    env = {**os.environ, "DATABASE_URL": _sa(dsn), "LEAD_HASH_KEY": "faults",
           "REDIS_URL": "redis://127.0.0.1:1/0", "LOG_LEVEL": "WARNING"}
    run_cli(env, "migrate")
    for client_id, config in CLIENTS.items():
        path = workdir / f"config-{client_id}.json"
        path.write_text(json.dumps(config))
        run_cli(env, "config", "set", client_id, "--file", str(path))


class SharedTemplate:
    """A migrated database with the suite's clients, cloned for each scenario."""

    def __init__(self) -> None:
        self.name = f"faults_tpl_{os.getpid()}"
        self._admin_base = PG_ADMIN_URL.rsplit("/", 1)[0]

    def create(self, workdir: Path) -> None:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{self.name}"')
        prepare_database(f"{self._admin_base}/{self.name}", workdir)

    def drop(self) -> None:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


class SharedDatabase:
    def __init__(self, template: SharedTemplate, scenario: str):
        self.template = template
        self.name = f"faults_{scenario}_{uuid.uuid4().hex[:8]}"
        self.dsn = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{self.name}"

    def create(self) -> None:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}" TEMPLATE "{self.template.name}"')

    def cleanup(self) -> None:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


class OwnPostgres:
    """A throwaway cluster on a spare port, run as user `postgres` (it refuses root)."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        # Under /tmp, not the pytest tmp dir: user postgres must be able to reach it.
        self.dir = Path(tempfile.mkdtemp(prefix="faults-pg-", dir="/tmp"))
        self.data = self.dir / "data"
        self.log_path = workdir / "postgres.log"
        self.dsn = f"postgresql://postgres@127.0.0.1:{self.port}/faults"
        self.running = False

    def _as_postgres(self, *argv: str, timeout: float = 120) -> None:
        result = subprocess.run(
            ["runuser", "-u", "postgres", "--", *argv], capture_output=True, text=True,
            timeout=timeout, cwd="/tmp",
        )
        if result.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed: {result.stdout[-2000:]}{result.stderr[-2000:]}")

    def create(self) -> None:
        shutil.chown(self.dir, "postgres", "postgres")
        self._as_postgres(_pg_bin("initdb"), "-D", str(self.data), "--auth=trust", "-U",
                          "postgres", "--no-sync")
        self.start()
        with psycopg.connect(self.dsn.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE faults")

    def start(self) -> None:
        opts = (f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 "
                "-c fsync=off -c max_connections=200")
        self._as_postgres(_pg_bin("pg_ctl"), "-D", str(self.data), "-o", opts, "-l",
                          str(self.data / "server.log"), "-w", "-t", "60", "start")
        self.running = True

    def stop(self) -> None:
        self._as_postgres(_pg_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "-t",
                          "60", "stop")
        self.running = False

    def cleanup(self) -> None:
        try:
            if self.running or (self.data / "postmaster.pid").exists():
                self._as_postgres(_pg_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate",
                                  "-w", "-t", "30", "stop")
        except Exception as exc:  # noqa: BLE001 - still remove what we can
            log(f"warning: stopping own postgres: {exc}")
        finally:
            self.running = False
            try:
                shutil.copy(self.data / "server.log", self.log_path)
            except OSError:
                pass
            shutil.rmtree(self.dir, ignore_errors=True)


# ----------------------------------------------------------------------------------------------
# The fake model server
# ----------------------------------------------------------------------------------------------


class FakeModel:
    def __init__(self, workdir: Path, latency: float, fail_rate: float, env: dict[str, str]):
        self.port = free_port()
        self.latency = latency
        self.proc = Proc(
            "fake_llm",
            [PY, "-m", "tests.support.fake_llm", "--port", str(self.port), "--latency",
             str(latency), "--fail-rate", str(fail_rate)],
            env, workdir / "fake_llm.log", product=False,
        )
        self._halt = threading.Event()
        self._topper: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> None:
        self.proc.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"fake model server did not start:\n{self.proc.tail()}")

    def _post(self, path: str, body: dict) -> dict:
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"}, method="POST",
        )
        with urllib.request.urlopen(req, timeout=5) as resp:
            return json.loads(resp.read())

    def stats(self) -> dict[str, int]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/_stats", timeout=3) as r:
                return json.loads(r.read())
        except OSError:
            return {}

    def queued(self, model: str) -> int:
        return int(self._post("/_script", {"model": model, "responses": []})["queued"])

    def start_failing(self, model: str, rate: float, seed: int = 11, keep: int = 100) -> None:
        """From now on, `rate` of the calls to `model` fail (429/500/timeout/garbage, evenly):
        a thread keeps the server's per-model script topped up until `stop_failing`."""
        rng = random.Random(seed)

        def top_up() -> None:
            while not self._halt.is_set():
                try:
                    missing = keep - self.queued(model)
                    if missing > 0:
                        self._post("/_script", {"model": model, "responses": [
                            rng.choice(["429", "500", "timeout", "garbage"])
                            if rng.random() < rate else "ok" for _ in range(missing)
                        ]})
                except OSError:
                    pass
                self._halt.wait(0.2)

        self._halt.clear()
        self._topper = threading.Thread(target=top_up, daemon=True)
        self._topper.start()

    def stop_failing(self, model: str) -> float:
        """Healthy from now on: stop topping up and use up what is still scripted (our own
        throwaway requests pop the queued behaviours; the runtime's calls then all succeed).
        Returns the moment it became healthy (time.monotonic())."""
        from concurrent.futures import ThreadPoolExecutor

        self._halt.set()
        if self._topper:
            self._topper.join(5)
        body = json.dumps({"model": model, "messages": [{"role": "user", "content": "x"}]})

        def pop(_: int) -> None:
            req = urllib.request.Request(
                f"http://127.0.0.1:{self.port}/v1/chat/completions", data=body.encode(),
                headers={"Content-Type": "application/json"}, method="POST",
            )
            try:
                with urllib.request.urlopen(req, timeout=0.5) as resp:
                    resp.read()
            except OSError:
                pass  # 429/500, or a scripted "timeout" that would hang: popped either way

        deadline = time.monotonic() + 60
        with ThreadPoolExecutor(32) as pool:
            while (left := self.queued(model)) > 0:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"could not use up the scripted failures of {model}")
                list(pool.map(pop, range(left)))
        return time.monotonic()


# ----------------------------------------------------------------------------------------------
# The outbound stream, as a reviewer's consumer sees it
# ----------------------------------------------------------------------------------------------


class OutboundReader(threading.Thread):
    """XREAD the outbound stream from the start, surviving Redis outages; keeps every entry."""

    def __init__(self, redis_port: int):
        super().__init__(daemon=True, name="outbound-reader")
        self.port = redis_port
        self.last_id = b"0-0"
        self.entries = 0
        self.draft_ids: Counter[str] = Counter()  # draftId -> times seen (redelivery is allowed)
        self.by_event: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.degraded: set[str] = set()
        self.lock = threading.Lock()
        self._halt = threading.Event()
        self.errors = 0

    def run(self) -> None:
        client: redis.Redis | None = None
        while not self._halt.is_set():
            try:
                if client is None:
                    client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5,
                                         socket_connect_timeout=2)
                self.read_once(client, block=500)
            except redis.RedisError:
                self.errors += 1
                client = None
                self._halt.wait(0.2)

    def read_once(self, client: redis.Redis, block: int | None = None) -> int:
        resp = client.xread({OUTBOUND: self.last_id}, count=1000, block=block)
        n = 0
        for _stream, entries in resp or []:
            with self.lock:
                for entry_id, fields in entries:
                    self.last_id = entry_id
                    payload = orjson.loads(fields[b"payload"])
                    draft_id = payload["draftId"]
                    self.entries += 1
                    self.draft_ids[draft_id] += 1
                    self.by_event[(payload["clientId"], payload["eventId"])].add(draft_id)
                    if payload.get("degraded"):
                        self.degraded.add(draft_id)
                    n += 1
        return n

    def catch_up(self, client: redis.Redis) -> None:
        """Read everything up to the stream's end now (e.g. right before Redis loses it)."""
        while self.read_once(client):
            pass

    def stop(self) -> None:
        self._halt.set()
        self.join(5)


# ----------------------------------------------------------------------------------------------
# Events
# ----------------------------------------------------------------------------------------------


@dataclass
class Pushed:
    stream: str
    entry_id: str
    kind: str  # valid | poison | malformed:<kind>
    client_id: str | None = None
    event_id: str | None = None


CHATS = [
    "Hi, is the red hatchback still available?", "Can I book a test drive on Saturday?",
    "What are your opening hours?", "Do you take part exchange?", "Is the flat pet friendly?",
    "Could you send me more photos please?", "How long is the minimum tenancy?",
]
MAILS = [
    ("Viewing request", "Hello, I would like to view the two-bed flat next week. Thanks."),
    ("Test drive", "Good morning, could I test drive the estate car on Friday afternoon?"),
    ("Question", "Hi there, is parking included with the apartment on Lake Road?"),
]


def valid_events(prefix: str, n: int, seed: int = 1, leads: int = 200) -> list[tuple[str, dict]]:
    """(stream, event) pairs: 70% chat, 30% e-mail, two tenants, recurring leads (so recall
    has history), each event in a conversation of its own: a later message in the same
    conversation supersedes an earlier one (it is then skipped, by design), which would blur
    the count of terminal records."""
    rng = random.Random(seed)
    clients = list(CLIENTS)
    out = []
    for i in range(n):
        client = clients[i % len(clients)]
        lead = rng.randrange(leads)
        event_id = f"{prefix}-{i}"
        if rng.random() < 0.7:
            out.append((CHAT, {
                "eventId": event_id, "clientId": client, "conversationId": f"web-{event_id}",
                "leadId": f"lead-{lead}", "leadName": f"Lead {lead}",
                "message": f"{rng.choice(CHATS)} (#{i})",
            }))
        else:
            subject, body = rng.choice(MAILS)
            out.append((EMAIL, {
                "eventId": event_id, "clientId": client, "leadEmail": f"lead{lead}@example.com",
                "leadName": f"Lead {lead}", "subject": subject,
                "messageId": f"<{event_id}@faults.example>", "message": f"{body}\n\n(#{i})",
            }))
    return out


# ----------------------------------------------------------------------------------------------
# Measurements
# ----------------------------------------------------------------------------------------------


@dataclass
class Stats:
    events: int = 0
    terminal: int = 0
    lost: int = 0
    duplicate_drafts: int = 0
    duplicate_executions: int = 0
    drafts: int = 0
    drafts_unseen: int = 0  # outbox rows whose draft was not (yet) seen on the outbound stream
    unpublished_by_design: int = 0  # stale/withdrawn drafts: saved without an outbox row
    permanent_failures: int = 0
    valid_set_aside: int = 0  # valid events kept aside in rejected_events instead of drafted
    degraded: int = 0
    redelivered: int = 0  # outbound entries repeating a draftId already seen (allowed)
    statuses: dict[str, int] = field(default_factory=dict)
    lost_examples: list[str] = field(default_factory=list)
    set_aside_examples: list[str] = field(default_factory=list)

    @property
    def drained(self) -> bool:
        return self.lost == 0 and self.drafts_unseen == 0


@dataclass
class Row:
    scenario: str
    events: int
    terminal: int
    lost: int
    duplicate_drafts: int
    duplicate_executions: int
    drain_s: float | None  # seconds from the fault's end to drained; None: not drained
    crashed: int
    notes: str = ""
    outcome: str = ""  # the test's outcome (passed / failed / xfailed: a known bug), if known

    def markdown(self) -> str:
        drain = f"{self.drain_s:.1f} s" if self.drain_s is not None else "not drained"
        return (f"| {self.scenario} | {self.events} | {self.terminal} | {self.lost} | "
                f"{self.duplicate_drafts} | {self.duplicate_executions} | {drain} | "
                f"{self.crashed} | {self.outcome} | {self.notes} |")


TABLE_HEADER = (
    "| scenario | events | terminal | lost | duplicate drafts | duplicate executions "
    "| time to drain | crashed processes | test | notes |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---|---|"
)
RESULTS: list[Row] = []


# ----------------------------------------------------------------------------------------------
# The deployment under test
# ----------------------------------------------------------------------------------------------


class Deployment:
    def __init__(
        self,
        scenario: str,
        workdir: Path,
        template: SharedTemplate | None,
        *,
        own_postgres: bool = False,
        workers: int = 2,
        concurrency: int = 25,
        llm_latency: float = 0.1,
        beats: int = 1,
        env: dict[str, str] | None = None,
    ):
        self.scenario = scenario
        self.slug = slug(scenario)
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.probe_dir = workdir / "probe"
        self.probe_dir.mkdir(exist_ok=True)
        self.redis = RedisServer(workdir)
        self.pg: OwnPostgres | SharedDatabase
        if own_postgres:
            self.pg = OwnPostgres(workdir)
        else:
            assert template is not None
            self.pg = SharedDatabase(template, self.slug)
        self.n_workers = workers
        self.concurrency = concurrency
        self.n_beats = beats
        self.extra_env = env or {}
        self.llm_latency = llm_latency
        self.llm: FakeModel | None = None
        self.procs: list[Proc] = []
        self.workers: list[Proc] = []
        self.beats: list[Proc] = []
        self.ingress: Proc | None = None
        self.reader: OutboundReader | None = None
        self.pushed: list[Pushed] = []
        self._push_lock = threading.Lock()
        self.crashes: list[str] = []
        self._crash_seen: set[int] = set()
        self._restarts: Counter[str] = Counter()
        self._closed = False
        self.row: Row | None = None
        self.producer = None  # redis client for XADD

    # -- set-up ----------------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
        for key in ("BROKER_URL", "INBOUND_EMAIL_STREAM", "INBOUND_CHAT_STREAM", "OUTBOUND_STREAM",
                    "REDIS_NAMESPACE", "LLM_FALLBACK_MODELS"):
            env.pop(key, None)
        assert self.llm is not None
        env.update(
            DATABASE_URL=_sa(self.pg.dsn),
            REDIS_URL=self.redis.url,
            LEAD_HASH_KEY="faults-secret",
            LLM_MODEL="openai/fault",
            LLM_API_BASE=self.llm.url,
            LLM_API_KEY="sk-faults",
            LITELLM_LOCAL_MODEL_COST_MAP="True",
            LOG_LEVEL="WARNING",
            PYTHONUNBUFFERED="1",
            FAULT_PROBE_DIR=str(self.probe_dir),
            **FAST_ENV,
        )
        env.update(self.extra_env)
        return env

    def start(self) -> None:
        t0 = time.monotonic()
        self.redis.start()
        self.pg.create()
        if isinstance(self.pg, OwnPostgres):
            prepare_database(self.pg.dsn, self.workdir)
        self.llm = FakeModel(self.workdir, self.llm_latency, 0.0, self._base_env())
        self.llm.start()
        self.ingress = self._spawn("ingress", [CLI, "ingress"])
        for i in range(self.n_workers):
            self.workers.append(self._spawn_worker(i))
        for i in range(self.n_beats):
            self.beats.append(self.start_beat(i))
        self.producer = self.redis.client(socket_timeout=10, socket_connect_timeout=2)
        self.reader = OutboundReader(self.redis.port)
        self.reader.start()
        self._wait("ingress", self._ingress_ready, 90)
        self._wait("workers", lambda: self.workers_ready(self.workers), 120, every=0.5)
        log(f"{self.scenario}: deployment ready in {time.monotonic() - t0:.1f}s "
            f"(redis :{self.redis.port}, db {getattr(self.pg, 'name', self.pg.dsn)}, "
            f"{self.n_workers}x{self.concurrency} workers, logs {self.workdir})")

    def _base_env(self) -> dict[str, str]:
        return {**os.environ, "PYTHONUNBUFFERED": "1"}

    def _spawn(self, name: str, argv: list[str]) -> Proc:
        self._restarts[name] += 1
        label = name if self._restarts[name] == 1 else f"{name}#{self._restarts[name]}"
        proc = Proc(label, argv, self.env(), self.workdir / f"{name}.log", product=True).start()
        self.procs.append(proc)
        return proc

    def _spawn_worker(self, i: int) -> Proc:
        return self._spawn(
            f"worker{i + 1}",
            [PY, "-m", "tests.faults.worker_probe", "worker", f"--concurrency={self.concurrency}",
             "-n", f"fault{i + 1}@%h"],
        )

    def start_beat(self, i: int) -> Proc:
        schedule = self.workdir / f"beat{i + 1}-schedule"
        return self._spawn(f"beat{i + 1}", [CLI, "beat", f"--schedule={schedule}"])

    def _wait(self, what: str, check, timeout: float, every: float = 0.2) -> None:  # noqa: ANN001
        try:
            wait_until(what, check, timeout, every=every, still_running=self._no_crash)
        except TimeoutError as exc:
            raise RuntimeError(f"{exc}\n{self.tails()}") from None

    def _no_crash(self) -> None:
        self.check_processes()
        if self.crashes:
            raise RuntimeError("a process died while starting:\n" + "\n".join(self.crashes))

    def _ingress_ready(self) -> bool:
        return ingress_ready(self.producer, (CHAT, EMAIL), GROUP)

    def workers_ready(self, procs: list[Proc]) -> bool:
        host = socket.gethostname()
        names = {f"fault{p.name.split('#')[0].removeprefix('worker')}@{host}" for p in procs}
        try:
            return workers_ready(self.redis.url, names)
        except NotReady:
            return False

    # -- events ------------------------------------------------------------------------------

    def push(self, items: list[tuple[str, dict | dict[bytes, bytes]]], kind: str = "valid",
             rate: float = 0.0, chunk: int = 50, kinds: list[str] | None = None) -> None:
        """XADD each (stream, event) like a producer: retried while Redis is unreachable (a
        retried chunk may append an event twice, which the (clientId, eventId) key absorbs)."""
        t0 = time.monotonic()
        i = 0
        while i < len(items):
            end = min(len(items), i + chunk)
            if rate:
                due = t0 + i / rate
                if (wait := due - time.monotonic()) > 0:
                    time.sleep(wait)
            batch = items[i:end]
            deadline = time.monotonic() + 120
            while True:
                try:
                    pipe = self.producer.pipeline(transaction=False)
                    for stream, event in batch:
                        fields = event if _is_entry(event) else {"payload": orjson.dumps(event)}
                        pipe.xadd(stream, fields)
                    ids = pipe.execute()
                    break
                except redis.RedisError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            with self._push_lock:
                for n, ((stream, event), entry_id) in enumerate(zip(batch, ids)):
                    k = kinds[i + n] if kinds else kind
                    if _is_entry(event):
                        self.pushed.append(Pushed(stream, entry_id.decode(), k))
                    else:
                        self.pushed.append(Pushed(stream, entry_id.decode(), k,
                                                  event.get("clientId"), event.get("eventId")))
            i = end

    def push_in_background(self, items: list, **kw: object) -> threading.Thread:
        errors: list[BaseException] = []

        def run() -> None:
            try:
                self.push(items, **kw)
            except BaseException as exc:  # noqa: BLE001 - re-raised by the caller via .errors
                errors.append(exc)

        t = threading.Thread(target=run, daemon=True, name="producer")
        t.errors = errors  # type: ignore[attr-defined]
        t.start()
        return t

    # -- faults ------------------------------------------------------------------------------

    def kill_worker(self, index: int, sig: int = signal.SIGKILL) -> Proc:
        proc = self.workers[index]
        proc.stopped_by_us = True
        proc.signal(sig)
        return proc

    def restart_worker(self, index: int) -> Proc:
        old = self.workers[index]
        if old.alive():
            raise RuntimeError(f"{old.name} is still running")
        self.workers[index] = self._spawn_worker(index)
        return self.workers[index]

    def check_processes(self) -> None:
        for proc in self.procs:
            if proc.product and not proc.stopped_by_us and not proc.alive() \
                    and proc.pid not in self._crash_seen:
                self._crash_seen.add(proc.pid)
                proc.exit_code = proc.popen.returncode  # type: ignore[union-attr]
                self.crashes.append(f"{proc.name} (pid {proc.pid}) exited by itself with "
                                    f"{proc.exit_code}:\n{proc.tail()}")
                log(f"{self.scenario}: CRASH {self.crashes[-1]}")

    # -- measuring ---------------------------------------------------------------------------

    def probe_outcomes(self) -> dict[str, Counter[str]]:
        """message id -> outcomes its task runs returned (SUCCESS only)."""
        out: dict[str, Counter[str]] = defaultdict(Counter)
        for path in self.probe_dir.glob("tasks-*.jsonl"):
            for line in path.read_text(errors="replace").splitlines():
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue  # a line cut short by kill -9
                if rec.get("state") == "SUCCESS" and rec.get("outcome"):
                    out[rec["message"]][rec["outcome"]] += 1
        return out

    def measure(self) -> Stats:
        with psycopg.connect(self.pg.dsn, connect_timeout=3) as conn:
            drafts = conn.execute(
                "SELECT client_id, event_id, inbound_message_id, id, degraded, status FROM drafts"
            ).fetchall()
            msgs = conn.execute(
                "SELECT id, client_id, event_id, status, failure_kind FROM inbound_messages"
            ).fetchall()
            rejected = conn.execute(
                "SELECT stream, entry_id, claimed_client_id, event_id, reason FROM rejected_events"
            ).fetchall()
            outbox = [r[0] for r in conn.execute("SELECT draft_id FROM outbox").fetchall()]
            calls = conn.execute(
                "SELECT inbound_message_id, count(*) FROM llm_calls WHERE error IS NULL "
                "AND inbound_message_id IS NOT NULL GROUP BY 1 HAVING count(*) > 1"
            ).fetchall()
        assert self.reader is not None
        with self.reader.lock:
            seen = dict(self.reader.draft_ids)
            by_event = {k: set(v) for k, v in self.reader.by_event.items()}
        with self._push_lock:
            pushed = list(self.pushed)

        drafted = {(c, e) for c, e, *_ in drafts}
        permanent = {(c, e) for _i, c, e, s, k in msgs if s == "failed" and k == "permanent"}
        rejected_entries = {(s, e) for s, e, _c, _ev, _r in rejected}
        rejected_claims = {(c, ev): r for _s, _e, c, ev, r in rejected if c and ev}

        st = Stats()
        st.statuses = dict(
            Counter(s if s != "failed" else f"failed/{k}" for _i, _c, _e, s, k in msgs)
        )
        seen_keys: set[tuple] = set()
        for p in pushed:
            if p.kind.startswith("malformed"):
                key: tuple = ("entry", p.stream, p.entry_id)
                ok = (p.stream, p.entry_id) in rejected_entries
            else:
                key = ("event", p.client_id, p.event_id)
                if key in seen_keys:
                    continue  # pushed twice (a producer retry): one event
                ok = (p.client_id, p.event_id) in drafted or \
                    (p.client_id, p.event_id) in permanent or \
                    (p.client_id, p.event_id) in rejected_claims
                if (p.client_id, p.event_id) in rejected_claims and \
                        (p.client_id, p.event_id) not in drafted:
                    st.valid_set_aside += 1
                    if len(st.set_aside_examples) < 3:
                        st.set_aside_examples.append(
                            f"{p.event_id}: {rejected_claims[(p.client_id, p.event_id)][:200]}")
            seen_keys.add(key)
            st.events += 1
            if ok:
                st.terminal += 1
            elif len(st.lost_examples) < 5:
                st.lost_examples.append(f"{p.kind} {p.stream} {p.entry_id} {p.event_id}")
        st.lost = st.events - st.terminal
        st.permanent_failures = len(permanent)
        st.drafts = len(drafts)
        st.degraded = sum(1 for _c, _e, _m, _d, g, _s in drafts if g)
        in_outbox = set(outbox)
        st.unpublished_by_design = sum(1 for _c, _e, _m, d, *_ in drafts if d not in in_outbox)
        # Every draft with an outbox row must reach the stream (stale chat drafts get none).
        st.drafts_unseen = sum(1 for d in outbox if d not in seen)
        per_message = Counter(m for _c, _e, m, *_ in drafts)
        st.duplicate_drafts = sum(max(0, len(ids) - 1) for ids in by_event.values()) + \
            sum(n - 1 for n in per_message.values() if n > 1)
        st.redelivered = sum(n - 1 for n in seen.values() if n > 1)
        outcomes = self.probe_outcomes()
        # Outcomes of a run that saved a draft (stale/withdrawn: saved, not published).
        wrote = ("drafted", "degraded", "stale", "withdrawn")
        st.duplicate_executions = sum(n - 1 for _m, n in calls) + sum(
            max(0, sum(c[o] for o in wrote) - 1) for c in outcomes.values()
        )
        return st

    def wait_drained(
        self, fault_end: float, limit: float = DRAIN_LIMIT_S
    ) -> tuple[Stats, float | None]:
        """Poll until drained or `limit` seconds after `fault_end` (time.monotonic())."""
        last: Stats | None = None
        last_log = 0.0
        while True:
            self.check_processes()
            try:
                last = self.measure()
            except psycopg.Error:
                pass  # the database is down (scenario 3): keep waiting
            now = time.monotonic()
            if last is not None and last.drained:
                return last, max(0.0, now - fault_end)
            if now > fault_end + limit:
                if last is None:
                    last = Stats()
                return last, None
            if last is not None and now - last_log > 10:
                last_log = now
                log(f"{self.scenario}: {last.terminal}/{last.events} terminal, "
                    f"{last.drafts_unseen} drafts not yet on the stream, {last.statuses}")
            time.sleep(1.0)

    def progress(self) -> tuple[int, int]:
        """(stored messages, drafts), cheaply; (-1, -1) while Postgres is unreachable."""
        try:
            with psycopg.connect(self.pg.dsn, connect_timeout=2) as conn:
                row = conn.execute(
                    "SELECT (SELECT count(*) FROM inbound_messages), (SELECT count(*) FROM drafts)"
                ).fetchone()
                return int(row[0]), int(row[1])
        except psycopg.Error:
            return -1, -1

    def wait_for(  # noqa: ANN001
        self, what: str, check, timeout: float = 120, every: float = 0.1
    ) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            self.check_processes()
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.scenario}: timed out waiting for {what}\n{self.tails()}")
            time.sleep(every)

    # -- tear-down ---------------------------------------------------------------------------

    def stop_product(self) -> None:
        """SIGTERM every agent-runtime process still running; each must exit 0 in time."""
        self.check_processes()
        running = [p for p in self.procs if p.product and p.alive()]
        for p in running:
            p.stopped_by_us = True
            p.signal(signal.SIGTERM, group=False)
        deadline = time.monotonic() + TERM_GRACE_S
        for p in running:
            code = p.wait(max(0.1, deadline - time.monotonic()))
            if code is None:
                self.crashes.append(f"{p.name} did not exit within {TERM_GRACE_S:.0f}s of "
                                    f"SIGTERM:\n{p.tail()}")
            elif code != 0:
                self.crashes.append(f"{p.name} exited with {code} on SIGTERM:\n{p.tail()}")
        for p in self.procs:  # whatever is left, and any child in their groups
            p.signal(signal.SIGKILL)
            p.wait(5)

    def keep_logs(self) -> Path:
        """Copy this scenario's logs where other pytest sessions will not rotate them away."""
        dest = Path(tempfile.gettempdir()) / "agent-runtime-faults" / self.slug
        shutil.rmtree(dest, ignore_errors=True)
        dest.mkdir(parents=True, exist_ok=True)
        for path in [*self.workdir.glob("*.log"), *self.probe_dir.glob("*.jsonl")]:
            shutil.copy(path, dest / path.name)
        return dest

    def close(self) -> None:
        """Stop everything we started and remove the database / cluster. Idempotent."""
        if self._closed:
            return
        self._closed = True
        errors = []
        try:
            if any(p.product and p.alive() for p in self.procs):
                self.stop_product()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        for p in self.procs:
            p.signal(signal.SIGKILL)
            p.wait(5)
        if self.reader:
            self.reader.stop()
        if self.producer is not None:
            self.producer.close()
        if self.llm:
            self.llm._halt.set()
            self.llm.proc.signal(signal.SIGKILL)
            self.llm.proc.wait(5)
        try:
            self.redis.stop(save=False)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        try:
            self.pg.cleanup()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        shutil.rmtree(self.redis.dir, ignore_errors=True)
        if errors:
            raise errors[0]

    def tails(self, lines: int = 12) -> str:
        return "\n".join(f"--- {p.name} ---\n{p.tail(lines)}" for p in self.procs)

    # -- the verdict ---------------------------------------------------------------------------

    def finish(self, stats: Stats, drain_s: float | None, notes: str = "") -> Row:
        """Stop the processes (counting unclean exits), record and print the row."""
        self.stop_product()
        extra = [notes] if notes else []
        if stats.valid_set_aside:
            extra.append(f"{stats.valid_set_aside} valid events set aside")
        if stats.degraded:
            extra.append(f"{stats.degraded} degraded")
        if stats.permanent_failures:
            extra.append(f"{stats.permanent_failures} failed for good")
        if stats.unpublished_by_design:
            extra.append(f"{stats.unpublished_by_design} stale/withdrawn (never published)")
        if stats.redelivered:
            extra.append(f"{stats.redelivered} re-delivered entries")
        row = Row(self.scenario, stats.events, stats.terminal, stats.lost,
                  stats.duplicate_drafts, stats.duplicate_executions, drain_s,
                  len(self.crashes), "; ".join(extra))
        RESULTS.append(row)
        self.row = row
        log(f"RESULT {row.markdown()}")
        if stats.lost_examples:
            log(f"{self.scenario}: lost e.g. {stats.lost_examples} statuses {stats.statuses}")
        if stats.set_aside_examples:
            log(f"{self.scenario}: set aside e.g. {stats.set_aside_examples}")
        for crash in self.crashes:
            log(f"{self.scenario}: {crash}")
        return row


def _is_entry(event: object) -> bool:
    """An already-built stream entry ({b'field': b'value'}) rather than an event to encode."""
    return isinstance(event, dict) and bool(event) and all(isinstance(k, bytes) for k in event)


def assert_targets(row: Row, stats: Stats, *, allow_set_aside: bool = False) -> None:
    problems = []
    if row.lost:
        problems.append(f"{row.lost} lost (e.g. {stats.lost_examples}; statuses {stats.statuses})")
    if row.duplicate_drafts:
        problems.append(f"{row.duplicate_drafts} duplicate drafts")
    if row.crashed:
        problems.append(f"{row.crashed} crashed processes")
    if row.drain_s is None:
        problems.append(f"not drained within {DRAIN_LIMIT_S:.0f}s of the fault's end "
                        f"({stats.drafts_unseen} drafts never seen on the stream)")
    if stats.valid_set_aside and not allow_set_aside:
        problems.append(f"{stats.valid_set_aside} valid events were set aside instead of drafted "
                        f"(e.g. {stats.set_aside_examples})")
    assert not problems, f"{row.scenario}: " + "; ".join(problems)
