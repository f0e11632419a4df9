"""Every status a stored row moves through, by name. The database keeps the plain text."""

from __future__ import annotations

from enum import StrEnum


class MessageStatus(StrEnum):
    RECEIVED = "received"  # stored, waiting for a drafting worker
    DRAFTING = "drafting"  # leased to one worker until lease_until
    DRAFTED = "drafted"
    FAILED = "failed"  # with a FailureKind
    SKIPPED = "skipped"  # recorded, never drafted (superseded, or not for drafting)


class FailureKind(StrEnum):
    TRANSIENT = "transient"  # retried at next_attempt_at, within the attempt budget
    PERMANENT = "permanent"  # waits for an operator
    DEFERRED = "deferred"  # over a rate limit or budget: waits, without using up an attempt


# Beat hands these back to a worker when their time comes.
RETRYABLE = (FailureKind.TRANSIENT, FailureKind.DEFERRED)


class DraftStatus(StrEnum):
    PENDING_REVIEW = "pending_review"
    APPROVED = "approved"
    EDITED = "edited"
    REJECTED = "rejected"
    STALE = "stale"  # a chat draft the lead overtook while it was written
    WITHDRAWN = "withdrawn"  # an e-mail draft the lead overtook


class DocumentStatus(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"
    DELETING = "deleting"
