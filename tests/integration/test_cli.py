"""The command line as an admin and an operator use it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

BIN = str(Path(sys.executable).parent / "agent-runtime")


def _run(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([BIN, *args], env={**os.environ, **env}, capture_output=True,
                          text=True, timeout=120)


def test_config_set_show_round_trip_and_versions(database_url, tmp_path):
    env = {"DATABASE_URL": database_url}
    config = {"name": "Ava", "personality": "cheerful", "dosList": ["Offer a test drive"],
              "industry": "automotive", "allowedModels": ["openai/premium"]}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    first = _run(env, "config", "set", "dealer-a", "--file", str(path))
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["version"] == 1

    shown = json.loads(_run(env, "config", "show", "dealer-a").stdout)
    assert shown["name"] == "Ava" and shown["dosList"] == ["Offer a test drive"]
    assert shown["allowedModels"] == ["openai/premium"] and shown["version"] == 1

    path.write_text(json.dumps({**shown, "name": "Ava II"}))  # `show` output can be fed back
    assert json.loads(_run(env, "config", "set", "dealer-a", "--file", str(path)).stdout)[
        "version"] == 2
    history = json.loads(_run(env, "config", "history", "dealer-a").stdout)
    assert [(h["version"], h["active"]) for h in history] == [(2, True), (1, False)]


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("{not json", "not valid JSON"),
        (json.dumps({"name": ""}), "name"),
        (json.dumps({"dosList": "not a list"}), "dosList"),
        (json.dumps({"colour": "red"}), "colour"),
    ],
)
def test_config_set_rejects_invalid_files_with_a_clear_error(database_url, tmp_path, content,
                                                             fragment):
    path = tmp_path / "config.json"
    path.write_text(content)
    result = _run({"DATABASE_URL": database_url}, "config", "set", "dealer-a", "--file", str(path))
    assert result.returncode == 2
    assert fragment in result.stderr and "Traceback" not in result.stderr


def test_config_show_of_unknown_client_fails(database_url):
    result = _run({"DATABASE_URL": database_url}, "config", "show", "nobody")
    assert result.returncode == 2 and "not registered" in result.stderr


def test_migrate_twice_and_one_active_config_per_client_is_enforced(database_url):
    env = {"DATABASE_URL": database_url}
    assert _run(env, "migrate").returncode == 0
    assert _run(env, "migrate").returncode == 0
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO clients (id, created_at) VALUES ('c', now())"))
        conn.execute(text("INSERT INTO agent_configs VALUES ('a', 'c', 1, true, '{}', now())"))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text("INSERT INTO agent_configs VALUES ('b', 'c', 2, true, '{}', now())"))
    engine.dispose()
