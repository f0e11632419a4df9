"""A whole deployment on one machine: embedded Postgres and Redis, migrated, and the production
processes (ingress, worker, beat, api) as children of this one, each started exactly as the
Procfile starts it (`python -m tasks.cli ingress`, …: what the `agent-runtime` script runs) with
the settings in its environment.

`Stack.stop()` ends everything it started, processes first (SIGTERM, as a supervisor would),
then the servers; each child also gets SIGTERM should this process die (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from worker.embedded.servers import (
    EmbeddedError, EmbeddedPostgres, EmbeddedRedis, die_with_parent, stop_process,
)

PROCESSES: dict[str, list[str]] = {
    "ingress": ["ingress"],
    # A handful of threads is plenty on a laptop; the Procfile's 200 are for production.
    "worker": ["worker", "--concurrency=8"],
    "beat": ["beat"],
    "api": ["api"],
}


@dataclass
class Stack:
    root: Path  # everything lives under it: postgres/, redis/, logs/
    pg_port: int
    redis_port: int
    api_port: int
    throwaway: bool = False  # the demo's: no fsync, no Redis persistence
    extra_env: dict[str, str] = field(default_factory=dict)
    postgres: EmbeddedPostgres = field(init=False)
    redis: EmbeddedRedis = field(init=False)
    procs: dict[str, subprocess.Popen] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.logs = self.root / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.postgres = EmbeddedPostgres(self.root / "postgres", self.pg_port,
                                         self.logs / "postgres.log", throwaway=self.throwaway)
        self.redis = EmbeddedRedis(self.root / "redis", self.redis_port, self.logs / "redis.log",
                                   persist=not self.throwaway)

    def start_servers(self) -> None:
        self.redis.start()
        self.postgres.start()

    def env(self) -> dict[str, str]:
        """What each process is given (and what a user needs to reach this deployment)."""
        return {
            "DATABASE_URL": self.postgres.url,
            "REDIS_URL": self.redis.url,
            "LEAD_HASH_KEY": self._lead_hash_key(),
            "API_HOST": "127.0.0.1",
            "API_PORT": str(self.api_port),
            "WORKER_METRICS_PORT": "0",
            "LOG_JSON": "true",
            **self.extra_env,
        }

    def _lead_hash_key(self) -> str:
        """Kept with the data: the lead keys of stored messages depend on it."""
        if os.environ.get("LEAD_HASH_KEY"):
            return os.environ["LEAD_HASH_KEY"]
        path = self.root / "lead-hash-key"
        if not path.exists():
            path.write_text(secrets.token_hex(32))
            path.chmod(0o600)
        return path.read_text().strip()

    def start_processes(self, names: Iterable[str] = PROCESSES) -> None:
        env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "PYTHONUNBUFFERED": "1",
               **self.env()}
        for name in names:
            log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - the child holds it
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-m", "tasks.cli", *PROCESSES[name]],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                cwd=self.root, start_new_session=True, preexec_fn=die_with_parent,
            )
            log.close()

    def wait_ready(self, timeout: float = 90.0,
                   on_ready: Callable[[str, float], None] | None = None) -> None:
        """Until each process has logged its `<name>.ready` line, and the api also accepts
        connections (it logs `api.ready` at start-up, just before uvicorn binds its port)."""
        started = time.monotonic()
        waiting = set(self.procs)
        while waiting:
            for name in sorted(waiting):
                proc = self.procs[name]
                if proc.poll() is not None:
                    raise EmbeddedError(f"{name} exited with code {proc.returncode}: "
                                        f"{self.log_tail(name)} (log: {self.logs / f'{name}.log'})")
                if _logged(self.logs / f"{name}.log", f"{name}.ready") and (
                        name != "api" or _accepts(self.api_port)):
                    waiting.discard(name)
                    if on_ready:
                        on_ready(name, time.monotonic() - started)
            if waiting and time.monotonic() - started > timeout:
                raise EmbeddedError(f"not ready after {timeout:g} s: {', '.join(sorted(waiting))}"
                                    f" (logs in {self.logs})")
            time.sleep(0.1)

    def crashed(self) -> list[str]:
        return [name for name, proc in self.procs.items() if proc.poll() is not None]

    def log_tail(self, name: str, chars: int = 600) -> str:
        try:
            return (self.logs / f"{name}.log").read_text(errors="replace").strip()[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        """Processes first (SIGTERM: each finishes what it holds), then Redis and Postgres."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            stop_process(proc, signal.SIGTERM, timeout=20)
            _kill_group(proc.pid)  # anything a process left behind in its own session
        self.redis.stop()
        self.postgres.stop()


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def _logged(path: Path, event: str) -> bool:
    try:
        with open(path, "rb") as f:
            for line in f:
                if b'"event"' in line and event.encode() in line:
                    try:
                        if orjson.loads(line).get("event") == event:
                            return True
                    except orjson.JSONDecodeError:
                        continue
    except FileNotFoundError:
        pass
    return False
