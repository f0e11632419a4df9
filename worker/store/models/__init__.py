"""Tables. Every row that belongs to a tenant carries `client_id`, and every query filters on it.

One module per area; importing the package registers every table with Base.metadata.
"""

from worker.store.models.base import Base, JsonType, new_id, new_ids, utcnow
from worker.store.models.tenants import Client, ClientAddress, AgentConfig, ApiKey
from worker.store.models.inbound import Lead, Conversation, InboundMessage, RejectedEvent
from worker.store.models.drafts import Draft, Outbox, LlmCall
from worker.store.models.memory import MemoryItem
from worker.store.models.reviewers import Reviewer, ReviewerSession
from worker.store.models.knowledge import KbFolder, KbDocument, KbDocumentSegment, KbDocumentUser, KbChunk

__all__ = [
    "Base",
    "JsonType",
    "new_id",
    "new_ids",
    "utcnow",
    "Client",
    "ClientAddress",
    "AgentConfig",
    "ApiKey",
    "Lead",
    "Conversation",
    "InboundMessage",
    "RejectedEvent",
    "Draft",
    "Outbox",
    "LlmCall",
    "MemoryItem",
    "KbFolder",
    "KbDocument",
    "KbDocumentSegment",
    "KbDocumentUser",
    "KbChunk",
    "Reviewer",
    "ReviewerSession",
]
