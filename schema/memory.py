"""Memory as operators move it in and query it (CONTRACT.md: `memory import`, `memory search`)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

MemoryKind = Literal["inbound_message", "approved_reply", "draft", "note"]
MAX_TEXT_CHARS = 64_000


class ImportItem(BaseModel):
    """One line of `memory import`. Fields another memory service adds are ignored."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    kind: MemoryKind = "note"
    lead_id: str | None = Field(default=None, alias="leadId", min_length=1, max_length=190)
    lead_email: str | None = Field(default=None, alias="leadEmail", max_length=320)
    conversation_id: str | None = Field(default=None, alias="conversationId", max_length=200)
    created_at: datetime | None = Field(default=None, alias="createdAt")
    external_id: str | None = Field(default=None, alias="externalId", min_length=1,
                                    max_length=200)

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text is blank")
        if "\x00" in value:
            raise ValueError("text contains NUL characters")
        return value

    @field_validator("created_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return value.replace(tzinfo=timezone.utc) if value and value.tzinfo is None else value


class SearchQuery(BaseModel):
    """One line of `memory search --file`."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    query: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    lead_id: str | None = Field(default=None, alias="leadId", min_length=1, max_length=190)
