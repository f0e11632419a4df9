"""What leaves on the decisions stream: a reviewer's approved (or edited) reply, ready for the
system that sends replies (CONTRACT.md, "Decisions"). One entry per draft; consumers dedupe on
draftId."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class OutboundDecision(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    schema_version: int = Field(1, alias="schemaVersion")
    kind: Literal["decision"] = "decision"
    draft_id: str = Field(alias="draftId")
    event_id: str = Field(alias="eventId")
    client_id: str = Field(alias="clientId")
    channel: str
    conversation_id: str | None = Field(alias="conversationId")
    lead_id: str | None = Field(alias="leadId")
    decision: Literal["approved", "edited"]
    text: str  # the reply to send: the draft as written, or the reviewer's edit
    quick_replies: tuple[str, ...] = Field(alias="quickReplies")
    reviewer: str | None
    decided_at: datetime = Field(alias="decidedAt")
    config_version: int = Field(alias="configVersion")
    subject: str | None = None
    in_reply_to: str | None = Field(default=None, alias="inReplyTo")

    def to_payload(self) -> dict:
        data = self.model_dump(mode="json", by_alias=True)
        if self.channel != "email":  # subject/inReplyTo are e-mail only
            data.pop("subject")
            data.pop("inReplyTo")
        return data
