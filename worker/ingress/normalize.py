"""A validated event → the message we store (sender, thread and text resolved)."""

from __future__ import annotations

from schema.agent_config import ResolvedConfig
from schema.events import InboundEvent
from worker.errors import BadEvent, DisallowedModel
from worker.ingress.email_body import parse_raw_mime
from worker.leads import lead_key
from worker.store.messages import NewMessage


def check_model_allowed(event: InboundEvent, config: ResolvedConfig) -> None:
    if event.model and event.model not in config.fields.allowed_models:
        raise DisallowedModel(
            f"model {event.model!r} is not in allowedModels of client {event.client_id!r}"
        )


def to_new_message(event: InboundEvent, lead_secret: bytes) -> NewMessage:
    text = event.message or ""
    subject, message_id, in_reply_to = event.subject, event.message_id, event.in_reply_to
    lead_email, lead_name = event.lead_email, event.lead_name
    if event.raw_mime is not None:
        try:
            parts = parse_raw_mime(event.raw_mime)
        except Exception as exc:  # noqa: BLE001 - any parser failure is a fact about this e-mail
            raise BadEvent(f"rawMime could not be parsed: {type(exc).__name__}: {exc}") from exc
        text = parts.text or text
        subject = parts.subject or subject
        message_id = parts.message_id or message_id
        in_reply_to = parts.in_reply_to or in_reply_to
        lead_email = lead_email or parts.sender_email
        lead_name = lead_name or parts.sender_name
    if not text.strip():
        raise BadEvent("the e-mail has no readable text")
    return NewMessage(
        client_id=event.client_id,
        event_id=event.event_id,
        channel=event.channel.value,
        body=text,
        new_text=text,
        lead_key=lead_key(event.lead_id, lead_email, lead_secret),
        external_lead_id=event.lead_id,
        lead_name=lead_name,
        external_conversation_id=event.conversation_id,
        subject=subject,
        message_id=message_id,
        in_reply_to=in_reply_to,
        topic=event.topic,
        model_override=event.model,
        metadata=event.metadata,
        received_at=event.received_at,
    )
