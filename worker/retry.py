"""One retry policy: how often and how soon to try again after a transient failure.

A small strategy object returning a decision (as procrastinate's retry.py): the model calls
(per model, within a drafting run), Celery's task retries (infrastructure down) and the
message's `next_attempt_at` (reprocessing by beat) are three instances of it, configured
from settings. Only transient failures are retried; a permanent one never is.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from worker.errors import TransientError


@dataclass(frozen=True)
class RetryDecision:
    retry: bool
    delay_seconds: float = 0.0

    def at(self, now: datetime) -> datetime | None:
        return now + timedelta(seconds=self.delay_seconds) if self.retry else None


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: attempt n (1-based) failed → wait base·2^(n-1), capped at
    max_seconds, scaled by a random factor in [jitter_min, jitter_max]; no retry after
    max_attempts attempts."""

    max_attempts: int = 3  # first try included
    base_seconds: float = 0.5
    max_seconds: float = 8.0
    jitter_min: float = 0.0  # 0..1: "full jitter", spreads a herd of retries over the window
    jitter_max: float = 1.0
    # The model chain: no model may hold a message longer than this, retries included.
    max_total_seconds: float = 120.0

    def backoff(self, attempt: int) -> float:
        ceiling = min(self.max_seconds, self.base_seconds * 2 ** max(attempt - 1, 0))
        return ceiling * random.uniform(self.jitter_min, self.jitter_max)

    def decide(self, attempt: int, error: BaseException) -> RetryDecision:
        """After `attempt` attempts, the last of which raised `error`."""
        if not is_transient(error) or attempt >= self.max_attempts:
            return RetryDecision(False)
        return RetryDecision(True, self.backoff(attempt))


def is_transient(error: BaseException) -> bool:
    """Worth trying again later: our transient kind, or infrastructure that is down for now."""
    from worker.adapters.infrastructure import is_outage

    return isinstance(error, TransientError) or is_outage(error)
