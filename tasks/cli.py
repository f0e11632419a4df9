"""The `agent-runtime` console script: worker/cli's commands plus the two that run Celery
(`worker`, `beat`), which live here because only tasks/ imports the tasks."""

from __future__ import annotations

import os
import sys

import typer

from worker.cli.main import app
from worker.cli.main import main as _run_cli


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def worker(
    ctx: typer.Context,
    nice: int = typer.Option(
        0, "--nice", min=0, max=19,
        help="lower this worker's CPU priority (the Procfile's all-queue worker uses 10, so a "
        "CPU-bound e-mail backlog yields to the chat worker and ingress)",
    ),
) -> None:
    """Run a drafting worker (Celery). Extra arguments go to `celery worker`.

    Exits non-zero whenever it stops without being told to (even where Celery would exit 0,
    as after some broker reconnects), so any supervisor restarts it."""
    import celery.apps.worker as celery_worker

    from tasks.app import app as celery_app
    from tasks.app import stop_requested
    from worker.cli.common import settings
    from worker.logs import configure_logging, log

    if nice:
        os.nice(nice)
    cfg = settings()
    configure_logging(cfg.log_level, cfg.log_json)  # before Celery warns about anything
    # Celery writes "worker: Warm shutdown (MainProcess)" straight to the stderr descriptor;
    # as a log line it stays one JSON object like the rest.
    celery_worker.safe_say = lambda msg, *_: log.info("worker.shutdown", how=msg.strip())

    args = [
        "--quiet",  # no banner: the log is JSON lines only ("worker.ready" says it is up)
        "worker",
        "--pool=threads",
        "--concurrency=200",
        "--queues=drafts.chat,drafts.email,maintenance",
        "--without-gossip",
        "--without-mingle",
        "--loglevel=INFO",
        *ctx.args,
    ]
    try:
        celery_app.worker_main(argv=args)
        code: object = 0
    except SystemExit as exc:
        code = exc.code
    if not code and not stop_requested.is_set():
        log.error("worker.stopped_unasked", exit_code=code)
        code = 1
    log.info("worker.stopped", exit_code=code)
    _exit_now(code)


def _exit_now(code: object) -> None:
    """Celery has stopped and every connection is closed: exit without the interpreter's
    teardown, which garbage-collects the whole heap (litellm's is large) and took an idle
    worker 10-20 s after SIGTERM on a busy 2-core machine."""
    if isinstance(code, str):
        sys.stderr.write(code + "\n")
        code = 1
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(code if isinstance(code, int) else 0)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def beat(ctx: typer.Context) -> None:
    """Run the scheduler for failed-reply reprocessing and the outbox relay."""
    from tasks.app import app as celery_app
    from worker.cli.common import settings
    from worker.logs import configure_logging

    cfg = settings()
    configure_logging(cfg.log_level, cfg.log_json)
    celery_app.start(argv=["--quiet", "beat", "--loglevel=INFO", *ctx.args])


def main() -> None:
    _run_cli()  # the same app, now with `worker` and `beat`


if __name__ == "__main__":  # `python -m tasks.cli …`, as worker/embedded starts the processes
    main()
