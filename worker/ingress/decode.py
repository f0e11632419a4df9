"""One stream entry → a validated InboundEvent, or the reason it cannot be one. Pure."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import ValidationError

from schema.events import MAX_RAW_MIME_BYTES, Channel, InboundEvent
from worker.errors import BadEvent

# Whole-payload ceiling, checked before parsing: a body past it is never even decoded.
MAX_PAYLOAD_BYTES = MAX_RAW_MIME_BYTES + 256 * 1024


def decode_entry(channel: Channel, fields: dict[bytes, bytes]) -> InboundEvent:
    """Raises BadEvent with a reason a producer's developer can act on."""
    raw = fields.get(b"payload")
    if raw is None:
        raise BadEvent("entry has no 'payload' field")
    if len(raw) > MAX_PAYLOAD_BYTES:
        raise BadEvent(f"payload is {len(raw)} bytes; the limit is {MAX_PAYLOAD_BYTES}")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadEvent(f"payload is not valid JSON (UTF-8): {exc}") from exc
    if not isinstance(data, dict):
        raise BadEvent(f"payload must be a JSON object, got {type(data).__name__}")
    if _has_nul(data):
        raise BadEvent("payload contains a NUL character (\\u0000), which text fields cannot hold")
    try:
        return InboundEvent.model_validate({**data, "channel": channel})
    except ValidationError as exc:
        raise BadEvent(_summarize(exc)) from exc


def claimed_ids(fields: dict[bytes, bytes]) -> tuple[str | None, str | None]:
    """(clientId, eventId) as the payload claims them, for filing a rejection; best effort."""
    try:
        data = orjson.loads(fields.get(b"payload", b""))
    except orjson.JSONDecodeError:
        return None, None
    if not isinstance(data, dict):
        return None, None
    client, event = data.get("clientId"), data.get("eventId")
    return (
        client if isinstance(client, str) and client else None,
        event if isinstance(event, str) and event else None,
    )


def _has_nul(value: Any) -> bool:
    # An explicit stack: JSON nested as deep as orjson allows must not overflow Python's.
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _summarize(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error["loc"]) or "payload"
        parts.append(f"{where}: {error['msg']}")
    more = f" (+{exc.error_count() - 5} more)" if exc.error_count() > 5 else ""
    return "invalid event: " + "; ".join(parts) + more
