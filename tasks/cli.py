"""The `agent-runtime` console script: worker/cli's commands plus the two that run Celery
(`worker`, `beat`), which live here because only tasks/ imports the tasks."""

from __future__ import annotations

import os

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
    from tasks.app import app as celery_app
    from tasks.app import stop_requested

    if nice:
        os.nice(nice)

    args = [
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
        from worker.logs import log

        log.error("worker.stopped_unasked", exit_code=code)
        code = 1
    raise SystemExit(code)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def beat(ctx: typer.Context) -> None:
    """Run the scheduler for failed-reply reprocessing and the outbox relay."""
    from tasks.app import app as celery_app

    celery_app.start(argv=["beat", "--loglevel=INFO", *ctx.args])


def main() -> None:
    _run_cli()  # the same app, now with `worker` and `beat`
