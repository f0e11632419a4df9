"""A chat message that arrives over HTTP instead of the stream: the same validation, the same
idempotent store on (clientId, eventId), the same hand-over to a drafting worker."""

from __future__ import annotations

import orjson

from schema.events import Channel
from worker.errors import BadEvent
from worker.ingress import accept
from worker.ingress.decode import decode_entry
from worker.ingress.normalize import accepted_message
from worker.leads import lead_secret
from worker.ports import Configs, Dispatcher, Handover, Sessions
from worker.settings import Settings
from worker.store.messages import StoredRef


def accept_chat(
    event: dict, *, settings: Settings, configs: Configs, sessions: Sessions,
    dispatcher: Dispatcher,
) -> StoredRef:
    """Raises BadEvent (with the reason) for what the stream would have kept aside."""
    try:
        raw = orjson.dumps(event)
    except orjson.JSONEncodeError as exc:  # e.g. a lone surrogate: not UTF-8, not storable
        raise BadEvent(f"payload is not valid Unicode: {exc}") from exc
    parsed = decode_entry(Channel.CHAT, {b"payload": raw})
    assert parsed.client_id is not None
    new_message = accepted_message(
        parsed, configs.resolve(parsed.client_id), lead_secret(settings.lead_hash_key)
    )
    with sessions.begin() as session:
        [ref] = accept.store_messages(session, [new_message])
    if ref.needs_drafting:
        dispatcher.enqueue([Handover(ref.client_id, ref.message_id, ref.channel)])
    return ref
