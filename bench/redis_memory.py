"""Redis memory of the inbound streams after --events events, with and without trimming.

Appends --events inbound events (70 % chat, 30 % e-mail, texts from the demo events, as
bench/throughput.py sends them) to the two inbound streams of a dedicated Redis db, then
consumes them the way the ingress does with the real code: e-mail moved to tenant lanes
(worker/adapters/lanes.py), every entry read by the consumer group and acknowledged (a lane entry
is deleted once acknowledged, as Ingress._ack does). Storing in Postgres and Celery tasks are
left out: they are not what stays in Redis. Then it trims with the ingress's
trim_acknowledged (retention 0 here; INBOUND_RETENTION_SECONDS in production) and prunes the
lanes left empty with its lanes.prune.

With --made-up-clients K the e-mails go to K made-up clients in turn (the first K e-mails to
K different ones), so K lanes exist: one-off clients, each leaving a lane behind.

Printed: used_memory (MB), stream lengths, lanes and keys after appending, after consuming
(what Redis kept before trimming existed: acknowledged entries were never deleted), after
trimming the streams (what Redis kept before pruning existed: every lane, empty) and after
pruning.

    .venv/bin/python bench/redis_memory.py --events 100000
    .venv/bin/python bench/redis_memory.py --events 100000 --made-up-clients 10000
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import orjson
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))
import throughput as tp  # noqa: E402 - event texts and Redis URL live there

from worker.adapters import lanes  # noqa: E402
from worker.adapters.streams import ensure_group, trim_acknowledged  # noqa: E402

GROUP = "agent-runtime"
CLIENTS = ("northside-motors", "lakeview-homes", "fleet-co", "city-cars")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--events", type=int, default=100_000)
    p.add_argument("--redis-db", type=int, default=6, help="dedicated Redis db (flushed!)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--made-up-clients", type=int, default=0, metavar="K",
                   help="e-mails spread over K made-up clients (K lanes), not the 4 demo ones")
    return p.parse_args(argv)


def used_mb(r: redis.Redis) -> float:
    return r.info("memory")["used_memory"] / 1024 / 1024


def append(r: redis.Redis, n: int, rng: random.Random, made_up: int) -> None:
    factory = tp.EventFactory("mem", list(CLIENTS), 0.7, 1000, rng)
    pipe = r.pipeline(transaction=False)
    mails = 0
    for i in range(n):
        stream, event = factory.make("ev", i)
        if made_up and stream == tp.EMAIL_STREAM:
            event["clientId"] = f"made-up-{mails % made_up}"
            mails += 1
        pipe.xadd(stream, {"payload": orjson.dumps(event)})
        if len(pipe) >= 1000:
            pipe.execute()
    pipe.execute()


def consume(r: redis.Redis) -> None:
    """As the ingress: chat read and acknowledged; e-mail moved to lanes, then lane entries read,
    acknowledged and deleted."""
    while True:
        resp = r.xreadgroup(GROUP, "bench", {tp.CHAT_STREAM: ">"}, count=1000)
        ids = [entry_id for _, entries in resp or [] for entry_id, _ in entries]
        if not ids:
            break
        r.xack(tp.CHAT_STREAM, GROUP, *ids)
    while True:
        resp = r.xreadgroup(GROUP, "bench", {tp.EMAIL_STREAM: ">"}, count=1000)
        read = [(i.decode(), f) for _, entries in resp or [] for i, f in entries]
        if not read:
            break
        lanes.split(r, tp.EMAIL_STREAM, GROUP, "bench", read)
    for lane in lanes.lanes(r, tp.EMAIL_STREAM):
        while True:
            resp = r.xreadgroup(GROUP, "bench", {lane: ">"}, count=1000)
            ids = [entry_id for _, entries in resp or [] for entry_id, _ in entries]
            if not ids:
                break
            pipe = r.pipeline(transaction=False)
            pipe.xack(lane, GROUP, *ids)
            pipe.xdel(lane, *ids)
            pipe.execute()


def lengths(r: redis.Redis) -> str:
    known = lanes.lanes(r, tp.EMAIL_STREAM)
    lane_total = sum(lanes.lengths(r, list(known)))
    return (f"chat {r.xlen(tp.CHAT_STREAM)}, e-mail {r.xlen(tp.EMAIL_STREAM)}, "
            f"in lanes {lane_total}; {len(known)} lanes, {r.dbsize()} keys")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    r = redis.Redis.from_url(tp.REDIS_URL.format(db=args.redis_db))
    r.flushdb()
    try:
        for stream in (tp.CHAT_STREAM, tp.EMAIL_STREAM):
            ensure_group(r, stream, GROUP)
        base = used_mb(r)
        t0 = time.time()
        append(r, args.events, random.Random(args.seed), args.made_up_clients)
        appended = used_mb(r)
        print(f"appended {args.events} events in {time.time() - t0:.1f} s: {lengths(r)}")
        consume(r)
        consumed = used_mb(r)
        print(f"consumed (acknowledged): {lengths(r)}")
        trimmed = sum(trim_acknowledged(r, s, 0) for s in (tp.CHAT_STREAM, tp.EMAIL_STREAM))
        after = used_mb(r)
        print(f"trimmed {trimmed} entries: {lengths(r)}")
        pruned = lanes.prune(r, tp.EMAIL_STREAM, GROUP)
        after_prune = used_mb(r)
        print(f"pruned {pruned} lanes: {lengths(r)}")
        print(f"used_memory MB (Redis db {args.redis_db}; the server's total, other dbs included):")
        print(f"  before appending          {base:8.1f}")
        print(f"  after appending           {appended:8.1f}  (+{appended - base:.1f})")
        print(f"  after consuming, untrimmed {consumed:7.1f}  (+{consumed - base:.1f})")
        print(f"  after trimming streams    {after:8.1f}  (+{after - base:.1f}: lanes left)")
        print(f"  after pruning lanes       {after_prune:8.1f}  (+{after_prune - base:.1f})")
    finally:
        r.flushdb()
    return 0


if __name__ == "__main__":
    sys.exit(main())
