"""The operator's commands: clients, keys, health, stats."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

from tests.conftest import REDIS_URL
from worker.health import beat_heart

BIN = str(Path(sys.executable).parent / "agent-runtime")


def _run(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([BIN, *args], env={**os.environ, **env}, capture_output=True,
                          text=True, timeout=120)


def test_keys_are_created_listed_and_revoked_and_never_shown_twice(database_url):
    env = {"DATABASE_URL": database_url, "REDIS_URL": REDIS_URL}
    refused = _run(env, "keys", "create", "dealer-a")
    assert refused.returncode == 2 and "not registered" in refused.stderr
    assert _run(env, "clients", "add", "dealer-a").returncode == 0
    created = _run(env, "keys", "create", "dealer-a", "--name", "front desk")
    assert created.returncode == 0, created.stderr
    key = json.loads(created.stdout)
    assert key["key"].startswith(key["prefix"]) and key["clientId"] == "dealer-a"
    admin = json.loads(_run(env, "keys", "create", "--admin").stdout)
    assert admin["admin"] is True and admin["clientId"] is None
    assert _run(env, "keys", "create").returncode == 2  # neither a client nor --admin

    listed = _run(env, "keys", "list").stdout
    assert key["prefix"] in listed and key["key"] not in listed and "(admin)" in listed
    assert _run(env, "keys", "revoke", key["prefix"]).returncode == 0
    again = _run(env, "keys", "revoke", key["prefix"])
    assert again.returncode == 2 and "no active key" in again.stderr


def test_health_exit_code_follows_the_checks_and_stats_print_per_client(database_url,
                                                                        redis_client):
    namespace = f"test:{uuid.uuid4().hex[:10]}"
    env = {"DATABASE_URL": database_url, "REDIS_URL": REDIS_URL, "REDIS_NAMESPACE": namespace,
           "INBOUND_CHAT_STREAM": f"{namespace}:chat", "INBOUND_EMAIL_STREAM": f"{namespace}:mail"}
    unhealthy = _run(env, "health")
    assert unhealthy.returncode == 1
    report = json.loads(unhealthy.stdout)
    assert report["status"] == "unhealthy" and report["checks"]["workers"]["ok"] is False
    beat_heart(redis_client, namespace, "w1")
    try:
        healthy = _run(env, "health")
        assert healthy.returncode == 0, healthy.stdout
    finally:
        redis_client.delete(f"{namespace}:workers")

    for client in ("dealer-a", "dealer-b"):
        assert _run(env, "clients", "add", client).returncode == 0
    table = _run(env, "stats", "--days", "1")
    assert table.returncode == 0, table.stderr
    assert "dealer-a" in table.stdout and "approval rate" in table.stdout
