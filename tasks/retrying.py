"""Celery's retry, decided by the one retry policy (worker/retry.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from celery import Task

from worker.retry import RetryPolicy


@contextmanager
def retry_transient(task: Task, policy: RetryPolicy) -> Iterator[None]:
    """Retry the running task after a transient failure, as often and as late as `policy`
    says; anything else (and the last failure) propagates."""
    try:
        yield
    except Exception as exc:
        decision = policy.decide(task.request.retries + 1, exc)
        if not decision.retry:
            raise
        raise task.retry(
            exc=exc, countdown=decision.delay_seconds, max_retries=policy.max_attempts - 1
        ) from exc
