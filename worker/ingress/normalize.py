"""A validated event → the message we store (sender, thread and text resolved)."""

from __future__ import annotations

from typing import Any

from schema.agent_config import ResolvedConfig
from schema.events import Channel, InboundEvent
from worker.errors import BadEvent, DisallowedModel, UnknownClient
from worker.ingress.email_body import EmailParts, parse_raw_mime
from worker.ingress.reply_text import extract_new_text
from worker.ingress.text_clean import Findings
from worker.leads import lead_key
from worker.store.messages import NewMessage


def check_model_allowed(event: InboundEvent, config: ResolvedConfig) -> None:
    if event.model and event.model not in config.fields.allowed_models:
        raise DisallowedModel(
            f"model {event.model!r} is not in allowedModels of client {event.client_id!r}"
        )


def accepted_message(
    event: InboundEvent,
    config: ResolvedConfig | None,
    lead_secret: bytes,
    parts: EmailParts | None = None,
) -> NewMessage:
    """The message to store for an event of a registered client (`config`: its active one, or
    None when the client is unknown) that names an allowed model; else BadEvent with why."""
    if config is None:
        raise UnknownClient(f"client {event.client_id!r} is not registered")
    check_model_allowed(event, config)
    return to_new_message(event, lead_secret, parts)


def to_new_message(
    event: InboundEvent, lead_secret: bytes, parts: EmailParts | None = None
) -> NewMessage:
    """`parts`: the event's rawMime already parsed (by routing), else parsed here. What is
    stored as the lead's text is cleaned (text_clean); the event's own text stays in `raw`."""
    found = Findings()
    email = event.channel is Channel.EMAIL
    text = found.text("body", event.message or "")
    new_text = extract_new_text(text) if email else text
    message_id, in_reply_to = event.message_id, event.in_reply_to
    subject = found.line("subject", event.subject)
    lead_name = found.line("lead name", event.lead_name)
    topic = found.line("topic", event.topic)
    lead_email, metadata = event.lead_email, event.metadata
    references: tuple[str, ...] = ()
    skip_reason = None
    flags = found.flags()
    if event.raw_mime is not None:
        parts = parts or parse_raw_mime(event.raw_mime)  # BadEvent with the reason, only
        if parts.auto_reply:  # recorded with the thread, never answered
            skip_reason = f"automatic message, not drafted: {parts.auto_reply_reason}"
        if parts.text:
            text, new_text = parts.text, parts.new_text
            flags = parts.flags + tuple(f for f in flags if f.code not in _codes(parts))
        subject = parts.subject or subject
        message_id = parts.message_id or message_id
        in_reply_to = parts.in_reply_to or in_reply_to
        lead_email = lead_email or parts.sender_email
        lead_name = lead_name or parts.sender_name
        metadata = {**event.metadata, "mime": _mime_facts(parts)}
        references = parts.references
    if not text.strip() and skip_reason is None:
        raise BadEvent("the e-mail has no readable text")
    assert event.client_id is not None, "routing gives every event its client first"
    # Without References the thread root is unknown here: storage looks up the parent.
    thread_parent = in_reply_to if email and not event.conversation_id and not references else None
    return NewMessage(
        client_id=event.client_id,
        event_id=event.event_id,
        channel=event.channel.value,
        body=text,
        new_text=new_text or text,  # all quoted: the whole text rather than nothing
        lead_key=lead_key(event.lead_id, lead_email, lead_secret),
        external_lead_id=event.lead_id,
        lead_name=lead_name[:200] if lead_name else None,
        external_conversation_id=event.conversation_id
        or (email_thread_key(message_id, in_reply_to, references) if email else None),
        subject=subject,
        message_id=message_id,
        in_reply_to=in_reply_to,
        topic=topic[:200] if topic else None,
        model_override=event.model,
        metadata=metadata,
        received_at=event.received_at,
        skip_reason=skip_reason,
        thread_parent=thread_parent,
        raw=_raw(event),
        inbound_flags=tuple(f.as_dict() for f in flags),
    )


def _codes(parts: EmailParts) -> set[str]:
    return {f.code for f in parts.flags}


def _raw(event: InboundEvent) -> bytes | None:
    raw = event.raw_mime if event.raw_mime is not None else event.message
    if raw is None:
        return None
    return raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else bytes(raw)


def email_thread_key(
    message_id: str | None, in_reply_to: str | None, references: tuple[str, ...]
) -> str | None:
    """The conversation of an e-mail without a producer conversationId: its thread's root.
    RFC 5322 clients keep the first message's id first in References; a reply without
    References points at its parent; a first message is its own root."""
    root = (references[0] if references else None) or in_reply_to or message_id
    return f"email-thread:{root.strip()[:180]}" if root and root.strip() else None


def _mime_facts(parts: EmailParts) -> dict[str, Any]:
    """Kept with the message until NewMessage has columns for them (tenant routing, threading)."""
    return {
        "references": list(parts.references),
        "recipients": list(parts.recipients),
        "attachments": [
            {"filename": a.filename, "contentType": a.content_type, "size": a.size}
            for a in parts.attachments
        ],
    }
