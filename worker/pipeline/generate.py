"""Stage: ask the model chain for the JSON draft, with bounded retries and fallbacks."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import orjson
from pydantic import ValidationError
from tenacity import (
    Retrying,
    retry_if_exception_type,
    retry_if_not_exception_type,
    stop_after_attempt,
    stop_after_delay,
)

from schema.drafts import ModelReply
from worker.errors import (
    AllModelsRefused,
    AllModelsUnavailable,
    CircuitOpen,
    ModelOutputInvalid,
    PermanentError,
    TransientError,
)
from worker.logs import log
from worker.ports import CallAudit, ModelClient
from worker.retry import RetryPolicy


@dataclass
class Generated:
    reply: ModelReply
    model: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    calls: list[CallAudit] = field(default_factory=list)


def parse_reply(content: str) -> ModelReply:
    """The model's text as our JSON shape, tolerating a Markdown code fence around it."""
    text = content.strip()
    if text.startswith("```"):
        text = text.strip("`")
        text = text[text.find("{") :] if "{" in text else text
    try:
        return ModelReply.model_validate(orjson.loads(text))
    except (orjson.JSONDecodeError, ValidationError) as exc:
        raise ModelOutputInvalid(f"model output is not the requested JSON: {exc}") from exc


def _one_model(
    client: ModelClient,
    model: str,
    messages: list[dict[str, str]],
    policy: RetryPolicy,
    calls: list[CallAudit],
) -> Generated:
    retrying = Retrying(
        # An open circuit will not close within our backoff: go straight to the next model.
        retry=retry_if_exception_type(TransientError)
        & retry_if_not_exception_type(CircuitOpen),
        stop=stop_after_attempt(policy.max_attempts) | stop_after_delay(policy.max_total_seconds),
        wait=lambda state: policy.backoff(state.attempt_number),
        reraise=True,
    )
    for attempt in retrying:
        with attempt:
            number = attempt.retry_state.attempt_number
            started = time.perf_counter()
            try:
                response = client.complete_json(model, messages)
                reply = parse_reply(response.content)
            except (TransientError, PermanentError) as exc:
                ms = int((time.perf_counter() - started) * 1000)
                calls.append(CallAudit(model, number, ms, error=f"{type(exc).__name__}: {exc}"))
                log.warning(
                    "llm.call.failed", model=model, attempt=number, error=type(exc).__name__
                )
                raise
            ms = int((time.perf_counter() - started) * 1000)
            audit = CallAudit(
                model,
                number,
                ms,
                response.prompt_tokens,
                response.completion_tokens,
                response.cost_usd,
            )
            calls.append(audit)
            return Generated(
                reply, model, response.prompt_tokens, response.completion_tokens,
                response.cost_usd, calls,
            )
    raise AssertionError("unreachable: tenacity either returns or reraises")


def generate(
    client: ModelClient,
    chain: list[str],
    messages: list[dict[str, str]],
    policy: RetryPolicy,
) -> Generated:
    """First model that answers wins. Raises AllModelsUnavailable when some model failed only
    transiently (worth trying again later); AllModelsRefused when every model refused for good
    or is switched off by its circuit breaker (the offline drafter takes over)."""
    calls: list[CallAudit] = []
    transient_seen: list[str] = []
    permanent_seen: list[str] = []
    for model in chain:
        try:
            generated = _one_model(client, model, messages, policy, calls)
            generated.calls = calls
            return generated
        except CircuitOpen as exc:
            permanent_seen.append(f"{model}: {exc}")
        except TransientError as exc:
            transient_seen.append(f"{model}: {exc}")
        except PermanentError as exc:
            permanent_seen.append(f"{model}: {exc}")
    if transient_seen:
        error = AllModelsUnavailable("; ".join(transient_seen + permanent_seen))
    else:
        error = AllModelsRefused("; ".join(permanent_seen))
    error.calls = calls  # type: ignore[attr-defined]
    raise error
