"""Per-client rate limit and daily token/cost budget, shared by every node through Redis.

Over a limit, a message is deferred (drafted later), never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import redis
from limits import RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter


@dataclass(frozen=True)
class LimitPolicy:
    per_minute: int = 0  # drafts per minute; 0: no limit
    daily_tokens: int = 0  # prompt + completion tokens per UTC day; 0: no budget
    daily_cost_usd: float = 0.0  # per UTC day; 0: no budget

    @property
    def has_budget(self) -> bool:
        return bool(self.daily_tokens or self.daily_cost_usd)


class ClientLimits:
    def __init__(self, client: redis.Redis, storage_uri: str, namespace: str):
        self._redis = client
        self._namespace = namespace
        self._limiter = MovingWindowRateLimiter(
            storage_from_string(storage_uri, key_prefix=f"{namespace}:rate")
        )

    def defer_until(self, client_id: str, policy: LimitPolicy) -> tuple[datetime, str] | None:
        """When the client may draft again and why, or None to go ahead (counts one draft)."""
        now = datetime.now(timezone.utc)
        if policy.has_budget:
            tokens, cost = self._redis.mget(self._budget_keys(client_id, now))
            if policy.daily_tokens and int(tokens or 0) >= policy.daily_tokens:
                return _next_utc_midnight(now), f"daily token budget of {policy.daily_tokens} used"
            if policy.daily_cost_usd and float(cost or 0) >= policy.daily_cost_usd:
                return _next_utc_midnight(now), f"daily cost budget of ${policy.daily_cost_usd} used"
        if policy.per_minute:
            item = RateLimitItemPerMinute(policy.per_minute)
            if not self._limiter.hit(item, "client", client_id):
                reset = self._limiter.get_window_stats(item, "client", client_id).reset_time
                until = max(datetime.fromtimestamp(reset, timezone.utc), now + timedelta(seconds=1))
                return until, f"rate limit of {policy.per_minute} drafts per minute reached"
        return None

    def record_usage(self, client_id: str, tokens: int, cost_usd: float) -> None:
        if not tokens and not cost_usd:
            return
        tokens_key, cost_key = self._budget_keys(client_id, datetime.now(timezone.utc))
        pipe = self._redis.pipeline(transaction=False)
        pipe.incrby(tokens_key, tokens)
        pipe.incrbyfloat(cost_key, cost_usd)
        pipe.expire(tokens_key, 2 * 86_400)
        pipe.expire(cost_key, 2 * 86_400)
        pipe.execute()

    def _budget_keys(self, client_id: str, now: datetime) -> list[str]:
        day = now.date().isoformat()
        base = f"{self._namespace}:budget:{client_id}:{day}"
        return [f"{base}:tokens", f"{base}:cost"]


def _next_utc_midnight(now: datetime) -> datetime:
    return datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), timezone.utc)
