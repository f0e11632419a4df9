"""Text embeddings through litellm (any OpenAI-compatible server), only when a model is named.

Vectors are scaled to unit length here, so a dot product in the store is their cosine.
"""

from __future__ import annotations

import math

from worker.adapters.llm_litellm import _describe, lib, permanent_errors, transient_errors
from worker.errors import PermanentError, TransientError
from worker.settings import Settings

BATCH = 64


class EmbeddingUnavailable(TransientError):
    """The embedding model failed for now; recall goes on with lexical search alone."""


class EmbeddingRefused(PermanentError):
    """The embedding model refused the request."""


class LiteLLMEmbedder:
    def __init__(self, model: str, api_base: str | None, api_key: str | None,
                 timeout_seconds: float):
        self.model = model
        self._api_base = api_base
        self._api_key = api_key
        self._timeout = timeout_seconds

    def embed(self, texts: list[str], timeout: float | None = None) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), BATCH):
            vectors += self._call(texts[start:start + BATCH], timeout or self._timeout)
        return vectors

    def _call(self, texts: list[str], timeout: float) -> list[list[float]]:
        try:
            response = lib().embedding(
                model=self.model, input=texts, api_base=self._api_base, api_key=self._api_key,
                timeout=timeout, num_retries=0,
            )
        except transient_errors() as exc:
            raise EmbeddingUnavailable(_describe(exc)) from exc
        except permanent_errors() as exc:
            raise EmbeddingRefused(_describe(exc)) from exc
        except lib().APIError as exc:
            raise EmbeddingUnavailable(_describe(exc)) from exc
        rows = sorted(response.data, key=lambda d: _get(d, "index"))
        return [unit(_get(d, "embedding")) for d in rows]


def _get(item, key: str):  # noqa: ANN001, ANN202
    return item[key] if isinstance(item, dict) else getattr(item, key)


def unit(vector: list[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


def build_embedder(settings: Settings) -> LiteLLMEmbedder | None:
    if not settings.embedding_model:
        return None
    return LiteLLMEmbedder(
        settings.embedding_model, settings.llm_api_base,
        settings.llm_api_key.get_secret_value() if settings.llm_api_key else None,
        settings.llm_timeout_seconds,
    )
