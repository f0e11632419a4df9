"""Chat draft latency behind an e-mail backlog, on the real deployment.

A person waits on a chat; thousands of e-mails may be waiting too. This pushes --emails e-mail
events into `agent:inbound:email` at once, then, while that backlog is being worked through,
sends one chat message every --chat-every seconds and times each from XADD to its draft on
`agent:outbound:drafts`. The model is tests/support/fake_llm.py answering after --latency
seconds, so "overhead" = chat latency - model latency; the target is p95 overhead <= 100 ms.

Processes, as in the Procfile: `agent-runtime ingress`, --workers `agent-runtime worker`
processes taking every queue, and with --chat-worker one more `agent-runtime worker
--queues=drafts.chat` (the Procfile's `chatworker`) that takes chats only, so a chat never
waits for a thread, or for the GIL, behind e-mail drafts. Printed: chat latency and overhead
p50/p95/max, how many e-mails were still undrafted ahead of each chat (min/median), e-mail
drafts/s meanwhile, duplicate or missing chat drafts.

Isolation and clean-up as in bench/throughput.py (own database, Redis db 8 flushed).

    .venv/bin/python bench/chat_latency.py --emails 10000 --chats 60 --latency 1
    .venv/bin/python bench/chat_latency.py --emails 10000 --chats 60 --latency 1 --chat-worker
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

import orjson
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))
import throughput as tp  # noqa: E402 - the deployment helpers live there


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--emails", type=int, default=10000, help="e-mails queued ahead")
    p.add_argument("--chats", type=int, default=60, help="chat messages timed")
    p.add_argument("--chat-every", type=float, default=1.0, help="seconds between chats")
    p.add_argument("--start-after", type=float, default=5.0,
                   help="seconds between pushing the e-mails and the first chat")
    p.add_argument("--latency", type=float, default=1.0, help="fake LLM answer delay, seconds")
    p.add_argument("--burst-window", type=float, default=0.0,
                   help="BURST_WINDOW_CHAT_SECONDS of the deployment (production default 2): a "
                        "chat is drafted this long after it arrived; overhead excludes it")
    p.add_argument("--workers", type=int, default=1, help="all-queue worker processes")
    p.add_argument("--concurrency", type=int, default=200, help="threads of each worker")
    p.add_argument("--chat-worker", action="store_true",
                   help="also run a worker that takes only drafts.chat")
    p.add_argument("--chat-concurrency", type=int, default=50)
    p.add_argument("--nice", type=int, default=10,
                   help="--nice of the all-queue workers when a chat worker runs (Procfile: 10)")
    p.add_argument("--warmup", type=int, default=10,
                   help="unmeasured chats drafted before the e-mails are pushed")
    p.add_argument("--redis-db", type=int, default=8, help="dedicated Redis db (flushed!)")
    p.add_argument("--extra-env", action="append", default=[], metavar="K=V")
    p.add_argument("--log-dir", default=None)
    p.add_argument("--seed", type=int, default=1)
    return p.parse_args(argv)


def start(args: argparse.Namespace, procs: tp.Processes, r: redis.Redis, llm_port: int) -> dict:
    py = sys.executable
    llm = procs.start("fake_llm", [py, "-m", "tests.support.fake_llm", "--port", str(llm_port),
                                   "--latency", str(args.latency)])
    tp.wait_until("fake LLM", lambda: tp.llm_ready(llm_port), 30, procs)
    ingress = procs.start("ingress", [tp.CLI, "ingress"])
    host = socket.gethostname()
    names, pids = [], {"ingress": ingress.pid, "fake_llm": llm.pid}
    nice = [f"--nice={args.nice}"] if args.chat_worker and args.nice else []
    for i in range(1, args.workers + 1):
        child = procs.start(f"worker{i}", [tp.CLI, "worker", f"--concurrency={args.concurrency}",
                                           *nice, "-n", f"chatbench{i}@%h"])
        names.append(f"chatbench{i}@{host}")
        pids[child.name] = child.pid
    if args.chat_worker:
        child = procs.start("chatworker", [tp.CLI, "worker", "--queues=drafts.chat",
                                           f"--concurrency={args.chat_concurrency}",
                                           "-n", "chatbench-chat@%h"])
        names.append(f"chatbench-chat@{host}")
        pids[child.name] = child.pid
    tp.wait_until("ingress", lambda: tp.ingress_ready(r), 60, procs)
    broker = tp.REDIS_URL.format(db=args.redis_db)
    tp.wait_until("worker(s)", lambda: tp.workers_ready(broker, names), 120, procs, every=0.5)
    return pids


def push_emails(r: redis.Redis, count: int, clients: list[str], rng: random.Random) -> None:
    _, mails = tp.sample_texts()
    pipe = r.pipeline(transaction=False)
    for i in range(count):
        subject, body = rng.choice(mails)
        event = {"eventId": f"mail-{i}", "clientId": clients[i % len(clients)],
                 "leadEmail": f"lead{i % 3000}@example.com", "subject": subject,
                 "messageId": f"<mail-{i}@bench.example>", "message": f"{body}\n\n(#{i})"}
        pipe.xadd(tp.EMAIL_STREAM, {"payload": orjson.dumps(event)})
        if len(pipe) >= 500:
            pipe.execute()
    pipe.execute()


def run(args: argparse.Namespace, procs: tp.Processes, db_name: str, llm_port: int) -> dict:
    env = procs.env
    r = redis.Redis.from_url(tp.REDIS_URL.format(db=args.redis_db))
    r.flushdb()
    print(f"[bench] database {db_name}, redis db {args.redis_db}, logs in {procs.log_dir}")
    tp.run_cli(env, "migrate")
    clients = json.loads(tp.CLIENTS_FILE.read_text())
    for client_id, config in clients.items():
        path = procs.log_dir / f"{client_id}.json"
        path.write_text(json.dumps(config))
        tp.run_cli(env, "config", "set", client_id, "--file", str(path))
    start(args, procs, r, llm_port)
    reader = tp.OutboundReader(tp.REDIS_URL.format(db=args.redis_db))
    reader.start()
    rng = random.Random(args.seed)
    chat_texts, _ = tp.sample_texts()
    sent: dict[str, float] = {}
    ahead: list[int] = []
    try:
        warm = {}
        for i in range(args.warmup):
            event = {"eventId": f"warm-{i}", "clientId": list(clients)[i % len(clients)],
                     "conversationId": f"warm-{i}", "message": rng.choice(chat_texts)}
            r.xadd(tp.CHAT_STREAM, {"payload": orjson.dumps(event)})
            warm[event["eventId"]] = time.time()
        reader.expect(set(warm))
        if warm and not reader.wait(120, procs):
            raise TimeoutError("warm-up chats were not drafted within 120 s")
        tp.analyze(db_name)  # planner statistics, as in production
        reader.expect({f"chat-{i}" for i in range(args.chats)})
        reader.done.clear()
        t0 = time.time()
        push_emails(r, args.emails, list(clients), rng)
        print(f"[bench] {args.emails} e-mails pushed in {time.time() - t0:.1f}s; "
              f"chats start in {args.start_after:.0f}s")
        time.sleep(args.start_after)
        mails_done_before = _mails_drafted(reader)
        phase_start = time.time()
        for i in range(args.chats):
            due = phase_start + i * args.chat_every
            time.sleep(max(0.0, due - time.time()))
            event_id = f"chat-{i}"
            event = {"eventId": event_id, "clientId": list(clients)[i % len(clients)],
                     "conversationId": f"web-{i}", "leadId": f"chat-lead-{i}",
                     "message": rng.choice(chat_texts)}
            ahead.append(args.emails - _mails_drafted(reader))
            sent[event_id] = time.time()
            r.xadd(tp.CHAT_STREAM, {"payload": orjson.dumps(event)})
        complete = reader.wait(120, procs)
        phase_s = time.time() - phase_start
        mails_in_phase = _mails_drafted(reader) - mails_done_before
    finally:
        reader.stop()
    seen = reader.seen
    stages = _stages(db_name, sent, seen.first_seen)
    latencies = [1000 * (seen.first_seen[e] - t) for e, t in sent.items() if e in seen.first_seen]
    overhead = [ms - 1000 * (args.latency + args.burst_window) for ms in latencies]
    dup = sum(len(seen.drafts_per_event[e]) - 1 for e in sent if seen.drafts_per_event.get(e))
    return {
        "setup": (f"{args.workers} worker(s) x {args.concurrency} threads"
                  + (f" (nice {args.nice})" if args.chat_worker and args.nice else "")
                  + (f" + chat worker x {args.chat_concurrency}" if args.chat_worker else "")),
        "model latency": f"{args.latency * 1000:.0f} ms",
        "burst window": f"{args.burst_window * 1000:.0f} ms",
        "chats timed": f"{len(latencies)} of {args.chats} (complete: {complete})",
        "duplicate chat drafts": dup,
        "e-mails undrafted ahead of each chat (min / median)":
            f"{min(ahead)} / {int(statistics.median(ahead))}" if ahead else "-",
        "chat latency ms p50 / p95 / max": _pcts(latencies),
        "chat overhead ms p50 / p95 / max (target p95 <= 100)": _pcts(overhead),
        "e-mail drafts/s meanwhile": round(mails_in_phase / phase_s, 1) if phase_s else 0,
        **{f"  {name} ms p50 / p95 / max": _pcts(values) for name, values in stages.items()},
    }


def _stages(db_name: str, sent: dict[str, float], seen: dict[str, float]) -> dict[str, list]:
    """Where each chat's time went: XADD → stored by ingress → picked up by a worker (draft
    time minus its own latency) → draft saved → seen on the outbound stream."""
    import psycopg

    with psycopg.connect(tp.PG_DSN.format(db=db_name)) as conn:
        rows = conn.execute(
            "SELECT m.event_id, extract(epoch FROM m.created_at), extract(epoch FROM d.created_at),"
            " d.latency_ms FROM inbound_messages m JOIN drafts d ON d.inbound_message_id = m.id"
            " WHERE m.channel = 'chat'"
        ).fetchall()
    out: dict[str, list] = {"ingress (stored)": [], "queued for a worker": [],
                            "drafting (incl. model)": [], "publish to seen": []}
    for event_id, stored, saved, latency_ms in rows:
        if event_id not in sent or event_id not in seen:
            continue
        stored, saved = float(stored), float(saved)
        out["ingress (stored)"].append(1000 * (stored - sent[event_id]))
        out["queued for a worker"].append(1000 * (saved - stored) - latency_ms)
        out["drafting (incl. model)"].append(latency_ms)
        out["publish to seen"].append(1000 * (seen[event_id] - saved))
    return out


def _mails_drafted(reader: tp.OutboundReader) -> int:
    return sum(1 for e in list(reader.seen.first_seen) if e.startswith("mail-"))


def _pcts(values: list[float]) -> str:
    if not values:
        return "-"
    return (f"{tp.percentile(values, 0.5):.0f} / {tp.percentile(values, 0.95):.0f} / "
            f"{max(values):.0f}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    db_name = f"chatbench_{os.getpid()}"
    llm_port = tp.free_port()
    log_dir = Path(args.log_dir) if args.log_dir else Path(tempfile.mkdtemp(prefix="chatbench-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    targs = argparse.Namespace(redis_db=args.redis_db, extra_env=[
        f"BURST_WINDOW_CHAT_SECONDS={args.burst_window}", *args.extra_env])
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
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
