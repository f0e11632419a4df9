"""Handing a stored message to a drafting worker: one Celery task per message."""

from __future__ import annotations


def queue_for(channel: str) -> str:
    return f"drafts.{channel}"


class CeleryDispatcher:
    def enqueue(self, client_id: str, message_id: str, channel: str) -> None:
        from tasks.drafting import draft_message_task

        draft_message_task.apply_async(args=(client_id, message_id), queue=queue_for(channel))
