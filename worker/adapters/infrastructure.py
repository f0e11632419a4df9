"""Infrastructure that is down for now, as one definition: the database or Redis did not
answer. Such an error is transient (worker.retry.is_transient): the same work succeeds once
the service is back."""

from __future__ import annotations

import redis
from sqlalchemy.exc import OperationalError

INFRASTRUCTURE_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    redis.ConnectionError,
    redis.TimeoutError,
)


def is_outage(exc: BaseException) -> bool:
    """A dependency is unreachable (or Redis lost a consumer group with its data)."""
    if isinstance(exc, INFRASTRUCTURE_ERRORS):
        return True
    return isinstance(exc, redis.ResponseError) and "NOGROUP" in str(exc)
