"""`agent-runtime demo` on a machine where no Postgres or Redis answers at the usual places: the
embedded servers and the real processes, drafts printed, and nothing left running after it —
whether it ends by itself or is stopped with Ctrl-C halfway."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

pytestmark = pytest.mark.e2e

BIN = str(Path(sys.executable).parent / "agent-runtime")

# Pointing at nothing: the demo must not need (or touch) the machine's own services.
ENV = {**os.environ, "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none",
       "REDIS_URL": "redis://127.0.0.1:1/0", "LLM_MODEL": "", "COLUMNS": "200",
       "LITELLM_LOCAL_MODEL_COST_MAP": "True"}


def _as_from_a_terminal() -> None:
    """Ctrl-C reaches the command as from a terminal: a test run started in the background by
    a non-interactive shell has SIGINT ignored, and a child inherits that across exec."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _stop_with_ctrl_c(proc: subprocess.Popen, running: list[psutil.Process]) -> str:
    """SIGINT, as Ctrl-C sends; its output. If it has not stopped within a minute, everything
    it started is killed (so later tests do not run beside it) and the test fails."""
    proc.send_signal(signal.SIGINT)
    try:
        return proc.communicate(timeout=60)[0]
    except subprocess.TimeoutExpired:
        for p in [*running, psutil.Process(proc.pid)]:
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass
        raise


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
    assert re.search(r"console: http://127\.0\.0\.1:\d+/  sign in with dealer \S+, name demo, "
                     r"secret \S+", out)
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
                            stderr=subprocess.STDOUT, text=True, preexec_fn=_as_from_a_terminal)
    lines = []
    for line in proc.stdout:  # wait until the servers and some processes are up
        lines.append(line)
        if "ready after" in line:
            break
    root = _demo_dir("".join(lines))
    running = _descendants_and_servers(proc.pid, root)
    assert any("postgres" in " ".join(p.cmdline()) for p in running)
    rest = _stop_with_ctrl_c(proc, running)
    assert proc.returncode == 0, rest
    assert "stopped everything the demo started" in rest
    psutil.wait_procs(running, timeout=10)
    assert [p for p in running if p.is_running() and p.status() != psutil.STATUS_ZOMBIE] == []
    assert _descendants_and_servers(proc.pid, root) == []


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


CONSOLE_LINE = re.compile(r"console: (http://127\.0\.0\.1:\d+/)  sign in with dealer (\S+), "
                          r"name (\S+), secret (\S+)  \(a new secret each start")


def _up(data_dir: Path, ports: list[int]
        ) -> tuple[subprocess.Popen, dict[str, str], tuple[str, ...]]:
    """`up` started; what it printed: the exported variables, and its console line's url,
    dealer, name and secret."""
    proc = subprocess.Popen(
        [BIN, "up", "--data-dir", str(data_dir), "--pg-port", str(ports[0]),
         "--redis-port", str(ports[1]), "--api-port", str(ports[2])],
        env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        preexec_fn=_as_from_a_terminal)
    env: dict[str, str] = {}
    console: tuple[str, ...] = ()
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.strip().startswith("export "):
            key, _, value = line.strip()[len("export "):].partition("=")
            env[key] = value
        if found := CONSOLE_LINE.search(line):
            console = found.groups()
        if line.startswith("Ctrl-C stops everything"):
            return proc, env, console
    raise AssertionError("".join(lines)[-3000:])


def _sign_in(url: str, dealer: str, name: str, secret: str) -> httpx.Response:
    """The console's sign-in form posted as a browser does; the page it leads to."""
    from tests.api.console_support import csrf_of

    with httpx.Client(base_url=url, timeout=30, follow_redirects=True) as http:
        form = http.get("/login")
        return http.post("/login", data={"csrf": csrf_of(form.text), "client": dealer,
                                         "name": name, "secret": secret})


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([BIN, *args], env={**ENV, **env}, capture_output=True, text=True,
                          timeout=60)


def _drafted_events(env: dict[str, str]) -> list[str]:
    from sqlalchemy import create_engine, text

    engine = create_engine(env["DATABASE_URL"])
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(
                "SELECT m.event_id FROM drafts d JOIN inbound_messages m "
                "ON m.id = d.inbound_message_id ORDER BY d.created_at")).scalars())
    finally:
        engine.dispose()


def test_up_keeps_its_data_across_a_restart_and_stops_cleanly(tmp_path):
    import json

    ports = [_free_port() for _ in range(3)]
    data_dir = tmp_path / "deployment"
    proc, env, console = _up(data_dir, ports)
    try:
        assert env["DATABASE_URL"].endswith(f":{ports[0]}/agent_runtime")
        url, dealer, name, secret = console
        assert url == f"http://127.0.0.1:{ports[2]}/" and name == "demo"
        queue = _sign_in(url, dealer, name, secret)
        assert queue.url.path == "/" and 'id="queue-list"' in queue.text, queue.text[-2000:]
        event = tmp_path / "event.json"
        event.write_text(json.dumps({"eventId": "up-1", "clientId": "northside-motors",
                                     "message": "Is the Golf still available?"}))
        assert _cli(env, "send", "chat", "--file", str(event)).returncode == 0
        deadline = time.monotonic() + 60
        while not _drafted_events(env):
            assert time.monotonic() < deadline, "no draft from the running deployment"
            time.sleep(0.5)
    finally:
        running = _descendants_and_servers(proc.pid, str(data_dir))
        _stop_with_ctrl_c(proc, running)
    assert proc.returncode == 0
    psutil.wait_procs(running, timeout=10)
    assert _descendants_and_servers(proc.pid, str(data_dir)) == []

    proc, env2, console = _up(data_dir, ports)  # again, on the same data
    try:
        assert env2["LEAD_HASH_KEY"] == env["LEAD_HASH_KEY"]
        assert _drafted_events(env2) == ["up-1"]
        # A way in again: the printed login signs in; the last run's secret no longer does.
        url, dealer, name, new_secret = console
        assert new_secret != secret
        assert 'id="queue-list"' in _sign_in(url, dealer, name, new_secret).text
        refused = _sign_in(url, dealer, name, secret)
        assert refused.url.path == "/login" and "Unknown dealer, name or secret" in refused.text
    finally:
        _stop_with_ctrl_c(proc, _descendants_and_servers(proc.pid, str(data_dir)))
    assert proc.returncode == 0
    assert _descendants_and_servers(proc.pid, str(data_dir)) == []
