"""`agent-runtime reviewers add|list|remove`: logins of the review console."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REDIS_URL

BIN = str(Path(sys.executable).parent / "agent-runtime")


def _run(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([BIN, *args], env={**os.environ, **env}, capture_output=True,
                          text=True, timeout=120)


def test_a_reviewer_is_added_with_a_secret_shown_once_listed_and_removed(database_url):
    env = {"DATABASE_URL": database_url, "REDIS_URL": REDIS_URL}
    refused = _run(env, "reviewers", "add", "dealer-a", "kim")
    assert refused.returncode == 2 and "not registered" in refused.stderr
    assert _run(env, "clients", "add", "dealer-a").returncode == 0
    added = _run(env, "reviewers", "add", "dealer-a", "kim")
    assert added.returncode == 0, added.stderr
    secret = json.loads(added.stdout)["secret"]
    assert len(secret) >= 20
    again = _run(env, "reviewers", "add", "dealer-a", "kim")
    assert again.returncode == 2 and "already has" in again.stderr

    listed = _run(env, "reviewers", "list", "dealer-a")
    assert [r["name"] for r in json.loads(listed.stdout)] == ["kim"]
    assert secret not in listed.stdout
    import psycopg

    with psycopg.connect(database_url.replace("+psycopg", "")) as conn:
        stored = conn.execute("SELECT secret_hash FROM reviewers").fetchone()[0]
    assert secret not in stored and stored.startswith("scrypt$")

    assert _run(env, "reviewers", "remove", "dealer-a", "kim").returncode == 0
    assert json.loads(_run(env, "reviewers", "list", "dealer-a").stdout) == []
    assert _run(env, "reviewers", "remove", "dealer-a", "kim").returncode == 2
