"""Extraction in a child process with a memory and a time limit, so no file takes a worker
down: a zip bomb or a pathological PDF exhausts the child's address space (RLIMIT_AS) or its
time, never the worker's memory, and the document is failed with that reason.

The child is a fresh interpreter (`python -m worker.knowledge.sandbox`), not a fork: the worker
is a pool of threads, and forking a threaded process can copy a lock held mid-way. It reads
the file on stdin and answers one JSON object on stdout. At most `concurrency` children run
per worker process, so many hostile uploads at once cost at most that many limits.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import threading
from dataclasses import asdict

import orjson

from worker.knowledge.bounds import MB, Limits, precheck
from worker.knowledge.errors import ExtractionFailed

_slots = threading.BoundedSemaphore(2)
_slots_size = 2
_slots_lock = threading.Lock()


def set_concurrency(n: int) -> None:
    """Children that may run at once in this process (KB_EXTRACT_CONCURRENCY)."""
    global _slots, _slots_size
    with _slots_lock:
        if n != _slots_size:
            _slots, _slots_size = threading.BoundedSemaphore(max(1, n)), max(1, n)


def extract_bounded(kind: str, content: bytes, limits: Limits) -> str:
    """The document's text, read in a limited child; ExtractionFailed with the reason when the
    file is past a bound, unreadable, or the child ran out of memory or time."""
    precheck(kind, content, limits)  # cheap, and a clearer reason than a killed child
    with _slots:
        return _run_child(kind, content, limits)


def _run_child(kind: str, content: bytes, limits: Limits) -> str:
    args = [sys.executable, "-m", "worker.knowledge.sandbox", kind,
            orjson.dumps(asdict(limits)).decode()]
    try:
        proc = subprocess.run(args, input=content, capture_output=True,
                              timeout=limits.timeout_seconds, close_fds=True)
    except subprocess.TimeoutExpired as exc:  # subprocess.run killed it already
        raise ExtractionFailed(
            f"reading the {kind.upper()} took longer than {limits.timeout_seconds:g} s; "
            "split it into smaller documents") from exc
    try:
        answer = orjson.loads(proc.stdout) if proc.stdout else None
    except orjson.JSONDecodeError:
        answer = None
    if isinstance(answer, dict) and answer.get("ok") is True:
        return str(answer["text"])
    if isinstance(answer, dict) and answer.get("reason"):
        raise ExtractionFailed(str(answer["reason"]))
    raise ExtractionFailed(_death_reason(kind, proc.returncode, proc.stderr, limits))


def _death_reason(kind: str, returncode: int, stderr: bytes, limits: Limits) -> str:
    if b"MemoryError" in stderr:
        return _memory_reason(kind, limits)
    if returncode in (-24, -9):  # SIGXCPU, then SIGKILL at the hard limit (or the OOM killer)
        return (f"reading the {kind.upper()} was stopped: it needed more than "
                f"{limits.timeout_seconds:g} s or {limits.memory_mb} MB")
    tail = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
    return f"the {kind.upper()} reader stopped (exit {returncode}): {tail[0][:300]}"


def _memory_reason(kind: str, limits: Limits) -> str:
    return (f"reading the {kind.upper()} needs more than {limits.memory_mb} MB of memory; "
            "split it into smaller documents")


# --- the child ---


def _limit_self(limits: Limits) -> None:
    memory = limits.memory_mb * MB
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = int(limits.timeout_seconds) + 2  # the parent's wall clock comes first
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # it writes no files
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _child(kind: str, limits: Limits) -> dict:
    from worker.knowledge.extract import extract_text

    content = sys.stdin.buffer.read()
    try:
        text = extract_text(kind, content, limits)
    except ExtractionFailed as exc:
        return {"ok": False, "reason": str(exc)}
    except MemoryError:
        return {"ok": False, "reason": _memory_reason(kind, limits)}
    except RecursionError:
        return {"ok": False, "reason": f"the {kind.upper()} is nested too deeply to be read"}
    if len(text) > limits.max_text_chars:
        return {"ok": False, "reason": f"the document's text has more than "
                f"{limits.max_text_chars:,} characters; split it into smaller documents"}
    return {"ok": True, "text": text}


def main() -> None:
    kind, raw_limits = sys.argv[1], sys.argv[2]
    limits = Limits(**orjson.loads(raw_limits))
    _limit_self(limits)
    try:
        answer = _child(kind, limits)
        out = orjson.dumps(answer)
    except MemoryError:
        answer, out = None, orjson.dumps({"ok": False, "reason": _memory_reason(kind, limits)})
    sys.stdout.buffer.write(out)
    sys.stdout.flush()
    os._exit(0)  # nothing left to clean up; skip the teardown of a huge heap


if __name__ == "__main__":
    main()
