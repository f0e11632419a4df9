"""What the model must return, and the draft we publish for review (CONTRACT.md)."""

from __future__ import annotations

from datetime import datetime

import math
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MAX_QUICK_REPLIES = 4


class Handoff(BaseModel):
    """The model's own request that a person answer this one."""

    model_config = ConfigDict(frozen=True)

    needed: bool
    reason: str | None = Field(default=None, max_length=500)


class ModelReply(BaseModel):
    """The JSON the model is asked for. Anything else is unparseable output."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    reply: str = Field(min_length=1, max_length=20_000)
    quick_replies: tuple[str, ...] = Field(default=(), alias="quickReplies")
    # Validated, never trusted: missing or malformed is None, which counts as no confidence.
    confidence: float | None = None
    handoff: Handoff | None = None

    @model_validator(mode="before")
    @classmethod
    def _lenient_review_fields(cls, data: Any) -> Any:
        """A malformed confidence or handoff must not cost the reply: the confidence becomes
        None (low), a handoff that is not {needed: bool, reason?: str} asks for a person."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        value = data.get("confidence")
        if not (isinstance(value, (int, float)) and not isinstance(value, bool)
                and math.isfinite(value) and 0 <= value <= 1):
            data["confidence"] = None
        handoff = data.get("handoff")
        if handoff is not None:
            reason = handoff.get("reason") if isinstance(handoff, dict) else None
            if not (isinstance(handoff, dict) and isinstance(handoff.get("needed"), bool)
                    and (reason is None or isinstance(reason, str))):
                data["handoff"] = {"needed": True, "reason": "malformed handoff field"}
            elif isinstance(reason, str):
                data["handoff"] = {"needed": handoff["needed"], "reason": reason.strip()[:500]}
        return data

    @field_validator("reply")
    @classmethod
    def _reply_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("reply is blank")
        return value.strip()

    @field_validator("quick_replies", mode="before")
    @classmethod
    def _cap_quick_replies(cls, value: object) -> object:
        # Models often offer more than asked; keep the first four non-empty ones.
        if isinstance(value, (list, tuple)):
            kept = [v.strip() for v in value if isinstance(v, str) and v.strip()]
            return tuple(v[:200] for v in kept[:MAX_QUICK_REPLIES])
        return value


class MemoryRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    kind: str
    score: float


class Usage(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    prompt_tokens: int = Field(0, alias="promptTokens")
    completion_tokens: int = Field(0, alias="completionTokens")
    cost_usd: float = Field(0.0, alias="costUsd")


class DraftFlag(BaseModel):
    """One guardrail finding: a machine-readable code and what it is about."""

    model_config = ConfigDict(frozen=True)

    code: str
    detail: str


class OutboundDraft(BaseModel):
    """One entry of OUTBOUND_STREAM. Consumers dedupe on draftId."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    schema_version: int = Field(1, alias="schemaVersion")
    draft_id: str = Field(alias="draftId")
    event_id: str = Field(alias="eventId")
    client_id: str = Field(alias="clientId")
    channel: str
    conversation_id: str | None = Field(alias="conversationId")
    lead_id: str | None = Field(alias="leadId")
    reply: str
    quick_replies: tuple[str, ...] = Field(alias="quickReplies", max_length=MAX_QUICK_REPLIES)
    status: str = "pending_review"
    config_id: str | None = Field(alias="configId")
    config_version: int = Field(alias="configVersion")
    model: str | None
    degraded: bool
    memory_refs: tuple[MemoryRef, ...] = Field(alias="memoryRefs")
    usage: Usage
    latency_ms: int = Field(alias="latencyMs")
    created_at: datetime = Field(alias="createdAt")
    subject: str | None = None
    in_reply_to: str | None = Field(default=None, alias="inReplyTo")
    # Extensions (compatible: consumers ignore fields they do not know). Guardrail flags for
    # the reviewer, and whether the draft needs a person's judgement before anything is sent.
    flags: tuple[DraftFlag, ...] = ()
    confidence: float | None = None
    needs_human: bool = Field(False, alias="needsHuman")
    needs_human_reason: str | None = Field(None, alias="needsHumanReason")

    def to_payload(self) -> dict:
        data = self.model_dump(mode="json", by_alias=True)
        if self.channel != "email":  # subject/inReplyTo are e-mail only
            data.pop("subject")
            data.pop("inReplyTo")
        return data
