"""A command whose Postgres or Redis refuses, or that lacks DATABASE_URL, says so in one line on
stderr and exits 1 — no traceback to read through."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = str(Path(sys.executable).parent / "agent-runtime")
NO_PG = "postgresql+psycopg://postgres@127.0.0.1:1/none"
NO_REDIS = "redis://127.0.0.1:1/0"
EXAMPLE = str(Path(__file__).resolve().parents[2] / "worker" / "demo_data" / "event_chat.json")


@pytest.mark.parametrize(
    ("env", "args", "says"),
    [
        ({"DATABASE_URL": ""}, ["config", "show", "dealer-a"], "DATABASE_URL is not set"),
        ({"DATABASE_URL": NO_PG}, ["migrate"], "Postgres (DATABASE_URL) is not reachable"),
        ({"DATABASE_URL": NO_PG}, ["drafts", "list", "dealer-a"], "Connection refused"),
        ({"REDIS_URL": NO_REDIS}, ["send", "chat", "--file", EXAMPLE],
         "Redis (REDIS_URL) is not reachable"),
        ({"DATABASE_URL": NO_PG, "REDIS_URL": NO_REDIS, "LEAD_HASH_KEY": "k"}, ["ingress"],
         "is not reachable"),
        ({"DATABASE_URL": NO_PG}, ["api", "--port", "1"], "Postgres (DATABASE_URL) is not reachable"),
    ],
)
def test_a_refused_service_is_one_line_and_exit_code_1(env, args, says):  # noqa: ANN001
    result = subprocess.run([BIN, *args], env={**os.environ, **env}, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr[-2000:]
    assert lines[0].startswith("error: ") and says in lines[0]
