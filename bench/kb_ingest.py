"""Knowledge-base ingestion throughput: MB/s of Markdown, from upload to searchable.

Builds --mb of realistic Markdown (dealer documents: headings, paragraphs, lists, price tables)
split into documents of --doc-kb each, in memory, then on a fresh Postgres database of its own:

  1. upload: worker.knowledge.library.upload_document (the bytes stored in Postgres, one
     transaction per document, exactly as `agent-runtime kb upload` and the HTTP API do);
  2. process: worker.knowledge.processing.process_document, the function the Celery task
     `kb.process_document` runs (claim, extract, chunk, write chunks + tsvector/GIN, ready);

one document after the other in this process (one worker thread's view). It prints MB/s for
each phase and end to end, chunks/s, the CPU this process used (Python) against the wall time
(the rest is mostly Postgres: tsvector and GIN index upkeep), and the median latency of
search_knowledge over the result. Nothing is timed by wall clock inside the product code.

Run from the repository root (Postgres on 127.0.0.1:5432, trust auth):

    .venv/bin/python bench/kb_ingest.py
    .venv/bin/python bench/kb_ingest.py --mb 50 --doc-kb 1024
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import psycopg  # noqa: E402
from sqlalchemy import text  # noqa: E402

from worker.knowledge import library  # noqa: E402
from worker.audience import Audience  # noqa: E402
from worker.knowledge.processing import process_document  # noqa: E402
from worker.text.query_terms import query_terms  # noqa: E402
from worker.logs import configure_logging  # noqa: E402
from worker.settings import Settings  # noqa: E402
from worker.store import tenants  # noqa: E402
from worker.store.db import make_engine, make_session_factory  # noqa: E402
from worker.store.knowledge import search_knowledge  # noqa: E402
from worker.store.migrate import upgrade  # noqa: E402

DOMAIN = (
    "vehicle service inspection warranty tyres winter summer storage brake pads oil change "
    "appointment workshop opening hours Saturday Monday Friday price list financing leasing "
    "months deposit trade-in valuation test drive electric hybrid charging battery range "
    "Golf Polo Passat Tiguan ID.4 accessories roof box towbar navigation update recall "
    "courtesy car pick-up delivery registration insurance fleet discount customer loyalty "
    "bonus voucher"
).split()
STOP = "the and of for with our your we is are to in on at by from a an it this that".split()


def vocabulary(rng: random.Random) -> tuple[list[str], list[float]]:
    """Words with the skew of real prose: stop words make up about 40 % of the text, the
    dealer's domain words 5 %, the rest a Zipf-distributed 20,000-word long tail — so a query
    for "winter tyres" matches a few per cent of the chunks, as in real documents."""
    syllables = "ka lo mi ne ru sa te vi do fe ga hu ji ko lu ma no pi re su ta ve wo ze".split()
    tail = list({"".join(rng.choices(syllables, k=rng.randint(2, 4))) for _ in range(30_000)})
    tail = tail[:20_000]
    zipf = [1 / (rank + 1) for rank in range(len(tail))]
    scale = 0.55 / sum(zipf)
    words = STOP + DOMAIN + tail
    weights = [0.40 / len(STOP)] * len(STOP) + [0.05 / len(DOMAIN)] * len(DOMAIN)
    weights += [w * scale for w in zipf]
    return words, weights


def markdown_document(rng: random.Random, size: int, vocab: tuple[list[str], list[float]]) -> bytes:
    words, weights = vocab
    cum = list(itertools.accumulate(weights))

    def pick(k: int) -> list[str]:
        return rng.choices(words, cum_weights=cum, k=k)

    parts: list[str] = [f"# {' '.join(pick(3)).title()} guide\n"]
    length = 0
    section = 0
    while length < size:
        section += 1
        block = [f"\n## {section}. {' '.join(pick(3)).title()}\n"]
        for _ in range(rng.randint(2, 5)):
            kind = rng.random()
            if kind < 0.15:
                block.append("\n| Model | Price | Months |\n|---|---|---|\n" + "".join(
                    f"| {rng.choice(DOMAIN)} {pick(1)[0]} | {rng.randint(90, 60000)} EUR | "
                    f"{rng.choice((12, 24, 36, 48))} |\n"
                    for _ in range(rng.randint(3, 10))))
            elif kind < 0.3:
                block.append("\n" + "".join(
                    f"- {' '.join(pick(rng.randint(4, 12)))}\n" for _ in range(rng.randint(3, 8))))
            else:
                sentences = [" ".join(pick(rng.randint(8, 20))).capitalize() + "."
                             for _ in range(rng.randint(3, 8))]
                block.append("\n" + " ".join(sentences) + "\n")
        text = "".join(block)
        parts.append(text)
        length += len(text)
    return "".join(parts).encode()[:size]


class NoQueue:
    def process(self, client_id: str, document_id: str) -> None:
        pass

    def purge(self, client_id: str) -> None:
        pass


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--mb", type=float, default=20.0, help="Markdown to ingest, in MB (10^6 bytes)")
    p.add_argument("--doc-kb", type=int, default=256, help="size of each document, KB")
    p.add_argument("--admin-dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    p.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = p.parse_args()
    configure_logging("WARNING", as_json=False)

    rng = random.Random(7)
    count = max(1, int(args.mb * 1_000_000 // (args.doc_kb * 1000)))
    vocab = vocabulary(rng)
    docs = [markdown_document(rng, args.doc_kb * 1000, vocab) for _ in range(count)]
    total_mb = sum(map(len, docs)) / 1e6

    db = f"agent_runtime_kb_bench_{os.getpid()}"
    with psycopg.connect(args.admin_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}"')
        conn.execute(f'CREATE DATABASE "{db}"')
    base = args.admin_dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    settings = Settings(database_url=f"{base}/{db}")
    try:
        upgrade(settings)
        engine = make_engine(settings)
        sessions = make_session_factory(engine)
        with sessions.begin() as session:
            tenants.register_client(session, "bench")

        print(f"{count} Markdown documents × {args.doc_kb} KB = {total_mb:.1f} MB")
        wall0, cpu0 = time.perf_counter(), time.process_time()
        ids = [
            library.upload_document(sessions, NoQueue(), "bench", folder="bench",
                                    filename=f"doc-{i:05d}.md", content=content).document.id
            for i, content in enumerate(docs)
        ]
        wall1, cpu1 = time.perf_counter(), time.process_time()
        chunks = 0
        for document_id in ids:
            outcome = process_document(sessions, "bench", document_id, owner="bench",
                                       lease_seconds=600)
            assert outcome.status == "ready", outcome
            chunks += outcome.chunks
        wall2, cpu2 = time.perf_counter(), time.process_time()

        up, proc, total = wall1 - wall0, wall2 - wall1, wall2 - wall0
        print(f"upload     {total_mb / up:8.2f} MB/s   ({up:.1f} s, CPU here {cpu1 - cpu0:.1f} s)")
        print(f"process    {total_mb / proc:8.2f} MB/s   ({proc:.1f} s, CPU here {cpu2 - cpu1:.1f} s,"
              f" {chunks} chunks, {chunks / proc:.0f} chunks/s)")
        print(f"end to end {total_mb / total:8.2f} MB/s   upload + process, one document at a time")

        queries = ["winter tyres storage price", "opening hours Saturday workshop",
                   "financing 36 months deposit", "electric charging battery range",
                   "courtesy car pick-up delivery"]
        with engine.connect() as conn:  # what autovacuum does soon after a bulk load
            conn.execute(text("ANALYZE"))
            conn.commit()
            matched = [conn.scalar(text(
                "SELECT count(*) FROM kb_chunks WHERE tsv @@ websearch_to_tsquery('english', :q)"),
                {"q": " or ".join(query_terms(q))}) for q in queries]
        print(f"queries match {min(matched)}–{max(matched)} of {chunks} chunks")
        latencies = []
        with sessions() as session:
            for i in range(50):
                t0 = time.perf_counter()
                hits = search_knowledge(session, "bench", queries[i % len(queries)], Audience(), 5)
                latencies.append((time.perf_counter() - t0) * 1000)
                assert hits
        print(f"search_knowledge over {chunks} chunks: median {statistics.median(latencies):.1f} ms, "
              f"max {max(latencies):.1f} ms (limit 5)")
        engine.dispose()
    finally:
        if not args.keep:
            with psycopg.connect(args.admin_dsn, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


if __name__ == "__main__":
    main()
