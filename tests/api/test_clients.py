"""`clients delete` announces itself like `keys revoke`: the client's cached keys stop working
in every API process at once; and no write through the API ever brings a client back."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import delete

from tests.conftest import REDIS_URL
from worker.store import tenants
from worker.store.models import Client

BIN = str(Path(sys.executable).parent / "agent-runtime")


def _cli(api, *args: str) -> subprocess.CompletedProcess:  # noqa: ANN001
    env = {**os.environ, "DATABASE_URL": api.rt.settings.database_url, "REDIS_URL": REDIS_URL,
           "REDIS_NAMESPACE": api.rt.settings.redis_namespace}
    return subprocess.run([BIN, *args], env=env, capture_output=True, text=True, timeout=120)


def _exists(api, client_id: str) -> bool:  # noqa: ANN001
    with api.rt.sessions() as session:
        return tenants.client_exists(session, client_id)


def test_clients_delete_stops_the_clients_cached_key_at_once(api):
    http = api.client_with_key("gone", {"name": "Gina"})
    assert http.get("/api/agent/config/active").status_code == 200  # the key is cached now
    assert http.post("/api/agent/kb/folders", json={"path": "service"}).status_code == 201
    refused = _cli(api, "clients", "delete", "gone")
    assert refused.returncode == 2 and "--yes" in refused.stderr and _exists(api, "gone")
    deleted = _cli(api, "clients", "delete", "gone", "--yes")
    assert deleted.returncode == 0, deleted.stderr
    deadline = time.monotonic() + 10
    while http.get("/api/agent/config/active").status_code != 401:
        assert time.monotonic() < deadline, "a deleted client's key is still accepted"
        time.sleep(0.01)
    assert not _exists(api, "gone")
    again = _cli(api, "clients", "delete", "gone", "--yes")
    assert again.returncode == 2 and "no client" in again.stderr


def test_writes_of_a_client_deleted_behind_the_caches_back_never_recreate_it(api):
    http = api.client_with_key("gone", {"name": "Gina"})
    admin = api.admin(**{"X-Client-Id": "gone"})
    assert http.get("/api/agent/config/active").status_code == 200  # key and config cached
    assert admin.get("/api/agent/config/active").status_code == 200
    with api.rt.sessions.begin() as session:  # deleted without an announcement
        session.execute(delete(Client).where(Client.id == "gone"))
    for caller in (http, admin):
        assert caller.put("/api/agent/config/active", json={"name": "Back"}).status_code == 404
        assert caller.post("/api/agent/kb/folders", json={"path": "x"}).status_code == 404
        upload = caller.post("/api/agent/kb/documents?filename=a.md", content=b"# Hours",
                             headers={"Content-Type": "text/markdown"})
        assert upload.status_code == 404
        assert caller.post("/api/agent/reply", json={"message": "Hi"}).status_code in (404, 422)
    assert not _exists(api, "gone")
