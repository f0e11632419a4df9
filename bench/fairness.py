"""Per-tenant fairness on the real deployment: one tenant's e-mail backlog against another's trickle.

Tenant A pushes --backlog e-mails into `agent:inbound:email` at once; right after, tenant B sends
--b-rate e-mails per second until A's last draft is seen on `agent:outbound:drafts` (or
--b-max-seconds). The model is tests/support/fake_llm.py answering after --latency seconds.
Each e-mail is timed from XADD to its draft on the outbound stream.

Printed: A's drain time (first A XADD to A's last draft), A's and B's end-to-end p50/p95/max,
B's p95 as a share of A's drain (target < 0.2, and B's p95 < 2 s), how many of B's drafts came
before A's last one, and missing or duplicate drafts. FIFO gives B about the whole drain time.

Processes: `agent-runtime ingress` and --workers `agent-runtime worker` processes (all queues),
as in the Procfile without the chat worker. Isolation and clean-up as in bench/throughput.py
(own database `fairbench_<pid>`, Redis db --redis-db flushed before and after).

    .venv/bin/python bench/fairness.py --backlog 3000 --b-rate 2 --latency 0.5
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import sys
import tempfile
import time
from pathlib import Path

import orjson
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))
import throughput as tp  # noqa: E402 - the deployment helpers live there

TENANT_A = "northside-motors"
TENANT_B = "lakeview-homes"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--backlog", type=int, default=3000, help="tenant A's e-mails, pushed at once")
    p.add_argument("--b-rate", type=float, default=2.0, help="tenant B's e-mails per second")
    p.add_argument("--b-max-seconds", type=float, default=300.0,
                   help="B stops sending after this long even if A is not drained")
    p.add_argument("--latency", type=float, default=0.5, help="fake LLM answer delay, seconds")
    p.add_argument("--workers", type=int, default=1, help="worker processes (all queues)")
    p.add_argument("--concurrency", type=int, default=200, help="threads of each worker")
    p.add_argument("--warmup", type=int, default=10, help="unmeasured e-mails drafted first")
    p.add_argument("--timeout", type=float, default=900.0, help="max seconds for everything")
    p.add_argument("--redis-db", type=int, default=7, help="dedicated Redis db (flushed!)")
    p.add_argument("--extra-env", action="append", default=[], metavar="K=V")
    p.add_argument("--log-dir", default=None)
    p.add_argument("--seed", type=int, default=1)
    return p.parse_args(argv)


def start(args: argparse.Namespace, procs: tp.Processes, r: redis.Redis, llm_port: int) -> None:
    py = sys.executable
    procs.start("fake_llm", [py, "-m", "tests.support.fake_llm", "--port", str(llm_port),
                             "--latency", str(args.latency)])
    tp.wait_until("fake LLM", lambda: tp.llm_ready(llm_port), 30, procs)
    procs.start("ingress", [tp.CLI, "ingress"])
    host = socket.gethostname()
    names = []
    for i in range(1, args.workers + 1):
        procs.start(f"worker{i}", [tp.CLI, "worker", f"--concurrency={args.concurrency}",
                                   "-n", f"fairbench{i}@%h"])
        names.append(f"fairbench{i}@{host}")
    tp.wait_until("ingress", lambda: tp.ingress_ready(r), 60, procs)
    broker = tp.REDIS_URL.format(db=args.redis_db)
    tp.wait_until("worker(s)", lambda: tp.workers_ready(broker, names), 120, procs, every=0.5)


def email(tenant: str, event_id: str, i: int, rng: random.Random,
          mails: list[tuple[str, str]]) -> dict:
    subject, body = rng.choice(mails)
    # Every e-mail its own lead and thread: nothing is superseded, every one must be drafted.
    return {"eventId": event_id, "clientId": tenant, "leadEmail": f"{event_id}@example.com",
            "subject": subject, "messageId": f"<{event_id}@fair.example>",
            "message": f"{body}\n\n(#{i})"}


def push(r: redis.Redis, events: list[dict], sent: dict[str, float]) -> None:
    for start in range(0, len(events), 500):
        now = time.time()
        pipe = r.pipeline(transaction=False)
        for event in events[start:start + 500]:
            pipe.xadd(tp.EMAIL_STREAM, {"payload": orjson.dumps(event)})
            sent[event["eventId"]] = now
        pipe.execute()


def run(args: argparse.Namespace, procs: tp.Processes, db_name: str, llm_port: int) -> dict:
    env = procs.env
    r = redis.Redis.from_url(tp.REDIS_URL.format(db=args.redis_db))
    r.flushdb()
    print(f"[bench] redis db {args.redis_db}, logs in {procs.log_dir}")
    tp.run_cli(env, "migrate")
    clients = json.loads(tp.CLIENTS_FILE.read_text())
    for client_id in (TENANT_A, TENANT_B):
        path = procs.log_dir / f"{client_id}.json"
        path.write_text(json.dumps(clients[client_id]))
        tp.run_cli(env, "config", "set", client_id, "--file", str(path))
    start(args, procs, r, llm_port)
    reader = tp.OutboundReader(tp.REDIS_URL.format(db=args.redis_db))
    reader.start()
    rng = random.Random(args.seed)
    _, mails = tp.sample_texts()
    sent_a: dict[str, float] = {}
    sent_b: dict[str, float] = {}
    try:
        warm = [email((TENANT_A, TENANT_B)[i % 2], f"warm-{i}", i, rng, mails)
                for i in range(args.warmup)]
        reader.expect({e["eventId"] for e in warm})
        push(r, warm, {})
        if warm and not reader.wait(120, procs):
            raise TimeoutError("warm-up e-mails were not drafted within 120 s")
        tp.analyze(db_name)  # planner statistics, as in production
        a_ids = {f"a-{i}" for i in range(args.backlog)}
        reader.expect(a_ids)
        reader.done.clear()
        push(r, [email(TENANT_A, f"a-{i}", i, rng, mails) for i in range(args.backlog)], sent_a)
        a_start = min(sent_a.values())
        print(f"[bench] {args.backlog} e-mails of {TENANT_A} pushed in "
              f"{time.time() - a_start:.1f}s; {TENANT_B} sends {args.b_rate}/s")
        i = 0
        b_start = time.time()
        deadline = a_start + args.timeout
        while not reader.done.is_set() and time.time() < min(deadline, b_start + args.b_max_seconds):
            due = b_start + i / args.b_rate
            time.sleep(max(0.0, due - time.time()))
            event = email(TENANT_B, f"b-{i}", i, rng, mails)
            sent_b[event["eventId"]] = time.time()
            r.xadd(tp.EMAIL_STREAM, {"payload": orjson.dumps(event)})
            i += 1
            if i % 20 == 0:
                procs.check_alive()
                done_a = sum(1 for e in list(reader.seen.first_seen) if e.startswith("a-"))
                print(f"[bench] t={time.time() - a_start:5.1f}s A drafted {done_a}, B sent {i}")
        reader.done.clear()  # set when A was drained; now wait for B's as well
        reader.expect(a_ids | set(sent_b))
        complete = reader.wait(max(10.0, deadline - time.time()), procs, stall=120)
    finally:
        reader.stop()
    seen = reader.seen.first_seen
    lat_a = [seen[e] - t for e, t in sent_a.items() if e in seen]
    lat_b = [seen[e] - t for e, t in sent_b.items() if e in seen]
    a_last = max((seen[e] for e in sent_a if e in seen), default=float("nan"))
    drain = a_last - a_start
    b_p95 = tp.percentile(lat_b, 0.95)
    sent_all = {**sent_a, **sent_b}
    dup = sum(len(reader.seen.drafts_per_event[e]) - 1 for e in sent_all
              if reader.seen.drafts_per_event.get(e))
    return {
        "setup": f"1 ingress, {args.workers} worker(s) x {args.concurrency} threads, "
                 f"model latency {args.latency * 1000:.0f} ms",
        "complete": complete,
        "A e-mails / B e-mails": f"{len(sent_a)} / {len(sent_b)}",
        "missing drafts (A / B)": f"{len(sent_a) - len(lat_a)} / {len(sent_b) - len(lat_b)}",
        "duplicate drafts": dup,
        "A drain time s": round(drain, 1),
        "A latency s p50 / p95 / max": _pcts(lat_a),
        "B latency s p50 / p95 / max": _pcts(lat_b),
        "B p95 / A drain (target < 0.2)": round(b_p95 / drain, 3) if drain > 0 else "-",
        "B p95 < 2 s": b_p95 < 2.0,
        "B drafts before A's last": sum(1 for e in sent_b if e in seen and seen[e] < a_last),
    }


def _pcts(values: list[float]) -> str:
    if not values:
        return "-"
    return (f"{tp.percentile(values, 0.5):.2f} / {tp.percentile(values, 0.95):.2f} / "
            f"{max(values):.2f}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    db_name = f"fairbench_{os.getpid()}"
    llm_port = tp.free_port()
    log_dir = Path(args.log_dir) if args.log_dir else Path(tempfile.mkdtemp(prefix="fairbench-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    targs = argparse.Namespace(redis_db=args.redis_db, extra_env=args.extra_env)
    procs = tp.Processes(log_dir, tp.runtime_env(targs, db_name, llm_port))
    tp.create_database(db_name)
    result = None
    try:
        result = run(args, procs, db_name, llm_port)
    finally:
        procs.stop_all()
        tp.drop_database(db_name)
        redis.Redis.from_url(tp.REDIS_URL.format(db=args.redis_db)).flushdb()
    width = max(len(k) for k in result)
    print(f"revision {tp.git_revision()}")
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
