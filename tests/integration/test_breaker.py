"""The per-model circuit breaker on real Redis, calling the fake model over HTTP."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from worker.adapters.breaker import BreakerModelClient
from worker.adapters.llm_litellm import LiteLLMClient
from worker.errors import CircuitOpen, TransientError

MESSAGES = [{"role": "system", "content": "You are Ava, writing"},
            {"role": "user", "content": "<lead_message id=\"x\">\nhi\n</lead_message id=\"x\">"}]


@pytest.fixture
def breaker(redis_client, fake_llm):  # noqa: ANN001
    namespace = f"test:breaker:{uuid.uuid4().hex[:8]}"
    inner = LiteLLMClient(fake_llm.url, "sk-test", timeout_seconds=5, max_tokens=100)
    yield BreakerModelClient(inner, redis_client, namespace, fail_max=3, reset_timeout=1.0)
    for key in redis_client.scan_iter(match=f"{namespace}*"):
        redis_client.delete(key)


def test_calls_to_one_model_run_in_parallel(breaker, fake_llm):
    model = f"slow-1000-{uuid.uuid4().hex[:6]}"
    with ThreadPoolExecutor(20) as pool:
        list(pool.map(lambda _: breaker.complete_json(f"openai/{model}", MESSAGES), range(20)))
    # The server saw many of the 20 one-second calls at the same time, not one after another.
    seen = httpx.get(fake_llm.url.rsplit("/v1", 1)[0] + "/_max_in_flight",
                     params={"model": model}).json()["max"]
    assert seen >= 10


def test_opens_after_failures_in_a_row_then_a_probe_closes_it(breaker, fake_llm):
    model = f"flaky-{uuid.uuid4().hex[:6]}"
    httpx.post(fake_llm.url.rsplit("/v1", 1)[0] + "/_script",
               json={"model": model, "responses": ["500", "500", "500"]}).raise_for_status()
    for _ in range(3):
        with pytest.raises(TransientError):
            breaker.complete_json(f"openai/{model}", MESSAGES)
    assert breaker.state(f"openai/{model}") == "open"
    with pytest.raises(CircuitOpen):
        breaker.complete_json(f"openai/{model}", MESSAGES)
    time.sleep(1.1)
    assert breaker.state(f"openai/{model}") == "half-open"
    breaker.complete_json(f"openai/{model}", MESSAGES)  # the probe succeeds
    assert breaker.state(f"openai/{model}") == "closed"


def test_refusals_do_not_open_the_circuit(breaker):
    for _ in range(5):
        with pytest.raises(Exception) as caught:
            breaker.complete_json("openai/badrequest-x", MESSAGES)
        assert not isinstance(caught.value, TransientError)
    assert breaker.state("openai/badrequest-x") == "closed"
