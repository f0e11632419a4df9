"""Recall quality on LoCoMo, through the command line a operator (and every draft) uses.

Each of the ten conversations becomes one lead's memory under its own client
(`agent-runtime memory import`: one item per turn, "Speaker: text", one conversation per
session, the session's date as createdAt, dia_id as externalId). The 1,536 questions of
categories 1–4 that name evidence are asked through `agent-runtime memory search --file` with
the lead's id, exactly as a draft recalls. Prints recall@5 and recall@10 of the evidence turns
and how many results came from another client (must be 0).

    .venv/bin/python bench/locomo_recall.py            # a fresh database on local Postgres

Needs Postgres (TEST_PG_ADMIN_URL, default postgresql://postgres@127.0.0.1:5432/postgres) and
../shared/datasets/locomo10 (SHARED_DIR overrides).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
BIN = str(Path(sys.executable).parent / "agent-runtime")
SHARED = Path(os.environ.get("SHARED_DIR", ROOT.parent / "shared"))
PG_ADMIN = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def run(env: dict, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run([BIN, *args], env=env, capture_output=True, text=True, input=stdin)
    if done.returncode != 0:
        sys.exit(f"agent-runtime {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def session_start(value: str) -> datetime:
    return datetime.strptime(value, "%I:%M %p on %d %B, %Y").replace(tzinfo=timezone.utc)


def items_of(conv_id: str, data: dict) -> list[dict]:
    conv = data["conversation"] if "conversation" in data else data
    items = []
    sessions = sorted(
        (int(k.split("_")[1]), k) for k, v in conv.items()
        if k.startswith("session_") and not k.endswith("date_time") and isinstance(v, list)
    )
    for number, key in sessions:
        start = session_start(conv[f"{key}_date_time"])
        for i, turn in enumerate(conv[key]):
            items.append({
                "text": f"{turn['speaker']}: {turn['text']}",
                "kind": "inbound_message",
                "leadId": f"locomo-{conv_id}",
                "conversationId": f"locomo-{conv_id}-s{number}",
                "createdAt": (start + timedelta(seconds=30 * i)).isoformat(),
                "externalId": turn["dia_id"],
            })
    return items


def questions_of(data: dict) -> list[dict]:
    return [q for q in data["qa"] if q.get("category") in (1, 2, 3, 4) and q.get("evidence")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="use this (migrated) database instead of a new one")
    parser.add_argument("--keep", action="store_true", help="keep the database it created")
    args = parser.parse_args()
    files = sorted((SHARED / "datasets" / "locomo10").glob("*.json"))
    if not files:
        sys.exit(f"no LoCoMo files under {SHARED / 'datasets' / 'locomo10'}")

    dbname = None
    url = args.database_url
    if url is None:
        dbname = f"bench_locomo_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{dbname}"')
        url = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + "/" + dbname
    env = {**os.environ, "DATABASE_URL": url, "LITELLM_LOCAL_MODEL_COST_MAP": "True",
           "LOG_LEVEL": "WARNING"}
    try:
        run(env, "migrate")
        hits5 = hits10 = 0.0
        asked = foreign = 0
        per_category: dict[int, list[float]] = defaultdict(list)
        search_seconds = 0.0
        with tempfile.TemporaryDirectory() as tmp:
            for path in files:
                conv_id = path.stem
                client = f"locomo-{conv_id}"
                data = json.loads(path.read_text())
                cfg = Path(tmp, "config.json")
                cfg.write_text(json.dumps({"name": "Bench"}))
                run(env, "config", "set", client, "--file", str(cfg))
                items = Path(tmp, f"{conv_id}.jsonl")
                items.write_text("\n".join(json.dumps(i) for i in items_of(conv_id, data)))
                run(env, "memory", "import", client, "--file", str(items))
                questions = questions_of(data)
                qfile = Path(tmp, f"{conv_id}.q.jsonl")
                qfile.write_text("\n".join(
                    json.dumps({"query": q["question"], "leadId": f"locomo-{conv_id}"})
                    for q in questions))
                started = time.perf_counter()
                out = run(env, "memory", "search", client, "--file", str(qfile), "--k", "10")
                search_seconds += time.perf_counter() - started
                answers = [json.loads(line) for line in out.splitlines()]
                assert len(answers) == len(questions), (len(answers), len(questions))
                for q, answer in zip(questions, answers):
                    evidence = set(q["evidence"])
                    got = [r["externalId"] for r in answer["results"]]
                    foreign += sum(r["clientId"] != client for r in answer["results"])
                    r5 = len(evidence & set(got[:5])) / len(evidence)
                    r10 = len(evidence & set(got[:10])) / len(evidence)
                    hits5 += r5
                    hits10 += r10
                    per_category[q["category"]].append(r10)
                    asked += 1
        print(f"questions (categories 1-4, with evidence): {asked}")
        print(f"recall@5  = {hits5 / asked:.3f}")
        print(f"recall@10 = {hits10 / asked:.3f}")
        for cat in sorted(per_category):
            values = per_category[cat]
            print(f"  category {cat}: recall@10 = {sum(values) / len(values):.3f} ({len(values)})")
        print(f"results from another client: {foreign}")
        print(f"search wall time incl. CLI start-up: {search_seconds:.1f} s for {asked} queries")
    finally:
        if dbname and not args.keep:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


if __name__ == "__main__":
    main()
