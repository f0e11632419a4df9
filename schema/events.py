"""Inbound events, exactly as producers append them to the inbound streams (CONTRACT.md)."""

from __future__ import annotations

from datetime import datetime, timezone
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# Bounds on what one event may carry. A bigger one is kept aside, never drafted.
MAX_MESSAGE_CHARS = 64_000
MAX_RAW_MIME_BYTES = 15 * 1024 * 1024
MAX_SHORT_FIELD = 1_000


class Channel(StrEnum):
    EMAIL = "email"
    CHAT = "chat"


ShortText = Field(default=None, max_length=MAX_SHORT_FIELD)


class InboundEvent(BaseModel):
    """One lead message. Frozen: once validated, no stage may change what the lead sent."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, str_strip_whitespace=False)

    channel: Channel
    event_id: str = Field(alias="eventId", min_length=1, max_length=200)
    # E-mail may omit it: the recipient address then names the client (worker.ingress.routing).
    client_id: str | None = Field(default=None, alias="clientId", min_length=1, max_length=200)
    message: str | None = Field(default=None, max_length=MAX_MESSAGE_CHARS)
    raw_mime: str | None = Field(default=None, alias="rawMime", max_length=MAX_RAW_MIME_BYTES)
    subject: str | None = ShortText
    message_id: str | None = Field(default=None, alias="messageId", max_length=MAX_SHORT_FIELD)
    in_reply_to: str | None = Field(default=None, alias="inReplyTo", max_length=MAX_SHORT_FIELD)
    lead_id: str | None = Field(default=None, alias="leadId", max_length=200)
    lead_email: str | None = Field(default=None, alias="leadEmail", max_length=320)
    lead_name: str | None = Field(default=None, alias="leadName", max_length=200)
    conversation_id: str | None = Field(default=None, alias="conversationId", max_length=200)
    topic: str | None = Field(default=None, max_length=200)
    model: str | None = Field(default=None, max_length=200)
    received_at: datetime | None = Field(default=None, alias="receivedAt")
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("received_at")
    @classmethod
    def _in_utc(cls, value: datetime | None) -> datetime | None:
        # Python accepts UTC offsets up to ±23:59, Postgres up to ±15:59: keep the instant,
        # in UTC, so any offset a producer sends is stored.
        if value is None or value.tzinfo is None:
            return value
        try:
            return value.astimezone(timezone.utc)
        except OverflowError:
            raise ValueError("receivedAt is out of range") from None

    @model_validator(mode="after")
    def _has_text(self) -> InboundEvent:
        if not self.event_id.strip() or (self.client_id is not None and not self.client_id.strip()):
            raise ValueError("eventId and clientId must not be blank")
        if self.client_id is None and (self.channel is Channel.CHAT or self.raw_mime is None):
            raise ValueError(
                "clientId is required (an e-mail may omit it only when its rawMime is sent to "
                "an address a client registered)"
            )
        if self.channel is Channel.CHAT:
            if not (self.message and self.message.strip()):
                raise ValueError("chat events need a non-empty 'message'")
            if self.raw_mime is not None:
                raise ValueError("'rawMime' is only allowed on e-mail events")
        elif not ((self.message and self.message.strip()) or self.raw_mime):
            raise ValueError("e-mail events need 'message' or 'rawMime'")
        return self
