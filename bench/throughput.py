"""End-to-end throughput and latency of the real agent-runtime deployment.

What it measures
----------------
N inbound lead events go through the *real* processes, exactly as in production:

    producer (this script) --XADD--> agent:inbound:{chat,email}
        --> `agent-runtime ingress` (validate, store in Postgres, enqueue a Celery task)
        --> `agent-runtime worker`  (claim, recall, LLM call via litellm, save draft, publish)
        --> agent:outbound:drafts --XREAD--> this script

The LLM is the local fake OpenAI-compatible server (tests/support/fake_llm.py) answering after
a fixed --latency, so "pipeline overhead" = end-to-end latency - that latency is what the
runtime itself costs.

Reported: events, drafts, missing drafts, duplicate drafts (a second draftId for one event:
must be 0), wall time, sustained drafts/s = N / (last draft seen - first event sent),
end-to-end latency p50/p95/p99, pipeline overhead p50/p95/p99, max RSS of the worker
process(es) including their children, and CPU seconds (and CPU ms per draft) used by every
component during the measured phase: worker(s), ingress, fake LLM, Postgres and Redis (whole
servers), this script, and "other" = the rest of the machine. On a small shared machine a large
"other" means the numbers are skewed by other jobs; --wait-quiet waits for an idle machine first.

With all events sent at once (the default), end-to-end latency is mostly queueing; use --rate
below the measured drafts/s to see the pipeline's own overhead. Every event opens its own
conversation: a newer message in a conversation supersedes a pending one, which then gets no
draft by design. --profile-dir records the worker(s) and ingress with py-spy (if installed).

Isolation: a fresh Postgres database `bench_<pid>` (dropped at the end) and Redis db 9
(flushed at start and end). Nothing else is touched. Every subprocess is stopped (SIGTERM,
then SIGKILL) and the database dropped even on Ctrl-C or error.

Run from the repository root:

    .venv/bin/python bench/throughput.py --events 5000 --latency 0
    .venv/bin/python bench/throughput.py --events 3000 --latency 1 --concurrency 200 --workers 2
    .venv/bin/python bench/throughput.py --events 1200 --rate 20 --latency 1 --workers 2
    .venv/bin/python bench/throughput.py --events 3000 --latency 1 --procfile   # as deployed
    .venv/bin/python bench/throughput.py --events 3000 --workers 2 --wait-quiet 600 --profile-dir /tmp/prof
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.request
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

import orjson
import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the process harness shared with tests/faults

from tests.support import processes  # noqa: E402
from tests.support.processes import (  # noqa: E402
    CLI,
    Proc,
    free_port,
    run_cli,
    stop_all,
    workers_ready,
)

VENV_BIN = Path(sys.executable).parent
CLIENTS_FILE = ROOT / "worker" / "demo_data" / "clients.json"
EVENTS_FILE = ROOT / "worker" / "demo_data" / "events.json"

CHAT_STREAM = "agent:inbound:chat"
EMAIL_STREAM = "agent:inbound:email"
OUTBOUND_STREAM = "agent:outbound:drafts"
CONSUMER_GROUP = "agent-runtime"
PG_DSN = "postgresql://postgres@127.0.0.1:5432/{db}"
PG_ADMIN_DSN = PG_DSN.format(db="postgres")
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{db}"
# A model litellm has a price for, as in production: for a model it cannot price, litellm
# spends ~1.4 ms more CPU per call looking (7.8 vs 6.4 ms measured in-process).
DEFAULT_MODEL = os.environ.get("BENCH_MODEL", "openai/gpt-4o-mini")
REDIS_URL = "redis://127.0.0.1:6379/{db}"
MB = 1024 * 1024
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Push N events through the real ingress + worker; measure drafts/s and latency.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--events", type=int, default=5000, help="measured events")
    p.add_argument("--latency", type=float, default=0.0, help="fake LLM answer delay, seconds")
    p.add_argument("--rate", type=float, default=0.0, help="events/s to send; 0 = all at once")
    p.add_argument("--concurrency", type=int, default=200, help="pool size of each worker")
    p.add_argument("--workers", type=int, default=1, help="number of worker processes")
    p.add_argument("--pool", default="threads", help="celery pool (threads, prefork, solo, ...)")
    p.add_argument("--procfile", action="store_true",
                   help="run the worker processes the Procfile declares, with its arguments "
                        "(ignores --workers, --concurrency and --pool)")
    p.add_argument("--chat-share", type=float, default=0.7, help="share of events that are chat")
    p.add_argument("--leads", type=int, default=1000, help="distinct leads the events come from")
    p.add_argument("--warmup", type=int, default=50, help="unmeasured events sent first")
    p.add_argument("--timeout", type=float, default=600.0, help="max seconds to wait for drafts")
    p.add_argument("--stall-timeout", type=float, default=120.0,
                   help="stop waiting when no new draft came for this long (0: never)")
    p.add_argument("--redis-db", type=int, default=9, help="dedicated Redis db number (flushed!)")
    p.add_argument("--llm-port", type=int, default=0, help="fake LLM port; 0 = a free one")
    p.add_argument("--extra-env", action="append", default=[], metavar="K=V",
                   help="extra environment for the runtime processes (repeatable)")
    p.add_argument("--log-dir", default=None, help="keep subprocess logs here (default: temp dir)")
    p.add_argument("--json", dest="json_path", default=None, help="also write results as JSON")
    p.add_argument("--profile-dir", default=None,
                   help="if py-spy is installed: record worker(s) and ingress here (GIL samples, "
                        "raw collapsed stacks) during the measured phase")
    p.add_argument("--profile-seconds", type=float, default=30.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--model", default=DEFAULT_MODEL,
                   help="LLM_MODEL of the deployment (the fake server answers any name)")
    p.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS",
                   help="first wait up to this long for the machine to be mostly idle "
                        "(other jobs skew the numbers); 0: start at once")
    return p.parse_args(argv)


# --------------------------------------------------------------------------------------------
# Isolated Postgres database and Redis db
# --------------------------------------------------------------------------------------------


def create_database(name: str) -> None:
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(name: str) -> None:
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def analyze(db_name: str) -> None:
    """Planner statistics, as a production database has them (autovacuum analyzes its tables).
    A fresh bench database has none until autovacuum's first pass, possibly mid-run, and plans
    chosen without them read, per claim, every lead of the client."""
    with psycopg.connect(PG_DSN.format(db=db_name), autocommit=True) as conn:
        conn.execute("ANALYZE")


def message_status_counts(db_name: str) -> dict[str, int]:
    """How the stored messages ended up; explains missing drafts."""
    try:
        with psycopg.connect(PG_DSN.format(db=db_name)) as conn:
            rows = conn.execute(
                "SELECT status || coalesce('/' || failure_kind, ''), count(*)"
                " FROM inbound_messages GROUP BY 1"
            ).fetchall()
            rejected = conn.execute("SELECT count(*) FROM rejected_events").fetchone()[0]
            unpublished = conn.execute(
                "SELECT count(*) FROM outbox WHERE published_at IS NULL"
            ).fetchone()[0]
    except psycopg.Error as exc:
        return {"error": str(exc)[:200]}  # type: ignore[dict-item]
    out = {f"messages_{s}": n for s, n in rows}
    out["rejected_events"] = rejected
    out["outbox_unpublished"] = unpublished
    return out


def runtime_env(
    args: argparse.Namespace, db_name: str, llm_port: int, model: str = DEFAULT_MODEL
) -> dict[str, str]:
    """The deployment's environment; chat_latency.py and fairness.py use it too."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=PG_URL.format(db=db_name),
        REDIS_URL=REDIS_URL.format(db=args.redis_db),
        LEAD_HASH_KEY="bench",
        LLM_MODEL=model,
        LLM_API_BASE=f"http://127.0.0.1:{llm_port}/v1",
        LLM_API_KEY="sk-bench",
        LITELLM_LOCAL_MODEL_COST_MAP="True",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
        # Chats are drafted at once here (production waits BURST_WINDOW_CHAT_SECONDS, 2 s, for
        # a lead's next line): the latencies printed are the pipeline's own.
        BURST_WINDOW_CHAT_SECONDS="0",
    )
    env.pop("BROKER_URL", None)
    for item in args.extra_env:
        key, _, value = item.partition("=")
        env[key] = value
    return env


# --------------------------------------------------------------------------------------------
# Subprocesses
# --------------------------------------------------------------------------------------------


class Processes:
    """Every subprocess this script started; stopped together, whatever happens."""

    def __init__(self, log_dir: Path, env: dict[str, str]):
        self.log_dir = log_dir
        self.env = env
        self.children: list[Proc] = []

    def start(self, name: str, argv: list[str]) -> Proc:
        child = Proc(name, argv, self.env, self.log_dir / f"{name}.log").start(append=False)
        self.children.append(child)
        return child

    def check_alive(self) -> None:
        for child in self.children:
            if not child.optional and not child.alive():
                raise RuntimeError(
                    f"{child.name} exited with {child.popen.returncode}; log tail:\n"
                    f"{child.tail(30)}"
                )

    def stop_all(self, grace: float = 8.0) -> None:
        stop_all(self.children, grace)


def wait_until(what: str, check, timeout: float, procs: Processes, every: float = 0.2) -> None:  # noqa: ANN001
    """Poll `check` until it returns true; it may raise NotReady (or anything) to say why not."""
    processes.wait_until(what, check, timeout, every=every, still_running=procs.check_alive)


def llm_ready(port: int) -> bool:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as resp:
        return resp.status == 200


def llm_stats(port: int) -> dict[str, int]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stats", timeout=2) as resp:
            return json.loads(resp.read())
    except OSError:
        return {}


def ingress_ready(r: redis.Redis) -> bool:
    return processes.ingress_ready(r, (CHAT_STREAM, EMAIL_STREAM), CONSUMER_GROUP)


def worker_commands(args: argparse.Namespace) -> list[list[str]]:
    """The worker processes to start: with --procfile exactly as the Procfile declares them (one
    of each line that runs `agent-runtime worker`, so it measures the deployment that ships),
    else --workers alike ones."""
    if not args.procfile:
        return [[CLI, "worker", f"--pool={args.pool}", f"--concurrency={args.concurrency}"]
                for _ in range(args.workers)]
    commands = []
    for line in (ROOT / "Procfile").read_text().splitlines():
        _, _, command = line.partition(":")
        argv = shlex.split(command)
        if argv[:2] == ["agent-runtime", "worker"]:
            commands.append([CLI, *argv[1:]])
    return commands


def workers_label(args: argparse.Namespace) -> str:
    if args.procfile:
        return "the Procfile's: " + ", ".join(" ".join(argv[1:]) for argv in args.worker_commands)
    return f"{args.pool} / {args.concurrency} / {args.workers}"


def start_deployment(
    args: argparse.Namespace, procs: Processes, r: redis.Redis, llm_port: int
) -> tuple[Proc, Proc, list[Proc]]:
    py = sys.executable
    llm = procs.start(
        "fake_llm",
        [py, "-m", "tests.support.fake_llm", "--port", str(llm_port), "--latency", str(args.latency)],
    )
    wait_until("fake LLM", lambda: llm_ready(llm_port), 30, procs)

    ingress = procs.start("ingress", [CLI, "ingress"])
    host = socket.gethostname()
    names = [f"bench{i}@{host}" for i in range(1, len(args.worker_commands) + 1)]
    workers = [
        procs.start(f"worker{i}", [*argv, "-n", f"bench{i}@%h"])
        for i, argv in enumerate(args.worker_commands, start=1)
    ]
    wait_until("ingress", lambda: ingress_ready(r), 60, procs)
    broker = REDIS_URL.format(db=args.redis_db)
    wait_until("worker(s)", lambda: workers_ready(broker, names), 120, procs, every=0.5)
    return llm, ingress, workers


# --------------------------------------------------------------------------------------------
# /proc sampling: RSS of the workers, CPU time of every component
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcInfo:
    ppid: int
    comm: str
    cpu_s: float  # utime + stime so far


def scan_proc() -> dict[int, ProcInfo]:
    """One pass over /proc/*/stat: parent, name and CPU time of every process."""
    out: dict[int, ProcInfo] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue  # gone meanwhile
        head, _, tail = stat.rpartition(")")
        fields = tail.split()
        comm = head.partition("(")[2]
        out[int(entry)] = ProcInfo(int(fields[1]), comm, (int(fields[11]) + int(fields[12])) / CLK_TCK)
    return out


def process_tree(root: int, procs: dict[int, ProcInfo]) -> list[int]:
    kids: dict[int, list[int]] = defaultdict(list)
    for pid, info in procs.items():
        kids[info.ppid].append(pid)
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid in procs:
            out.append(pid)
        todo.extend(kids.get(pid, []))
    return out


def machine_busy_seconds() -> float:
    """CPU time all cores spent on anything but idle and I/O wait, since boot (/proc/stat)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def wait_for_quiet(max_wait: float, busy_below: float = 0.25, window: float = 5.0) -> None:
    """Wait until the machine's cores were busy less than `busy_below` over `window` seconds."""
    cores = os.cpu_count() or 1
    deadline = time.monotonic() + max_wait
    while True:
        before = machine_busy_seconds()
        time.sleep(window)
        busy = (machine_busy_seconds() - before) / (window * cores)
        if busy < busy_below:
            print(f"[bench] machine quiet ({busy:.0%} busy)")
            return
        if time.monotonic() > deadline:
            print(f"[bench] machine still {busy:.0%} busy after {max_wait:.0f}s; starting anyway")
            return


def rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class Sampler(threading.Thread):
    """Every 0.5 s: RSS of each worker's process tree (max kept) and CPU time per component.

    CPU is summed over each component's processes; a process seen once is remembered with its
    last reading, so short-lived ones (e.g. Postgres backends) still count.
    """

    def __init__(self, components: dict[str, int], external: dict[str, str], interval: float = 0.5):
        super().__init__(daemon=True)
        self.components = components  # name -> root pid (its whole process tree)
        self.external = external  # name -> process name (comm), e.g. postgres, redis-server
        self.interval = interval
        self.max_worker_rss = 0
        self.max_rss_by_worker: dict[str, int] = defaultdict(int)
        self._cpu: dict[str, dict[int, float]] = defaultdict(dict)
        self._start_cpu: dict[str, float] = {}
        self._halt = threading.Event()
        self._lock = threading.Lock()

    def _sample(self) -> None:
        procs = scan_proc()
        total_worker_rss = 0
        with self._lock:
            for name, root in self.components.items():
                tree = process_tree(root, procs)
                for pid in tree:
                    self._cpu[name][pid] = procs[pid].cpu_s
                if name.startswith("worker"):
                    rss = sum(rss_bytes(pid) for pid in tree)
                    self.max_rss_by_worker[name] = max(self.max_rss_by_worker[name], rss)
                    total_worker_rss += rss
            for name, comm in self.external.items():
                for pid, info in procs.items():
                    if info.comm == comm:
                        self._cpu[name][pid] = info.cpu_s
            if os.getpid() in procs:
                self._cpu["bench"][os.getpid()] = procs[os.getpid()].cpu_s
            self.max_worker_rss = max(self.max_worker_rss, total_worker_rss)

    def cpu_totals(self) -> dict[str, float]:
        with self._lock:
            return {name: sum(per_pid.values()) for name, per_pid in self._cpu.items()}

    def mark(self) -> None:
        """Start of the measured phase: CPU is reported relative to this moment."""
        self._sample()
        self._start_cpu = self.cpu_totals()
        self._start_machine = machine_busy_seconds()

    def cpu_since_mark(self) -> dict[str, float]:
        self._sample()
        now = self.cpu_totals()
        used = {k: round(v - self._start_cpu.get(k, 0.0), 2) for k, v in now.items()}
        # Whatever else ran on the machine meanwhile (other jobs skew the numbers).
        machine = machine_busy_seconds() - self._start_machine
        used["other"] = round(max(0.0, machine - sum(used.values())), 2)
        return used

    def run(self) -> None:
        while not self._halt.wait(self.interval):
            try:
                self._sample()
            except Exception:  # noqa: BLE001 - a process vanished mid-read
                pass

    def stop(self) -> None:
        self._halt.set()


# --------------------------------------------------------------------------------------------
# Events in, drafts out
# --------------------------------------------------------------------------------------------


def sample_texts() -> tuple[list[str], list[tuple[str, str]]]:
    """Chat texts and (subject, body) e-mail texts, taken from the demo events."""
    # Some demo entries are deliberately malformed (no payload, not JSON): skip those.
    events = [e for e in json.loads(EVENTS_FILE.read_text()) if isinstance(e.get("payload"), dict)]
    with_text = [e for e in events if isinstance(e["payload"].get("message"), str)]
    chats = [e["payload"]["message"] for e in with_text if e["channel"] == "chat"]
    mails = [
        (e["payload"].get("subject") or "Enquiry", e["payload"]["message"])
        for e in with_text
        if e["channel"] == "email"
    ]
    return chats or ["Hi, is this still available?"], mails or [("Enquiry", "Hello, more details please.")]


@dataclass
class EventFactory:
    run_id: str
    clients: list[str]
    chat_share: float
    leads: int
    rng: random.Random
    chats: list[str] = field(default_factory=list)
    mails: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.chats, self.mails = sample_texts()

    def make(self, prefix: str, i: int) -> tuple[str, dict]:
        """(stream, event) for the i-th event; clients alternate, leads repeat."""
        client = self.clients[i % len(self.clients)]
        lead = self.rng.randrange(self.leads)
        event_id = f"{prefix}-{self.run_id}-{i}"
        if self.rng.random() < self.chat_share:
            return CHAT_STREAM, {
                "eventId": event_id,
                "clientId": client,
                # One chat session per event: a lead writing twice in one session would (by
                # design) leave the older message superseded, not drafted.
                "conversationId": f"web-{event_id}",
                "leadId": f"lead-{lead}",
                "leadName": f"Lead {lead}",
                "message": f"{self.rng.choice(self.chats)} (#{i})",
            }
        subject, body = self.rng.choice(self.mails)
        return EMAIL_STREAM, {
            "eventId": event_id,
            "clientId": client,
            "leadEmail": f"lead{lead}@example.com",
            "leadName": f"Lead {lead}",
            "subject": subject,
            "messageId": f"<{event_id}@bench.example>",
            "message": f"{body}\n\n(#{i})",
        }


def send_events(
    r: redis.Redis,
    factory: EventFactory,
    prefix: str,
    count: int,
    rate: float,
    sent_at: dict[str, float],
    chunk: int = 250,
) -> tuple[float, float]:
    """Append `count` events; records eventId -> send time (taken just before each pipeline
    batch). Returns (first batch start, last batch appended)."""
    first = last = 0.0
    t0 = time.time()
    i = 0
    while i < count:
        if rate > 0:
            due = min(count, int((time.time() - t0) * rate) + 1)
            if due <= i:
                time.sleep(max(0.0, t0 + i / rate - time.time()))
                continue
            end = due
        else:
            end = min(count, i + chunk)
        now = time.time()
        pipe = r.pipeline(transaction=False)
        for n in range(i, end):
            stream, event = factory.make(prefix, n)
            event["metadata"] = {"benchSentAt": now}
            pipe.xadd(stream, {"payload": orjson.dumps(event)})
            sent_at[event["eventId"]] = now
        pipe.execute()
        first = first or now
        last = time.time()
        i = end
    return first, last


@dataclass
class Seen:
    """What the outbound reader saw."""

    by_draft: dict[str, tuple[str, float]] = field(default_factory=dict)  # draftId -> (eventId, t)
    drafts_per_event: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    first_seen: dict[str, float] = field(default_factory=dict)  # eventId -> first draft time
    redelivered_entries: int = 0  # same draftId seen again: allowed (at-least-once)
    degraded: int = 0
    foreign: int = 0  # drafts for events this phase did not send (e.g. warm-up)


class OutboundReader(threading.Thread):
    """XREAD the outbound stream from '0' until every expected eventId has a draft."""

    def __init__(self, redis_url: str, expected: set[str] | None = None):
        super().__init__(daemon=True)
        self.r = redis.Redis.from_url(redis_url)
        self.expected: set[str] = expected if expected is not None else set()
        self.seen = Seen()
        self.last_id = b"0"
        self.done = threading.Event()
        self._halt = threading.Event()
        self.error: BaseException | None = None

    def expect(self, ids: set[str]) -> None:
        self.expected = ids
        self._check_done()

    def _check_done(self) -> None:
        if self.expected and self.expected.issubset(self.seen.first_seen):
            self.done.set()

    def run(self) -> None:
        try:
            while not self._halt.is_set():
                resp = self.r.xread({OUTBOUND_STREAM: self.last_id}, count=2000, block=500)
                now = time.time()
                for _stream, entries in resp or []:
                    for entry_id, fields in entries:
                        self.last_id = entry_id
                        self._take(orjson.loads(fields[b"payload"]), now)
                self._check_done()
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            self.error = exc
            self.done.set()

    def _take(self, draft: dict, now: float) -> None:
        s = self.seen
        draft_id, event_id = draft["draftId"], draft["eventId"]
        if draft_id in s.by_draft:
            s.redelivered_entries += 1
            return
        s.by_draft[draft_id] = (event_id, now)
        s.drafts_per_event[event_id].add(draft_id)
        s.first_seen.setdefault(event_id, now)
        s.degraded += bool(draft.get("degraded"))

    def progress(self) -> int:
        return len(self.expected.intersection(self.seen.first_seen))

    def wait(self, timeout: float, procs: Processes, stall: float = 0.0,
             report_every: float = 0.0) -> bool:
        """True once every expected event has a draft; False at the timeout, or when no new
        draft came for `stall` seconds (0: never give up early)."""
        start = last_change = last_report = time.monotonic()
        last_count = -1
        while time.monotonic() - start < timeout:
            if self.done.wait(1.0):
                if self.error:
                    raise self.error
                return True
            procs.check_alive()
            now, count = time.monotonic(), self.progress()
            if count != last_count:
                last_count, last_change = count, now
            elif stall and now - last_change > stall:
                print(f"[bench] no new draft for {stall:.0f}s; giving up")
                return False
            if report_every and now - last_report >= report_every:
                last_report = now
                print(f"[bench] {now - start:5.0f}s  {count}/{len(self.expected)} drafts")
        return False

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=3)


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


@dataclass
class Result:
    events: int
    drafts: int
    missing: int
    duplicates: int
    redelivered_entries: int
    degraded: int
    wall_s: float
    send_s: float
    drafts_per_s: float
    e2e_ms: dict[str, float]
    overhead_ms: dict[str, float]
    worker_max_rss_mb: float
    worker_max_rss_mb_each: dict[str, float]
    cpu_s: dict[str, float]
    llm_requests: int
    db: dict[str, int]
    config: dict[str, object]


def start_profilers(args: argparse.Namespace, procs: Processes, targets: list[Proc]) -> None:
    """py-spy on each target: only the thread holding the GIL is sampled, i.e. Python CPU time."""
    py_spy = VENV_BIN / "py-spy"
    if not py_spy.exists():
        print("[bench] --profile-dir given but py-spy is not installed; not profiling")
        return
    out = Path(args.profile_dir)
    out.mkdir(parents=True, exist_ok=True)
    for target in targets:
        procs.start(f"py-spy-{target.name}", [
            str(py_spy), "record", "--pid", str(target.pid), "--gil", "--nonblocking",
            "--rate", "50", "--duration", str(int(args.profile_seconds)), "--format", "raw",
            "--output", str(out / f"{target.name}.raw"),
        ]).optional = True


def git_revision() -> str:
    """The code measured: commit, plus '+dirty' when the work tree has changes."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                              capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def summarize(
    args: argparse.Namespace,
    sent_at: dict[str, float],
    seen: Seen,
    first_send: float,
    last_send: float,
    finished: float,
    sampler: Sampler,
    cpu: dict[str, float],
    llm_requests: int,
    db: dict[str, int],
) -> Result:
    measured = set(sent_at)
    got = [e for e in measured if e in seen.first_seen]
    latencies = [(seen.first_seen[e] - sent_at[e]) * 1000 for e in got]
    overhead = [ms - args.latency * 1000 for ms in latencies]
    duplicates = sum(len(seen.drafts_per_event[e]) - 1 for e in got)
    last_draft = max((seen.first_seen[e] for e in got), default=first_send)
    span = last_draft - first_send
    qs = {"p50": 0.50, "p95": 0.95, "p99": 0.99}
    return Result(
        events=len(measured),
        drafts=len(got),
        missing=len(measured) - len(got),
        duplicates=duplicates,
        redelivered_entries=seen.redelivered_entries,
        degraded=seen.degraded,
        wall_s=round(finished - first_send, 2),
        send_s=round(last_send - first_send, 3),
        drafts_per_s=round(len(got) / span, 1) if span > 0 else 0.0,
        e2e_ms={k: round(percentile(latencies, q), 1) for k, q in qs.items()},
        overhead_ms={k: round(percentile(overhead, q), 1) for k, q in qs.items()},
        worker_max_rss_mb=round(sampler.max_worker_rss / MB, 1),
        worker_max_rss_mb_each={k: round(v / MB, 1) for k, v in sampler.max_rss_by_worker.items()},
        cpu_s=cpu,
        llm_requests=llm_requests,
        db=db,
        config={
            "pool": args.pool, "concurrency": args.concurrency, "workers": args.workers,
            "procfile": args.procfile, "workers_label": workers_label(args),
            "latency_s": args.latency, "rate": args.rate or "max", "cores": os.cpu_count(),
            "extra_env": args.extra_env, "revision": args.revision,
        },
    )


def print_table(res: Result) -> None:
    c = res.config
    rows = [
        ("code revision", c["revision"]),
        ("pool / concurrency / workers", c["workers_label"]),
        ("fake LLM latency", f"{c['latency_s']} s"),
        ("send rate", f"{c['rate']} events/s (sent in {res.send_s} s)"),
        ("events", res.events),
        ("drafts", res.drafts),
        ("missing", res.missing),
        ("duplicate drafts (extra draftIds)", res.duplicates),
        ("re-delivered entries (same draftId)", res.redelivered_entries),
        ("degraded drafts", res.degraded),
        ("LLM requests (fake server)", res.llm_requests),
        ("wall time", f"{res.wall_s} s"),
        ("drafts/s sustained", res.drafts_per_s),
        ("end-to-end ms p50/p95/p99", "{p50} / {p95} / {p99}".format(**res.e2e_ms)),
        ("pipeline overhead ms p50/p95/p99", "{p50} / {p95} / {p99}".format(**res.overhead_ms)),
        ("worker max RSS (all workers)", f"{res.worker_max_rss_mb} MB"),
    ]
    if len(res.worker_max_rss_mb_each) > 1:
        rows.append(("worker max RSS each", ", ".join(
            f"{k}={v} MB" for k, v in sorted(res.worker_max_rss_mb_each.items()))))
    busy = sum(res.cpu_s.values())
    cpu_text = ", ".join(f"{k} {v}" for k, v in sorted(res.cpu_s.items(), key=lambda kv: -kv[1]))
    rows.append(("CPU s in measured phase", f"{cpu_text} (total {busy:.1f} of "
                 f"{res.wall_s * (os.cpu_count() or 1):.1f} core-s; postgres and redis are the "
                 "whole servers, other = rest of the machine)"))
    if res.drafts:
        per_draft = ", ".join(
            f"{k} {1000 * v / res.drafts:.1f}" for k, v in sorted(res.cpu_s.items(), key=lambda kv: -kv[1])
            if k != "other"
        )
        rows.append(("CPU ms per draft", per_draft))
    if res.db:
        rows.append(("database afterwards", ", ".join(f"{k}={v}" for k, v in sorted(res.db.items()))))
    width = max(len(k) for k, _ in rows)
    line = "-" * (width + 40)
    print(line)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    print(line)


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def run(args: argparse.Namespace, procs: Processes, db_name: str, llm_port: int) -> Result:
    env = procs.env
    redis_url = REDIS_URL.format(db=args.redis_db)
    r = redis.Redis.from_url(redis_url)
    r.flushdb()

    print(f"[bench] database {db_name}, redis db {args.redis_db}, logs in {procs.log_dir}, "
          f"model (LLM_MODEL) {args.model}")
    run_cli(env, "migrate")
    clients = json.loads(CLIENTS_FILE.read_text())
    for client_id, config in clients.items():
        path = procs.log_dir / f"{client_id}.json"
        path.write_text(json.dumps(config))
        run_cli(env, "config", "set", client_id, "--file", str(path))

    t = time.time()
    llm, ingress, workers = start_deployment(args, procs, r, llm_port)
    print(f"[bench] deployment ready in {time.time() - t:.1f}s "
          f"(workers: {workers_label(args)})")

    sampler = Sampler(
        {"ingress": ingress.pid, "fake_llm": llm.pid}
        | {w.name: w.pid for w in workers},
        {"postgres": "postgres", "redis": "redis-server"},
    )
    sampler.start()
    factory = EventFactory(f"{os.getpid()}", list(clients), args.chat_share, args.leads,
                           random.Random(args.seed))
    reader = OutboundReader(redis_url)
    reader.start()
    try:
        if args.warmup:
            warm: dict[str, float] = {}
            send_events(r, factory, "warm", args.warmup, 0, warm)
            reader.expect(set(warm))
            if not reader.wait(120, procs):
                raise TimeoutError(f"warm-up: only {len(set(warm) & set(reader.seen.first_seen))}"
                                   f" of {args.warmup} drafts after 120s")
            reader.done.clear()
            print(f"[bench] warm-up: {args.warmup} drafts")
        analyze(db_name)

        sent_at: dict[str, float] = {}
        interrupted = False
        ids = {f"ev-{factory.run_id}-{i}" for i in range(args.events)}
        reader.expect(ids)
        reader.done.clear()
        sampler.mark()
        llm_before = sum(llm_stats(llm_port).values())
        if args.profile_dir:
            start_profilers(args, procs, [*workers, ingress])
        print(f"[bench] sending {args.events} events "
              f"({'as fast as possible' if not args.rate else f'{args.rate}/s'}) ...")
        first, last = send_events(r, factory, "ev", args.events, args.rate, sent_at)
        assert set(sent_at) == ids
        remaining = args.timeout - (time.time() - first)
        try:
            complete = reader.wait(remaining, procs, args.stall_timeout, report_every=15)
        except KeyboardInterrupt:
            complete, interrupted = False, True
            print("[bench] interrupted: results so far")
        finished = time.time()
        if not complete:
            print(f"[bench] stopped waiting after {finished - first:.0f}s: "
                  f"{reader.progress()} of {args.events} drafts")
        if not interrupted:
            time.sleep(1.0)  # late duplicates, if any, still get counted
        cpu = sampler.cpu_since_mark()
        llm_requests = sum(llm_stats(llm_port).values()) - llm_before
    finally:
        reader.stop()
        sampler.stop()
    return summarize(args, sent_at, reader.seen, first, last, finished, sampler, cpu,
                     llm_requests, message_status_counts(db_name))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.worker_commands = worker_commands(args)
    args.revision = git_revision()  # before any process imports the code
    db_name = f"bench_{os.getpid()}"
    llm_port = args.llm_port or free_port()
    log_dir = Path(args.log_dir) if args.log_dir else Path(tempfile.mkdtemp(prefix="bench-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    procs = Processes(log_dir, runtime_env(args, db_name, llm_port, args.model))

    def _on_term(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _on_term)
    if args.wait_quiet:
        wait_for_quiet(args.wait_quiet)
    result: Result | None = None
    status = 1
    create_database(db_name)
    try:
        result = run(args, procs, db_name, llm_port)
        status = 0 if result.missing == 0 and result.duplicates == 0 else 2
    except KeyboardInterrupt:
        print("[bench] interrupted", file=sys.stderr)
        status = 130
    except Exception as exc:  # noqa: BLE001 - reported, then cleaned up
        traceback.print_exc()
        print(f"[bench] failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        for child in procs.children:
            print(f"--- {child.name} log tail ---\n{child.tail(15)}", file=sys.stderr)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # cleanup must not be interrupted
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        procs.stop_all()
        try:
            drop_database(db_name)
        except psycopg.Error as exc:
            print(f"[bench] warning: could not drop {db_name}: {exc}", file=sys.stderr)
        try:
            redis.Redis.from_url(REDIS_URL.format(db=args.redis_db)).flushdb()
        except redis.RedisError:
            pass
    if result is not None:
        print_table(result)
        if args.json_path:
            Path(args.json_path).write_text(json.dumps(asdict(result), indent=2))
            print(f"[bench] results written to {args.json_path}")
    return status


if __name__ == "__main__":
    sys.exit(main())
