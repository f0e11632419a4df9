"""The one retry policy: what is retried, how late, and when it gives up."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import redis
from sqlalchemy.exc import OperationalError

from worker.errors import AllModelsUnavailable, BadEvent, PermanentError, TransientError
from worker.retry import RetryPolicy, is_transient

POLICY = RetryPolicy(max_attempts=4, base_seconds=2.0, max_seconds=5.0)


@pytest.mark.parametrize("error", [
    TransientError("later"), AllModelsUnavailable("503"),
    OperationalError("SELECT 1", {}, Exception("connection refused")),
    redis.ConnectionError("refused"), redis.TimeoutError("slow"),
])
def test_transient_kinds_and_infrastructure_outages_are_retried(error):
    assert is_transient(error)
    assert POLICY.decide(1, error).retry


@pytest.mark.parametrize("error", [PermanentError("no"), BadEvent("bad"), ValueError("bug")])
def test_permanent_failures_and_bugs_are_never_retried(error):
    assert not POLICY.decide(1, error).retry


def test_backoff_doubles_per_attempt_up_to_its_ceiling_with_full_jitter():
    for attempt, ceiling in [(1, 2.0), (2, 4.0), (3, 5.0)]:
        delays = [POLICY.decide(attempt, TransientError()).delay_seconds for _ in range(200)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.8  # spread over the whole window, not one value


def test_gives_up_after_max_attempts():
    assert POLICY.decide(3, TransientError()).retry
    assert not POLICY.decide(4, TransientError()).retry


def test_a_decision_dates_the_next_attempt():
    now = datetime(2026, 1, 5, tzinfo=timezone.utc)
    narrow = RetryPolicy(max_attempts=5, base_seconds=60, max_seconds=float("inf"),
                         jitter_min=0.8, jitter_max=1.2)
    at = narrow.decide(2, TransientError()).at(now)
    assert now + timedelta(seconds=96) <= at <= now + timedelta(seconds=144)
    assert narrow.decide(5, TransientError()).at(now) is None
