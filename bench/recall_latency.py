"""Recall latency with 1,000,000 memory items spread over 1,000 clients in Postgres.

Each client has 1,000 items: 100 leads with a 10-message conversation each, one item in ten an
approved reply (client-wide examples every draft of the client may recall). Texts are 8–24
words drawn log-uniformly from a 5,000-word vocabulary (word k is "q" + k in base 26, computed,
not looked up), so a few words are everywhere and most are rare, as in real text. Items are generated inside Postgres (generate_series, one INSERT …
SELECT, the GIN index built afterwards), which takes a few minutes.

Then it times recall — the same `recall()` a draft calls, in one process, warm — for random
(client, lead, 6-word query) triples, and for the client-wide search `memory search` does
without --lead, and prints p50 / p95 / p99.

    .venv/bin/python bench/recall_latency.py [--queries 2000] [--keep] [--database-url URL]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from worker.pipeline.recall import RecallRequest, recall  # noqa: E402
from worker.settings import Settings  # noqa: E402
from worker.store.db import make_engine, make_session_factory  # noqa: E402
from worker.store.memory_search import Scope  # noqa: E402
from worker.store.migrate import upgrade  # noqa: E402

PG_ADMIN = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
CLIENTS, ITEMS, LEADS_PER_CLIENT, VOCAB = 1000, 1_000_000, 100, 5000


def word(k: int) -> str:
    return "q" + "".join(chr(97 + (k // 26 ** p) % 26) for p in range(3))


_WORD_SQL = ("'q' || chr(97 + mod(k, 26)) || chr(97 + mod(k / 26, 26)) "
             "|| chr(97 + mod(k / 676, 26))")

GENERATE = f"""
INSERT INTO clients (id, created_at)
    SELECT 'client-' || c, now() FROM generate_series(1, {CLIENTS}) AS c;
CREATE UNLOGGED TABLE bench_gen AS
    SELECT g, 'client-' || (mod(g, {CLIENTS}) + 1) AS client_id,
           mod(g / {CLIENTS}, {LEADS_PER_CLIENT}) AS lead, t.text
    FROM generate_series(0, {ITEMS - 1}) AS g
    CROSS JOIN LATERAL (
        SELECT string_agg({_WORD_SQL}, ' ') AS text FROM (
            SELECT floor(power({VOCAB}, random()))::int AS k
            FROM generate_series(1, 8 + mod(g * 7, 17)) AS n) AS x) AS t;
DROP INDEX ix_memory_items_tsv;
INSERT INTO memory_items (id, client_id, lead_key, conversation_id, kind, text, context,
                          context_far, created_at)
    SELECT lpad(g::text, 26, '0'), client_id, 'id:lead-' || lead, 'conv-' || lead,
           CASE WHEN mod(g / {CLIENTS}, 10) = 0 THEN 'approved_reply' ELSE 'inbound_message' END, text,
           trim(coalesce(lag(text) OVER w, '') || ' ' || coalesce(lead(text) OVER w, '')),
           trim(coalesce(lag(text, 2) OVER w, '') || ' ' || coalesce(lead(text, 2) OVER w, '')),
           now() - make_interval(secs => {ITEMS} - g)
    FROM bench_gen WINDOW w AS (PARTITION BY client_id, lead ORDER BY g);
CREATE INDEX ix_memory_items_tsv ON memory_items USING gin (tsv);
DROP TABLE bench_gen;
"""


def percentiles(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    q = statistics.quantiles(ms, n=100)
    return f"p50 {q[49]:.2f} ms, p95 {q[94]:.2f} ms, p99 {q[98]:.2f} ms (n={len(ms)})"


def rls_ab(sessions, rng: random.Random, query, n: int) -> None:  # noqa: ANN001
    """Row-level security's cost on a draft's recall: each (client, lead, query) is timed twice,
    with the store binding the transaction (role switch + tenant setting + policy) and with
    binding turned off (this script connects as a superuser, who then bypasses RLS), in
    alternating order."""
    from worker.store import tenancy

    real_bind = tenancy.bind
    timed: dict[str, list[float]] = {"with RLS": [], "without RLS": []}
    with sessions() as session:
        for i in range(n + 50):
            client = f"client-{rng.randint(1, CLIENTS)}"
            lead = rng.randrange(LEADS_PER_CLIENT)
            req = RecallRequest(client, query(), Scope(lead_key=f"id:lead-{lead}",
                                                       conversation_id=f"conv-{lead}"), 5)
            order = ["with RLS", "without RLS"] if i % 2 else ["without RLS", "with RLS"]
            for mode in order:
                tenancy.bind = real_bind if mode == "with RLS" else (lambda *_a: None)
                t0 = time.perf_counter()
                result = recall(session, req, 1.2)
                elapsed = time.perf_counter() - t0
                session.rollback()
                assert result.hits and all(h.client_id == client for h in result.hits)
                if i >= 50:
                    timed[mode].append(elapsed)
    tenancy.bind = real_bind
    for mode, samples in timed.items():
        print(f"draft recall, {mode} (A/B, alternating): {percentiles(samples)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a database this script filled before (--keep)")
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--keep", action="store_true", help="keep the database it created")
    parser.add_argument("--rls-ab", action="store_true",
                        help="also time draft recall with and without row-level security, "
                        "query by query in alternation (same load on both)")
    args = parser.parse_args()
    dbname = None
    url = args.database_url
    if url is None:
        dbname = f"bench_latency_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{dbname}"')
        url = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
        url += "/" + dbname
    plain = url.replace("+psycopg", "")
    try:
        if dbname:
            upgrade(Settings(database_url=url))
            started = time.perf_counter()
            with psycopg.connect(plain, autocommit=True) as conn:
                conn.execute("SET maintenance_work_mem = '256MB'")
                with conn.transaction():
                    for statement in GENERATE.split(";\n"):
                        if statement.strip():
                            conn.execute(statement)
                conn.execute("VACUUM ANALYZE memory_items")
            print(f"generated {ITEMS:,} items over {CLIENTS:,} clients in "
                  f"{time.perf_counter() - started:.0f} s")
        with psycopg.connect(plain) as conn:
            total = conn.execute("SELECT count(*) FROM memory_items").fetchone()[0]
        print(f"items: {total:,}")
        engine = make_engine(Settings(database_url=url))
        sessions = make_session_factory(engine)
        rng = random.Random(7)

        def query() -> str:  # same log-uniform word distribution as the items
            return " ".join(word(int(VOCAB ** rng.random())) for _ in range(6))

        for label, scope_of in (
            ("draft recall (lead's history + client's approved replies)",
             lambda lead: Scope(lead_key=f"id:lead-{lead}", conversation_id=f"conv-{lead}")),
            ("client-wide search (memory search without --lead)",
             lambda lead: Scope(whole_client=True)),
        ):
            samples: list[float] = []
            with sessions() as session:
                for i in range(args.queries + 50):
                    client = f"client-{rng.randint(1, CLIENTS)}"
                    req = RecallRequest(client, query(), scope_of(rng.randrange(LEADS_PER_CLIENT)), 5)
                    t0 = time.perf_counter()
                    result = recall(session, req, 1.2)
                    elapsed = time.perf_counter() - t0
                    assert all(h.client_id == client for h in result.hits)
                    if i >= 50:  # the first ones warm the caches
                        samples.append(elapsed)
                    session.rollback()
            print(f"{label}: {percentiles(samples)}")
        if args.rls_ab:
            rls_ab(sessions, rng, query, args.queries)
        engine.dispose()
    finally:
        if dbname and not args.keep:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


if __name__ == "__main__":
    main()
