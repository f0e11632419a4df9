"""The only module that imports litellm: one JSON completion, errors sorted into our two kinds."""

from __future__ import annotations

import threading
from types import ModuleType

from worker.errors import PermanentError, TransientError
from worker.once import once
from worker.ports import ModelResponse


@once
def lib() -> ModuleType:
    """litellm, imported on first use: it costs seconds of CPU, which the ingress, the API and
    the CLI (which never call a model) should not pay at start-up."""
    import litellm

    litellm.suppress_debug_info = True
    litellm.telemetry = False
    return litellm


@once
def transient_errors() -> tuple[type[Exception], ...]:
    """Worth another try: the provider is busy, down or slow, or the connection broke."""
    m = lib()
    return (m.RateLimitError, m.InternalServerError, m.ServiceUnavailableError,
            m.BadGatewayError, m.APIConnectionError, m.Timeout)


@once
def permanent_errors() -> tuple[type[Exception], ...]:
    """The request itself is refused: same request, same answer."""
    m = lib()
    return (m.ContentPolicyViolationError, m.BadRequestError, m.AuthenticationError,
            m.PermissionDeniedError, m.NotFoundError, m.UnprocessableEntityError)


def warm_up() -> None:
    """Load what the first model call would otherwise load while a lead waits: the OpenAI
    SDK imports its resource classes on first use (~0.3-0.5 s)."""
    lib()
    import openai.resources  # noqa: F401


class ModelTransientError(TransientError):
    """The model provider failed for now (rate limit, 5xx, timeout, connection)."""


class ModelPermanentError(PermanentError):
    """The model provider refused the request (bad request, policy, auth, unknown model)."""


_first_call_lock = threading.Lock()
_first_call_done = threading.Event()


class LiteLLMClient:
    def __init__(
        self,
        api_base: str | None,
        api_key: str | None,
        timeout_seconds: float,
        max_tokens: int,
    ):
        self._api_base = api_base
        self._api_key = api_key
        self._timeout = timeout_seconds
        self._max_tokens = max_tokens

    def complete_json(self, model: str, messages: list[dict[str, str]]) -> ModelResponse:
        if not _first_call_done.is_set():
            # The OpenAI SDK builds its pydantic response models on first use; 20 threads
            # doing that at once can fail ("BaseModel cannot be instantiated directly").
            # The process's first call runs alone, the others wait for it.
            with _first_call_lock:
                if not _first_call_done.is_set():
                    try:
                        return self._complete_json(model, messages)
                    finally:
                        _first_call_done.set()
        return self._complete_json(model, messages)

    def _complete_json(self, model: str, messages: list[dict[str, str]]) -> ModelResponse:
        try:
            response = lib().completion(
                model=model,
                messages=messages,
                response_format={"type": "json_object"},
                api_base=self._api_base,
                api_key=self._api_key,
                timeout=self._timeout,
                max_tokens=self._max_tokens,
                num_retries=0,  # retries are ours (worker.pipeline.generate)
            )
        except transient_errors() as exc:
            raise ModelTransientError(_describe(exc)) from exc
        except permanent_errors() as exc:
            raise ModelPermanentError(_describe(exc)) from exc
        except lib().APIError as exc:
            status = getattr(exc, "status_code", None) or 500
            kind = ModelTransientError if status >= 500 or status == 429 else ModelPermanentError
            raise kind(_describe(exc)) from exc
        usage = getattr(response, "usage", None)
        content = response.choices[0].message.content or ""
        return ModelResponse(
            content=content,
            prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
            cost_usd=_cost(response),
        )


def _cost(response) -> float:  # noqa: ANN001
    # litellm prices every response it returns; asking again would cost a second lookup.
    # A model missing from its local price list is priced at 0 (unknown), never guessed.
    hidden = getattr(response, "_hidden_params", None) or {}
    return float(hidden.get("response_cost") or 0.0)


def _describe(exc: Exception) -> str:
    # Provider messages can be long; the type and status are what operators act on.
    status = getattr(exc, "status_code", None)
    text = str(exc).replace("\n", " ")[:300]
    return f"{type(exc).__name__}" + (f" ({status})" if status else "") + f": {text}"
