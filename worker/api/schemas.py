"""Request and response bodies of the HTTP API (camelCase, as the front end speaks)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from typing_extensions import Annotated

from schema.agent_config import AgentConfigFields
from schema.events import MAX_MESSAGE_CHARS
from schema.text import storable as _storable

Text = Annotated[str, AfterValidator(_storable)]


class ReplyIn(BaseModel):
    """A chat message, as a chat event without `clientId` (the key names the client)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    event_id: str | None = Field(
        None, alias="eventId", min_length=1, max_length=200,
        description="Idempotency key; the same eventId never yields a second draft. "
        "Generated when omitted.",
    )
    message: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)
    conversation_id: str | None = Field(None, alias="conversationId", max_length=200)
    lead_id: str | None = Field(None, alias="leadId", max_length=200)
    lead_email: str | None = Field(None, alias="leadEmail", max_length=320)
    lead_name: str | None = Field(None, alias="leadName", max_length=200)
    topic: str | None = Field(None, max_length=200)
    model: str | None = Field(None, max_length=200)
    received_at: datetime | None = Field(None, alias="receivedAt")
    metadata: dict[str, Any] = Field(default_factory=dict)


class MemoryDoc(BaseModel):
    id: str
    kind: str
    score: float


class ReplyOut(BaseModel):
    reply: str
    quickReplies: list[str]
    usedConfigId: str | None
    memoryContextDocs: list[MemoryDoc]
    draftId: str
    eventId: str
    status: str
    configVersion: int
    model: str | None
    degraded: bool


class ReplyPending(BaseModel):
    eventId: str
    messageId: str
    status: str = Field(description="received | drafting | failed | skipped")
    reason: str | None = None
    location: str = Field(description="GET it for the draft once it is ready")


class ConfigIn(AgentConfigFields):
    """The config fields; the keys `GET` adds are accepted and ignored, so its output
    can be sent back as it is."""

    client_id: str | None = Field(None, alias="clientId", exclude=True)
    config_id: str | None = Field(None, alias="configId", exclude=True)
    version: int | None = Field(None, exclude=True)
    active: bool | None = Field(None, exclude=True)
    created_at: datetime | None = Field(None, alias="createdAt", exclude=True)


class ConfigOut(AgentConfigFields):
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="forbid",
                              serialize_by_alias=True)

    client_id: str = Field(alias="clientId")
    config_id: str | None = Field(alias="configId")
    version: int = Field(description="0: no active config, the defaults apply")
    active: bool


class ConfigVersion(BaseModel):
    configId: str
    version: int
    active: bool
    createdAt: datetime
    config: dict[str, Any]
    drafts: dict[str, int] = Field(description="drafts written with this version, by status "
                                   "(rejections per version: drafts.rejected)")


class FlagOut(BaseModel):
    code: str
    detail: str


class DraftOut(BaseModel):
    """A draft and its review state. Review columns added later appear here as they are."""

    model_config = ConfigDict(extra="allow")

    draftId: str
    eventId: str
    channel: str
    conversationId: str | None
    leadId: str | None
    status: str
    reply: str
    quickReplies: list[str]
    configId: str | None
    configVersion: int
    model: str | None
    degraded: bool
    createdAt: datetime
    flags: list[FlagOut] = Field(default_factory=list, description="guardrail flags: what the "
                                 "reviewer should look at before sending")
    confidence: float | None = Field(None, description="the model's own confidence, 0–1; null: "
                                     "missing, malformed or no model")
    needsHuman: bool = Field(False, description="needs a person's judgement (listed first)")
    needsHumanReason: str | None = None


class DraftList(BaseModel):
    drafts: list[DraftOut]


class PromptContext(BaseModel):
    configId: str | None
    configVersion: int
    config: dict[str, Any] | None = Field(description="the config version the draft was written "
                                          "with (null: defaults)")
    memoryRefs: list[MemoryDoc]
    leadMessage: dict[str, Any]
    usage: dict[str, Any]


class DraftDetail(DraftOut):
    context: PromptContext


class ApproveIn(BaseModel):
    reviewer: Text | None = Field(None, max_length=200)


class EditIn(BaseModel):
    text: Text = Field(min_length=1, max_length=20_000)
    reviewer: Text | None = Field(None, max_length=200)


class RejectIn(BaseModel):
    reason: Text = Field(min_length=1, max_length=2_000)
    reviewer: Text | None = Field(None, max_length=200)


class HealthOut(BaseModel):
    status: str = Field(description="ok | unhealthy")
    clientId: str | None
    checks: dict[str, dict[str, Any]]


# --- knowledge base --------------------------------------------------------------------------

Id = Annotated[str, Field(pattern=r"^[0-9A-Za-z]{1,64}$")]
SegmentationId = Annotated[Text | int, Field(description="a non-empty string (or number) of "
                                             "at most 200 characters")]


class SegmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    groupId: SegmentationId
    itemId: SegmentationId


class SegmentationIn(BaseModel):
    """Who a document is for, replaced whole; both lists empty (or `{}`): everyone."""

    model_config = ConfigDict(extra="forbid")

    segments: list[SegmentIn] = Field(default_factory=list, max_length=10_000)
    userIds: list[SegmentationId] = Field(default_factory=list, max_length=10_000)


class SegmentationOut(BaseModel):
    segments: list[dict[str, str]]
    userIds: list[str]


class DocumentOut(BaseModel):
    id: str
    folder: str = Field(description="'' is the root folder")
    filename: str
    path: str
    kind: str = Field(description="markdown | text | html | csv | pdf | docx")
    sizeBytes: int
    sha256: str
    status: str = Field(description="queued | processing | ready | failed")
    error: str | None = Field(description="why processing failed")
    chunkCount: int
    createdAt: datetime
    updatedAt: datetime
    processedAt: datetime | None
    segmentation: SegmentationOut | None = Field(None, description="one document only")
    audience: str | None = Field(None, description="everyone | segmented (one document only)")


class UploadOut(DocumentOut):
    replaced: bool = Field(description="the name existed in the folder: same id, new content")


class DocumentList(BaseModel):
    documents: list[DocumentOut]


class DocumentChange(BaseModel):
    """Rename (`filename`), move (`folder`), or both; the id stays."""

    model_config = ConfigDict(extra="forbid")

    filename: Text | None = Field(None, min_length=1, max_length=255)
    folder: Text | None = Field(None, max_length=1000, description="'' or '/' is the root")


class AudienceCount(BaseModel):
    everyone: bool
    segments: int
    userIds: int


class FolderIn(BaseModel):
    path: Text = Field(min_length=1, max_length=1000, examples=["prices/2026"])


class FolderRename(BaseModel):
    path: Text = Field(min_length=1, max_length=1000)
    newPath: Text = Field(min_length=1, max_length=1000)


class FolderOut(BaseModel):
    path: str


class FolderDeleted(BaseModel):
    path: str
    deletedDocuments: int


class FolderList(BaseModel):
    folders: list[str]


class FolderNode(BaseModel):
    name: str
    path: str
    documents: int = Field(description="documents directly in this folder")
    folders: list[FolderNode]


class SearchHit(BaseModel):
    id: str
    documentId: str
    kind: str
    score: float
    title: str = Field(description="the document's file name")
    heading: str = Field(description="the headings the chunk sits under")
    folder: str
    snippet: str


class SearchResults(BaseModel):
    hits: list[SearchHit]
