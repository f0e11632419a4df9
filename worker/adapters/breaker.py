"""A circuit breaker per model, its state shared by every node through Redis (pybreaker).

After `fail_max` failures in a row the model is skipped for `reset_timeout` seconds, so a
provider that is down is not hammered and the fallback model (or the offline drafter) takes
over at once. Refusals (permanent errors) say nothing about the provider's health and do not
count.
"""

from __future__ import annotations

import threading

import pybreaker
import redis

from worker.errors import CircuitOpen, PermanentError
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
        self._breakers: dict[str, pybreaker.CircuitBreaker] = {}
        self._lock = threading.Lock()

    def complete_json(self, model: str, messages: list[dict[str, str]]) -> ModelResponse:
        try:
            return self._breaker(model).call(self._inner.complete_json, model, messages)
        except pybreaker.CircuitBreakerError as exc:
            raise CircuitOpen(f"{model} is switched off for now: {exc}") from exc

    def state(self, model: str) -> str:
        return self._breaker(model).current_state

    def _breaker(self, model: str) -> pybreaker.CircuitBreaker:
        with self._lock:
            breaker = self._breakers.get(model)
            if breaker is None:
                storage = pybreaker.CircuitRedisStorage(
                    pybreaker.STATE_CLOSED, self._redis, namespace=f"{self._namespace}:{model}"
                )
                breaker = pybreaker.CircuitBreaker(
                    fail_max=self._fail_max,
                    reset_timeout=self._reset_timeout,
                    exclude=[PermanentError],
                    state_storage=storage,
                    name=model,
                    # The call that trips the breaker failed for real: report its own error.
                    throw_new_error_on_trip=False,
                )
                self._breakers[model] = breaker
            return breaker
