"""Hostile files through the real worker: peak RSS per file kind, time to `failed`, the reason.

Starts a real `agent-runtime worker` (Celery, thread pool, queue `maintenance`) on a fresh
Postgres database of its own and Redis database --redis-db, then uploads each hostile file of
tests/support/hostile.py (generated in memory, small on disk: DOCX zip bombs inflating to
300 MB and 2 GiB, XML nested 100,000 deep, HTML nested 200,000 deep, a 5,000-page PDF, a
broken PDF, a PDF whose content stream inflates to 1 GiB, a CSV of 1,000,000 columns, an ELF
executable named .txt) exactly as `kb upload` and the HTTP API do (library.upload_document,
then the Celery task `kb.process_document`), one after the other, plus two ordinary files for
comparison. While each is processed it samples, every 10 ms, the resident memory of the worker
process and of any extraction child it runs (/proc), and prints per file: the peak worker RSS,
the peak child RSS, the seconds from upload to the final status, the number of processing
attempts, and the reason. The executable is refused at upload (415), so it is also stored
directly (as one stored before sniffing existed would be) to show what the worker does with it.

Run from the repository root (Postgres on 127.0.0.1:5432, Redis on 127.0.0.1:6379), under the
heavy lock:

    flock /tmp/ar-heavy.lock .venv/bin/python bench/hostile_files.py
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import psycopg  # noqa: E402

CLIENT = "dealer-bench"


def rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            return int(next(line for line in f if line.startswith("VmRSS:")).split()[1])
    except (OSError, StopIteration):
        return 0


def extraction_children(pid: int) -> list[int]:
    """The worker's extraction children (started from any of its threads), once they run the
    sandbox: a child caught between fork and exec still shows the worker's own pages."""
    found = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                found += [int(p) for p in f.read().split()]
    except OSError:
        return []
    out = []
    for child in set(found):
        try:
            with open(f"/proc/{child}/cmdline", "rb") as f:
                if b"worker.knowledge.sandbox" in f.read():
                    out.append(child)
        except OSError:
            continue
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--admin-dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    p.add_argument("--redis-db", type=int, default=7)
    p.add_argument("--timeout", type=float, default=300, help="per file, seconds")
    p.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = p.parse_args()

    db = f"hostile_bench_{os.getpid()}"
    base = args.admin_dsn.rsplit("/", 1)[0]
    env = {
        **os.environ,
        "DATABASE_URL": f"{base.replace('postgresql://', 'postgresql+psycopg://', 1)}/{db}",
        "REDIS_URL": f"redis://127.0.0.1:6379/{args.redis_db}",
        "LEAD_HASH_KEY": "bench", "WORKER_METRICS_PORT": "0", "LOG_LEVEL": "WARNING",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    }
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "LEAD_HASH_KEY")})
    with psycopg.connect(args.admin_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}"')
        conn.execute(f'CREATE DATABASE "{db}"')
    worker = None
    try:
        worker = run(args, env)
    finally:
        if worker is not None and worker.poll() is None:
            worker.terminate()
            try:
                worker.wait(30)
            except subprocess.TimeoutExpired:
                worker.kill()
        if not args.keep:
            with psycopg.connect(args.admin_dsn, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def run(args: argparse.Namespace, env: dict[str, str]) -> subprocess.Popen:
    from worker.adapters.celery_app import CeleryDocumentQueue, make_celery
    from tests.support.documents import make_docx, make_pdf
    from tests.support.hostile import HOSTILE, executable_as_text
    from worker.knowledge import library
    from worker.knowledge.bounds import Limits
    from worker.knowledge.errors import KnowledgeError
    from worker.logs import configure_logging
    from worker.settings import Settings
    from worker.store import kb_documents, tenants
    from worker.store.db import make_engine, make_session_factory
    from worker.store.migrate import upgrade

    configure_logging("WARNING", as_json=False)
    settings = Settings()
    upgrade(settings)
    sessions = make_session_factory(make_engine(settings))
    with sessions.begin() as session:
        tenants.register_client(session, CLIENT)
    import redis

    redis.Redis.from_url(env["REDIS_URL"]).delete("maintenance")
    agent = str(ROOT / ".venv" / "bin" / "agent-runtime")
    log = open(f"/tmp/hostile_bench_worker_{os.getpid()}.log", "wb")
    worker = subprocess.Popen([agent, "worker", "--queues=maintenance", "--concurrency=8"],
                              env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    queue = CeleryDocumentQueue(make_celery(settings))
    warm = library.upload_document(sessions, queue, CLIENT, folder="warm-up", filename="a.md",
                                   content=b"# Warm-up\n\nThe worker is up.\n").document.id
    deadline = time.time() + 120
    while library.show_document(sessions, CLIENT, warm).status != "ready":
        if worker.poll() is not None or time.time() > deadline:
            sys.exit(f"the worker did not start: see {log.name}")
        time.sleep(0.2)
    baseline = rss_kb(worker.pid)
    limits = Limits.from_settings(settings)
    print(f"worker pid {worker.pid}, RSS at rest {baseline / 1024:.0f} MB; extraction child: "
          f"{limits.memory_mb} MB address space, {limits.timeout_seconds:g} s, "
          f"{settings.kb_extract_concurrency} at once; lease {settings.kb_lease_seconds} s\n")
    files = [(k, name, build, what) for k, (name, build, what) in HOSTILE.items()]
    files += [("ordinary_docx", "service.docx", lambda: make_docx(
        "Service", ["Winter tyres fitted while you wait."] * 2000), "DOCX, 2,000 paragraphs"),
        ("ordinary_pdf", "prices.pdf", lambda: make_pdf([["Golf 30,000 EUR"] * 40] * 200),
         "PDF, 200 pages"),
        ("ordinary_markdown", "hours.md", lambda: b"# Hours\n\nMonday to Friday 8-18.\n" * 20000,
         "Markdown, 680 KB")]
    header = (f"{'file':18} {'on disk':>8} {'worker peak':>11} {'(+growth)':>9} "
              f"{'child peak':>10} {'seconds':>7} {'tries':>5}  status / reason")
    print(header)
    print("-" * len(header))
    for key, name, build, what in files:
        content = build()
        started = time.perf_counter()
        try:
            doc = library.upload_document(sessions, queue, CLIENT, folder=key, filename=name,
                                          content=content, max_bytes=settings.kb_max_upload_bytes)
            document_id = doc.document.id
        except KnowledgeError as exc:
            print(f"{key:18} {len(content) / 1e6:7.2f}M {'-':>11} {'-':>9} {'-':>10} "
                  f"{time.perf_counter() - started:7.2f} {'-':>5}  refused at upload "
                  f"({exc.http_status}): {exc}")
            if key != "exe_named_txt":
                continue
            with sessions.begin() as session:  # as if stored before the sniffing existed
                document_id, _ = kb_documents.upsert_document(
                    session, CLIENT, key, name, kind="text", content=content,
                    sha256=hashlib.sha256(content).hexdigest())
            queue.process(CLIENT, document_id)
            key = "exe_stored_anyway"
            started = time.perf_counter()
        peak_worker = peak_child = 0
        at_start = rss_kb(worker.pid)
        row = None
        next_poll = 0.0
        while time.perf_counter() - started < args.timeout:
            peak_worker = max(peak_worker, rss_kb(worker.pid))
            for child in extraction_children(worker.pid):
                peak_child = max(peak_child, rss_kb(child))
            if time.perf_counter() >= next_poll:
                row = library.show_document(sessions, CLIENT, document_id)
                if row.status in ("ready", "failed"):
                    break
                next_poll = time.perf_counter() + 0.1
            if worker.poll() is not None:
                break
            time.sleep(0.01)
        elapsed = time.perf_counter() - started
        with sessions() as session:
            attempts = kb_documents.get_document(session, CLIENT, document_id).attempts
        outcome = row.status if row else "?"
        if row and row.status == "failed":
            outcome += f": {row.error}"
        elif row and row.status == "ready":
            outcome += f" ({row.chunk_count} chunks)"
        if worker.poll() is not None:
            outcome += f"  -- WORKER DIED (exit {worker.returncode})"
        print(f"{key:18} {len(content) / 1e6:7.2f}M {peak_worker / 1024:9.0f}MB "
              f"{(peak_worker - at_start) / 1024:+7.0f}MB {peak_child / 1024:8.0f}MB "
              f"{elapsed:7.2f} {attempts:5}  {outcome}")
        if worker.poll() is not None:
            break
    with open(f"/proc/{worker.pid}/status") as f:
        hwm = next(line for line in f if line.startswith("VmHWM:")).split()[1]
    print(f"\nworker alive: {worker.poll() is None}; its peak RSS over the whole run (VmHWM): "
          f"{int(hwm) / 1024:.0f} MB, at rest before the files {baseline / 1024:.0f} MB")
    return worker


if __name__ == "__main__":
    main()
