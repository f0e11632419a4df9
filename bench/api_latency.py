"""Latency of the HTTP API under 200 concurrent requests.

What it measures
----------------
A real `agent-runtime api` process (uvicorn) on a fresh Postgres database and Redis db 8,
driven by this script with aiohttp keeping --concurrency requests in flight at all times:

  config      GET /api/agent/config/active            (the per-process cache, pub/sub invalidated)
  list        GET /api/agent/drafts?status=pending_review
  show        GET /api/agent/drafts/{id}               (draft + prompt context: 3 queries)
  approve     POST /api/agent/drafts/{id}/approve      (only when worker.pipeline.review exists;
  edit / reject                                         each on its own pending draft)

Printed per kind: requests, errors, throughput, client-observed p50/p95/p99, and the server's
own time per request (the API's agent_http_request_seconds histogram: mean and the bucket
holding p95). Client-observed latency under 200 in flight is mostly queueing: it is about
200 / throughput. The server time is what one request costs once it is being handled.

Isolation: database `bench_api_<pid>` (dropped at the end) and Redis db 8 (flushed at start
and end); the API is stopped even on error or Ctrl-C.

Run from the repository root:

    .venv/bin/python bench/api_latency.py                      # 200 in flight, 1 API process
    .venv/bin/python bench/api_latency.py --api-workers 2 --requests 6000
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CLI = str(Path(sys.executable).parent / "agent-runtime")
PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
METRICS_TOKEN = "bench-scrape"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{db}"
REDIS_URL = "redis://127.0.0.1:6379/8"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=4000, help="per kind")
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--api-workers", type=int, default=1)
    parser.add_argument("--rate", type=float, default=0.0,
                        help="open loop: start this many requests per second (Poisson), at "
                        "most --concurrency in flight; 0 = closed loop, always --concurrency")
    args = parser.parse_args()

    db = f"bench_api_{os.getpid()}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db}"')
    redis.Redis.from_url(REDIS_URL).flushdb()
    multiproc = tempfile.mkdtemp(prefix="bench-api-prom-")
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": PG_URL.format(db=db), "REDIS_URL": REDIS_URL,
           "LEAD_HASH_KEY": "bench", "LOG_LEVEL": "WARNING", "LITELLM_LOCAL_MODEL_COST_MAP": "True",
           "DB_POOL_SIZE": "40", "DB_MAX_OVERFLOW": "10", "METRICS_TOKEN": METRICS_TOKEN}
    if args.api_workers > 1:
        env["PROMETHEUS_MULTIPROC_DIR"] = multiproc
    api = None
    try:
        subprocess.run([CLI, "migrate"], env=env, check=True, capture_output=True)
        key, drafts = _seed(env, args.requests)
        api = subprocess.Popen([CLI, "api", "--port", str(port), "--workers",
                                str(args.api_workers)], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        _wait_up(base)
        results = asyncio.run(_run_all(base, key, drafts, args, api.pid))
        _print(results, args)
    finally:
        if api is not None:
            api.terminate()
            try:
                api.wait(20)
            except subprocess.TimeoutExpired:
                api.kill()
        redis.Redis.from_url(REDIS_URL).flushdb()
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def _seed(env: dict, per_kind: int) -> tuple[str, list[str]]:
    """One client with a config, a key, and enough pending drafts for every review action."""
    os.environ.update(env)
    from worker.settings import Settings
    from worker.store import api_keys, tenants
    from worker.store.db import make_engine, make_session_factory
    from worker.store.models import Draft, InboundMessage, new_id

    engine = make_engine(Settings())
    count = per_kind * 3 + 10
    ids = []
    with make_session_factory(engine).begin() as session:
        tenants.activate_new_config(session, "bench", {"name": "Bench", "industry": "retail"},
                                    register=True)
        _row, key = api_keys.create_key(session, "bench", name="bench")
        config = tenants.active_config(session, "bench")
        for i in range(count):
            message_id, draft_id = new_id(), new_id()
            session.add(InboundMessage(
                id=message_id, client_id="bench", event_id=f"e{i}", channel="chat",
                body="Is it available?", new_text="Is it available?", status="drafted",
                external_conversation_id=f"c{i}", external_lead_id=f"l{i}"))
            session.flush()
            session.add(Draft(
                id=draft_id, client_id="bench", inbound_message_id=message_id, event_id=f"e{i}",
                channel="chat", conversation_id=f"c{i}", lead_id=f"l{i}",
                reply="Yes, it is. Shall we book a test drive?", quick_replies=["Book"],
                config_id=config.id, config_version=config.version, model="openai/x",
                memory_refs=[], prompt_tokens=300, completion_tokens=40))
            ids.append(draft_id)
    engine.dispose()
    return key, ids


async def _run_all(base: str, key: str, drafts: list[str], args, pid: int) -> dict:  # noqa: ANN001
    headers = {"X-API-Key": key}
    connector = aiohttp.TCPConnector(limit=args.concurrency)
    n = args.requests
    async with aiohttp.ClientSession(base, headers=headers, connector=connector) as http:
        for _ in range(200):  # warm-up: connections, caches, code paths
            async with http.get("/api/agent/config/active") as r:
                await r.read()
        kinds: dict[str, list] = {
            "config": [("GET", "/api/agent/config/active", None)] * n,
            "list": [("GET", "/api/agent/drafts?status=pending_review&limit=20", None)] * n,
            "show": [("GET", f"/api/agent/drafts/{drafts[i % len(drafts)]}", None)
                     for i in range(n)],
        }
        if importlib.util.find_spec("worker.pipeline.review") is not None:
            kinds["approve"] = [("POST", f"/api/agent/drafts/{d}/approve", {})
                                for d in drafts[:n]]
            kinds["edit"] = [("POST", f"/api/agent/drafts/{d}/edit",
                              {"text": "Yes, it is here. Come by on Saturday?"})
                             for d in drafts[n:2 * n]]
            kinds["reject"] = [("POST", f"/api/agent/drafts/{d}/reject",
                                {"reason": "too pushy"}) for d in drafts[2 * n:3 * n]]
        results = {}
        for kind, requests in kinds.items():
            before = await _server_hist(http)
            cpu_before = _cpu_seconds(pid)
            started = time.perf_counter()
            latencies, errors = await _drive(http, requests, args.concurrency, args.rate)
            elapsed = time.perf_counter() - started
            cpu = _cpu_seconds(pid) - cpu_before
            after = await _server_hist(http)
            server = _diff(before, after, requests[0])
            server["cpu_ms"] = 1000 * cpu / len(requests)
            results[kind] = (latencies, errors, elapsed, server)
    return results


async def _drive(http, requests: list, concurrency: int, rate: float  # noqa: ANN001
                 ) -> tuple[list[float], int]:
    latencies: list[float] = []
    errors = 0

    async def one(method: str, path: str, body) -> None:  # noqa: ANN001
        nonlocal errors
        started = time.perf_counter()
        async with http.request(method, path, json=body) as response:
            await response.read()
            if response.status >= 400:
                errors += 1
        latencies.append(time.perf_counter() - started)

    if rate <= 0:  # closed loop: always `concurrency` in flight
        queue = list(reversed(requests))

        async def loop() -> None:
            while queue:
                await one(*queue.pop())

        await asyncio.gather(*(loop() for _ in range(concurrency)))
        return latencies, errors
    slots = asyncio.Semaphore(concurrency)
    rng = random.Random(7)
    tasks = []

    async def limited(request) -> None:  # noqa: ANN001
        async with slots:
            await one(*request)

    for request in requests:
        tasks.append(asyncio.create_task(limited(request)))
        await asyncio.sleep(rng.expovariate(rate))
    await asyncio.gather(*tasks)
    return latencies, errors


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of the API process and its children (uvicorn workers)."""
    total = 0.0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            pass
    return total


_BUCKET = re.compile(r'agent_http_request_seconds_(bucket|sum|count)\{(.*?)\} ([0-9.e+-]+)')


async def _server_hist(http) -> dict:  # noqa: ANN001
    async with http.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}) as r:
        text = await r.text()
    out: dict = {}
    for kind, labels, value in _BUCKET.findall(text):
        route = re.search(r'route="([^"]*)"', labels).group(1)
        method = re.search(r'method="([^"]*)"', labels).group(1)
        le = re.search(r'le="([^"]*)"', labels)
        out[(method, route, kind, le.group(1) if le else None)] = float(value)
    return out


def _diff(before: dict, after: dict, sample) -> dict:  # noqa: ANN001
    method, path, _ = sample
    route = re.sub(r"/drafts/[0-9A-Z]{26}", "/drafts/{draftId}", path.split("?")[0])
    get = lambda d, kind, le=None: d.get((method, route, kind, le), 0.0)  # noqa: E731
    count = get(after, "count") - get(before, "count")
    total = get(after, "sum") - get(before, "sum")
    buckets = sorted(
        ((float(k[3]), after[k] - before.get(k, 0.0)) for k in after
         if k[:3] == (method, route, "bucket") and k[3] != "+Inf"), key=lambda b: b[0])
    p95_bucket = next((le for le, c in buckets if count and c >= 0.95 * count), float("inf"))
    return {"count": count, "mean_ms": 1000 * total / count if count else None,
            "p95_bucket_ms": 1000 * p95_bucket}


def _pct(values: list[float], q: float) -> float:
    return 1000 * statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def _print(results: dict, args) -> None:  # noqa: ANN001
    load = (f"open loop at {args.rate:g} req/s, at most {args.concurrency} in flight"
            if args.rate > 0 else f"closed loop, {args.concurrency} requests always in flight")
    print(f"API latency: {load}; {args.api_workers} API process(es); {os.cpu_count()} CPUs; "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'kind':8} {'reqs':>6} {'errors':>6} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'p99 ms':>8} | {'in-app mean ms':>14} {'in-app p95 ≤ ms':>15} {'API CPU ms/req':>14}")
    for kind, (lat, errors, elapsed, server) in results.items():
        mean = f"{server['mean_ms']:.2f}" if server["mean_ms"] is not None else "-"
        print(f"{kind:8} {len(lat):6d} {errors:6d} {len(lat) / elapsed:8.0f} {_pct(lat, 50):8.1f} "
              f"{_pct(lat, 95):8.1f} {_pct(lat, 99):8.1f} | {mean:>14} "
              f"{server['p95_bucket_ms']:>15.1f} {server['cpu_ms']:>14.2f}")
    print(json.dumps({k: {"p50_ms": round(_pct(v[0], 50), 2), "p95_ms": round(_pct(v[0], 95), 2),
                          "rps": round(len(v[0]) / v[2]), "errors": v[1]}
                      for k, v in results.items()}))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_up(base: str) -> None:
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/api/agent/health", timeout=2)
            return
        except urllib.error.HTTPError:  # answered (401 without a key): it is up
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the API did not start")


if __name__ == "__main__":
    main()
