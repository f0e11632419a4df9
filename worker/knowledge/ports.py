"""The seam between the knowledge-base use cases and whatever runs the background work."""

from __future__ import annotations

from typing import Protocol


class DocumentQueue(Protocol):
    def process(self, client_id: str, document_id: str) -> None:
        """Hand an uploaded document to a worker for extraction and chunking."""

    def purge(self, client_id: str) -> None:
        """Have a worker remove the client's documents marked as deleted."""
