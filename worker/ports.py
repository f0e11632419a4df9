"""The seams between the pipeline and the outside world. Fakes implement these in unit tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class ModelResponse:
    content: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float


class ModelClient(Protocol):
    def complete_json(self, model: str, messages: list[dict[str, str]]) -> ModelResponse:
        """One call. Raises worker.errors.TransientError or PermanentError subclasses."""


class Dispatcher(Protocol):
    def enqueue(self, client_id: str, message_id: str, channel: str) -> None:
        """Hand a stored message to a drafting worker."""


class Publisher(Protocol):
    def publish(self, stream: str, payloads: list[dict]) -> None:
        """Append each payload to `stream`, in order."""

    def notify(self, channel: str, payload: dict) -> None:
        """Publish one payload on a pub/sub channel (no delivery guarantee)."""


class Embedder(Protocol):
    def embed(self, texts: list[str], timeout: float | None = None) -> list[list[float]]:
        """Unit-length vectors, one per text. Raises TransientError or PermanentError."""
