"""`agent-runtime demo` on a machine where no Postgres or Redis answers at the usual places: the
embedded servers and the real processes, drafts printed, and nothing left running after it —
whether it ends by itself or is stopped with Ctrl-C halfway."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.e2e

BIN = str(Path(sys.executable).parent / "agent-runtime")
# Pointing at nothing: the demo must not need (or touch) the machine's own services.
ENV = {**os.environ, "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none",
       "REDIS_URL": "redis://127.0.0.1:1/0", "LLM_MODEL": "", "COLUMNS": "200",
       "LITELLM_LOCAL_MODEL_COST_MAP": "True"}


def _descendants_and_servers(pid: int, root_hint: str) -> list[psutil.Process]:
    """Every process the demo started: its descendants, and any server whose command line or
    working directory is in the demo's temporary directory (they run in their own session)."""
    found = []
    for proc in psutil.process_iter(["pid", "cmdline", "cwd"]):
        try:
            text = " ".join(proc.info["cmdline"] or []) + " " + (proc.info["cwd"] or "")
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        if root_hint in text and proc.pid != os.getpid():
            found.append(proc)
    try:
        found += psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        pass
    return found


def _demo_dir(out: str) -> str:
    for line in out.splitlines():
        if "embedded Postgres and Redis in " in line:
            return line.split("embedded Postgres and Redis in ", 1)[1].strip()
    raise AssertionError(f"the demo did not say where it runs:\n{out[-2000:]}")


def test_demo_prints_drafts_made_by_the_real_processes_and_leaves_nothing_behind():
    started = time.monotonic()
    result = subprocess.run([BIN, "demo"], env=ENV, capture_output=True, text=True, timeout=240)
    took = time.monotonic() - started
    out = result.stdout
    assert result.returncode == 0, out[-3000:] + result.stderr[-3000:]
    for process in ("ingress", "worker", "beat", "api"):
        assert f"{process} ready after" in out
    assert "Drafts on the review stream" in out
    assert "Mia from Northside Motors" in out and "Lakeview Homes Lettings Desk" in out
    assert "degraded" in out  # no LLM_MODEL: the offline drafter, and it says so
    assert "not registered" in out and "not valid JSON" in out  # kept aside, with reasons
    assert "9 events: 5 drafted, 1 repeat, 3 kept aside" in out
    assert "eventId 'chat-1001' was already stored" in out
    root = _demo_dir(out)
    assert not Path(root).exists()
    assert _descendants_and_servers(0, root) == []
    assert took < 120, f"the demo took {took:.0f} s"


def test_ctrl_c_during_the_demo_stops_every_process_it_started():
    proc = subprocess.Popen([BIN, "demo"], env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    lines = []
    for line in proc.stdout:  # wait until the servers and some processes are up
        lines.append(line)
        if "ready after" in line:
            break
    root = _demo_dir("".join(lines))
    running = _descendants_and_servers(proc.pid, root)
    assert any("postgres" in " ".join(p.cmdline()) for p in running)
    proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
    rest = proc.communicate(timeout=60)[0]
    assert proc.returncode == 0, rest
    assert "stopped everything the demo started" in rest
    psutil.wait_procs(running, timeout=10)
    assert [p for p in running if p.is_running() and p.status() != psutil.STATUS_ZOMBIE] == []
    assert _descendants_and_servers(proc.pid, root) == []
