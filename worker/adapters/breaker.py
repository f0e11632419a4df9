"""A circuit breaker per model, its state shared by every node through Redis.

After `fail_max` transient failures in a row the model is switched off for `reset_timeout`
seconds, so a provider that is down is not hammered and the fallback model (or the offline
drafter) takes over at once. Then one call is let through as a probe (half-open): success
closes the circuit, failure opens it again. Refusals (permanent errors) say nothing about the
provider's health and do not count.

Written here rather than taken from pybreaker: pybreaker holds a lock for the whole call, so
a worker's threads would call each model one at a time.
"""

from __future__ import annotations

import time

import redis

from worker.errors import CircuitOpen, TransientError
from worker.logs import log
from worker.ports import ModelClient, ModelResponse


class BreakerModelClient:
    def __init__(
        self,
        inner: ModelClient,
        client: redis.Redis,
        namespace: str,
        fail_max: int = 20,
        reset_timeout: float = 30.0,
    ):
        self._inner = inner
        self._redis = client
        self._namespace = namespace
        self._fail_max = fail_max
        self._reset_timeout = reset_timeout

    def complete_json(self, model: str, messages: list[dict[str, str]]) -> ModelResponse:
        failures_key, open_key, probe_key = self._keys(model)
        failures, open_until = self._redis.mget(failures_key, open_key)
        failures = int(failures or 0)
        if failures >= self._fail_max:
            if open_until and time.time() < float(open_until):
                raise CircuitOpen(f"{model} is switched off after {failures} failures in a row")
            # Half-open: one caller probes the provider; the others keep away meanwhile.
            if not self._redis.set(probe_key, 1, nx=True, ex=max(1, int(self._reset_timeout))):
                raise CircuitOpen(f"{model} is being probed after {failures} failures in a row")
        try:
            response = self._inner.complete_json(model, messages)
        except TransientError:
            self._record_failure(model, failures_key, open_key, probe_key)
            raise
        if failures:
            self._redis.delete(failures_key, open_key, probe_key)
        return response

    def state(self, model: str) -> str:
        failures_key, open_key, _ = self._keys(model)
        failures, open_until = self._redis.mget(failures_key, open_key)
        if int(failures or 0) < self._fail_max:
            return "closed"
        return "open" if open_until and time.time() < float(open_until) else "half-open"

    def _record_failure(self, model: str, failures_key: str, open_key: str, probe_key: str) -> None:
        count = self._redis.incr(failures_key)
        if count >= self._fail_max:
            pipe = self._redis.pipeline(transaction=False)
            pipe.set(open_key, time.time() + self._reset_timeout)
            pipe.delete(probe_key)
            pipe.execute()
            if count == self._fail_max:
                log.warning("llm.breaker.opened", model=model, failures=count,
                            seconds=self._reset_timeout)

    def _keys(self, model: str) -> tuple[str, str, str]:
        base = f"{self._namespace}:{model}"
        return f"{base}:failures", f"{base}:open_until", f"{base}:probe"
