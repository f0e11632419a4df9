"""Review use cases: approve, edit or reject a draft pending review, for one client.

Plain functions over a session, shared by the command line, the HTTP API and the console. An
approved or edited reply joins the client's memory as an `approved_reply` (the edited text
wins): the strongest example of what this client wants said. A rejected draft is never an
example. Every decision records its reviewer. With `announce` (a stream name) an approved or
edited reply is also written to the outbox in the same transaction, so the sending system
hears of it at least once (worker.pipeline.publish.publish_decision, then the outbox relay).
"""

from __future__ import annotations

from rapidfuzz.distance import Levenshtein
from sqlalchemy.orm import Session

from schema.decisions import OutboundDecision
from worker.errors import PermanentError
from worker.ports import Embedder
from worker.statuses import DraftStatus
from worker.store import drafts, memory, outbox, reviews
from worker.store.memory import MemoryWrite
from worker.store.models import Draft, utcnow

MAX_REASON_CHARS = 2000


class ReviewRefused(PermanentError):
    """The draft cannot be reviewed: it does not exist for this client or is not pending."""


def approve(
    session: Session, client_id: str, draft_id: str, embedder: Embedder | None = None, *,
    reviewer: str | None = None, announce: str | None = None,
) -> Draft:
    draft = _decide(session, client_id, draft_id, {"status": DraftStatus.APPROVED}, reviewer)
    _remember_reply(session, draft, draft.reply, embedder)
    _announce(session, draft, draft.reply, announce)
    return draft


def edit(
    session: Session, client_id: str, draft_id: str, text: str, embedder: Embedder | None = None,
    *, reviewer: str | None = None, announce: str | None = None,
) -> Draft:
    """Keep both texts and how far apart they are (Levenshtein, in characters)."""
    if not text.strip():
        raise ReviewRefused("the edited text is empty; reject the draft instead")
    current = drafts.get_draft(session, client_id, draft_id)
    if current is None:
        raise ReviewRefused(f"no draft {draft_id!r} for client {client_id!r}")
    draft = _decide(session, client_id, draft_id, {
        "status": DraftStatus.EDITED,
        "edited_text": text,
        "edit_distance": Levenshtein.distance(current.reply, text),
    }, reviewer)
    _remember_reply(session, draft, text, embedder)
    _announce(session, draft, text, announce)
    return draft


def reject(
    session: Session, client_id: str, draft_id: str, reason: str, *,
    reviewer: str | None = None,
) -> Draft:
    if not reason.strip():
        raise ReviewRefused("a rejection needs a reason")
    draft = _decide(session, client_id, draft_id, {
        "status": DraftStatus.REJECTED, "rejection_reason": reason[:MAX_REASON_CHARS],
    }, reviewer)
    memory.forget_source(session, client_id, f"draft:{draft_id}")
    return draft


def rejections_per_config_version(session: Session, client_id: str) -> dict[int, int]:
    return reviews.rejections_per_config_version(session, client_id)


def _decide(
    session: Session, client_id: str, draft_id: str, values: dict, reviewer: str | None
) -> Draft:
    values = {**values, "reviewed_at": utcnow(), "reviewed_by": (reviewer or None) and
              reviewer[:200]}
    draft = reviews.decide(session, client_id, draft_id, values)
    if draft is None:
        existing = drafts.get_draft(session, client_id, draft_id)
        if existing is None:
            raise ReviewRefused(f"no draft {draft_id!r} for client {client_id!r}")
        raise ReviewRefused(f"draft {draft_id!r} is {existing.status}, not pending_review")
    return draft


def _remember_reply(
    session: Session, draft: Draft, text: str, embedder: Embedder | None
) -> None:
    memory.replace(session, draft.client_id, MemoryWrite(
        kind="approved_reply",
        text=text,
        lead_key=memory.lead_key_of_message(session, draft.client_id, draft.inbound_message_id),
        conversation_id=draft.conversation_id,
        source_ref=f"draft:{draft.id}",
        created_at=draft.reviewed_at,
        embedding=embedder.embed([text])[0] if embedder else None,
    ))


def decision_payload(draft: Draft, text: str) -> dict:
    return OutboundDecision(
        draftId=draft.id, eventId=draft.event_id, clientId=draft.client_id,
        channel=draft.channel, conversationId=draft.conversation_id, leadId=draft.lead_id,
        decision=str(draft.status), text=text, quickReplies=tuple(draft.quick_replies or ()),
        reviewer=draft.reviewed_by, decidedAt=draft.reviewed_at,
        configVersion=draft.config_version, subject=draft.subject, inReplyTo=draft.in_reply_to,
    ).to_payload()


def _announce(session: Session, draft: Draft, text: str, stream: str | None) -> None:
    if stream:
        outbox.add(session, draft.client_id, draft.id, stream, decision_payload(draft, text))
