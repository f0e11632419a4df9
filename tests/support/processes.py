"""Real processes for the fault suite (tests/faults) and the throughput benchmark
(bench/throughput.py): start each in its own process group with its log in a file, signal it,
wait for it, read its log tail, stop a set of them, and wait until a deployment is ready."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[2]
CLI = str(Path(sys.executable).parent / "agent-runtime")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Proc:
    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    product: bool = True  # an agent-runtime process (counted as crashed if it dies on its own)
    optional: bool = False  # may exit on its own (e.g. a profiler)
    popen: subprocess.Popen | None = None
    stopped_by_us: bool = False  # we killed / terminated it on purpose
    exit_code: int | None = None

    def start(self, append: bool = True) -> Proc:
        log_file = open(self.log_path, "ab" if append else "wb")  # noqa: SIM115 - the child keeps it
        self.popen = subprocess.Popen(
            self.argv, cwd=ROOT, env=self.env, stdout=log_file, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,  # own group: its children stop too
        )
        log_file.close()
        return self

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal(self, sig: int, group: bool = True) -> None:
        if self.popen is None:
            return
        try:
            if group:
                os.killpg(self.popen.pid, sig)  # the group created for this process
            else:
                self.popen.send_signal(sig)
        except (ProcessLookupError, PermissionError):
            pass

    def wait(self, timeout: float) -> int | None:
        if self.popen is None:
            return None
        try:
            self.exit_code = self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        return self.exit_code

    def tail(self, lines: int = 25) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(text[-lines:])


def stop_all(procs: Iterable[Proc], grace: float = 8.0) -> None:
    """SIGTERM every process group, wait up to `grace` seconds, then SIGKILL what is left (a
    prefork pool's children must not outlive their parent)."""
    procs = list(procs)
    for p in procs:
        p.stopped_by_us = True
        p.signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for p in procs:
        p.wait(max(0.1, deadline - time.monotonic()))
    for p in procs:
        p.signal(signal.SIGKILL)
        if p.alive() and p.wait(5) is None:
            print(f"warning: {p.name} (pid {p.pid}) did not stop", file=sys.stderr)


def run_cli(env: dict[str, str], *argv: str, timeout: float = 180) -> str:
    """`agent-runtime ARGV…`; its stdout, or RuntimeError with its stderr."""
    result = subprocess.run(
        [CLI, *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        raise RuntimeError(f"agent-runtime {' '.join(argv)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


class NotReady(Exception):
    """A readiness check's reason for saying no."""


def wait_until(
    what: str, check: Callable[[], bool], timeout: float, *, every: float = 0.2,
    still_running: Callable[[], None] = lambda: None, details: Callable[[], str] = lambda: "",
) -> None:
    """Poll `check` until it returns true; it may raise NotReady (or anything) to say why not.
    `still_running` raises when a process died meanwhile (no point waiting then)."""
    deadline = time.monotonic() + timeout
    why = "never checked"
    while time.monotonic() < deadline:
        still_running()
        try:
            if check():
                return
            why = "check returned false"
        except Exception as exc:  # noqa: BLE001 - not ready yet
            why = f"{type(exc).__name__}: {exc}"
        time.sleep(every)
    raise TimeoutError(f"{what} not ready after {timeout:.0f}s (last: {why})\n{details()}")


def ingress_ready(client: redis.Redis, streams: Iterable[str], group: str) -> bool:
    """Each stream's consumer group exists and the ingress has issued its first read."""
    for stream in streams:
        if not client.exists(stream):
            raise NotReady(f"{stream} does not exist yet (no group created)")
        groups = {
            (g["name"].decode() if isinstance(g["name"], bytes) else g["name"]): g
            for g in client.xinfo_groups(stream)
        }
        if group not in groups:
            raise NotReady(f"no group {group!r} on {stream}")
        if not groups[group]["consumers"]:
            raise NotReady(f"group on {stream} has no consumer yet (no read issued)")
    return True


def workers_ready(broker_url: str, names: Iterable[str]) -> bool:
    """Every named Celery worker answers a ping."""
    from celery import Celery

    names = sorted(names)
    probe = Celery("readiness-probe", broker=broker_url)
    try:
        replies = probe.control.ping(destination=names, timeout=1.0) or []
    finally:
        probe.close()
    answered = {name for reply in replies for name in reply}
    if not set(names) <= answered:
        raise NotReady(f"no ping reply from {sorted(set(names) - answered)}")
    return True
