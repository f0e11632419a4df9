"""`agent-runtime worker`, unchanged, plus one observer for the fault suite.

Run as `python -m tests.faults.worker_probe worker --concurrency=… -n name@%h`: the same Typer
command line (`tasks.cli`) as the `agent-runtime` console script, with a Celery
`task_postrun` handler that appends one JSON line per finished `drafts.draft_message` run to
`$FAULT_PROBE_DIR/tasks-<pid>.jsonl` (task id, message id, state, the outcome the task returned).
The suite counts "task runs that reported drafted" from these lines; nothing else differs.
"""

from __future__ import annotations

import json
import os
import sys

from celery import signals

_DIR = os.environ.get("FAULT_PROBE_DIR")


def _record(sender=None, task_id=None, args=None, retval=None, state=None, **_kw):  # noqa: ANN001
    if not _DIR or sender is None or getattr(sender, "name", "") != "drafts.draft_message":
        return
    args = list(args or ())
    line = json.dumps(
        {
            "task": task_id,
            "client": args[0] if len(args) > 0 else None,
            "message": args[1] if len(args) > 1 else None,
            "state": state,
            "outcome": retval if isinstance(retval, str) else None,
        }
    )
    fd = os.open(
        os.path.join(_DIR, f"tasks-{os.getpid()}.jsonl"),
        os.O_WRONLY | os.O_APPEND | os.O_CREAT,
        0o644,
    )
    try:
        os.write(fd, (line + "\n").encode())  # one write per line: atomic with O_APPEND
    finally:
        os.close(fd)


signals.task_postrun.connect(_record, weak=False)


if __name__ == "__main__":
    from tasks.cli import main

    sys.argv = ["agent-runtime", *sys.argv[1:]]
    main()
