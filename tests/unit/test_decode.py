"""Decoding one stream entry: a frozen InboundEvent, or BadEvent with a reason a producer can act on."""

from __future__ import annotations

from datetime import datetime, timezone

import orjson
import pytest
from pydantic import ValidationError

from schema.events import MAX_MESSAGE_CHARS, Channel, InboundEvent
from worker.errors import BadEvent
from worker.ingress.decode import MAX_PAYLOAD_BYTES, claimed_ids, decode_entry

CHAT = {"eventId": "evt-1", "clientId": "client-a", "message": "Is the car still available?"}
RAW_MIME = (
    "From: Lead <lead@example.com>\r\nSubject: Hello\r\nMessage-ID: <m1@example.com>\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n\r\nHi there\r\n"
)


def _fields(payload) -> dict[bytes, bytes]:
    raw = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    return {b"payload": raw}


def _reason(channel: Channel, fields: dict[bytes, bytes]) -> str:
    with pytest.raises(BadEvent) as caught:
        decode_entry(channel, fields)
    return str(caught.value)


def _without(data: dict, key: str) -> dict:
    return {k: v for k, v in data.items() if k != key}


# --- envelope-level failures ------------------------------------------------------------------


def test_entry_without_payload_field():
    reason = _reason(Channel.CHAT, {b"data": orjson.dumps(CHAT)})
    assert "no 'payload' field" in reason


@pytest.mark.parametrize(
    "raw", [b"", b"not json", b"{'eventId': 'x'}", b'{"eventId": "x",}', b'{"eventId": "x"']
)
def test_payload_that_is_not_json(raw):
    assert "not valid JSON" in _reason(Channel.CHAT, {b"payload": raw})


@pytest.mark.parametrize(
    ("raw", "kind"),
    [(b"[1, 2]", "list"), (b"42", "int"), (b"4.2", "float"), (b'"text"', "str"), (b"null", "NoneType")],
)
def test_payload_must_be_a_json_object(raw, kind):
    reason = _reason(Channel.CHAT, {b"payload": raw})
    assert "must be a JSON object" in reason
    assert kind in reason


def test_invalid_utf8_bytes_are_rejected():
    raw = b'{"eventId": "evt-1", "clientId": "client-a", "message": "caf\xe9 \xff\xfe"}'
    reason = _reason(Channel.CHAT, {b"payload": raw})
    assert "not valid JSON (UTF-8)" in reason


def test_lone_surrogate_escape_is_rejected():
    raw = b'{"eventId": "evt-1", "clientId": "client-a", "message": "x \\ud800 y"}'
    assert "not valid JSON" in _reason(Channel.CHAT, {b"payload": raw})


@pytest.mark.parametrize(
    "payload",
    [
        {**CHAT, "message": "hello\u0000world"},
        {**CHAT, "metadata": {"source": {"page": ["ok", "bad\u0000"]}}},
        {**CHAT, "metadata": {"key\u0000": 1}},
        {**CHAT, "leadName": "\u0000"},
    ],
    ids=["message", "nested-metadata-value", "metadata-key", "lead-name"],
)
def test_nul_character_anywhere_is_rejected(payload):
    assert "NUL" in _reason(Channel.CHAT, _fields(payload))


def test_oversized_payload_is_rejected_before_parsing():
    # Not JSON at all: had it been parsed first, the reason would say so instead.
    raw = b"x" * (MAX_PAYLOAD_BYTES + 1)
    reason = _reason(Channel.EMAIL, {b"payload": raw})
    assert f"payload is {MAX_PAYLOAD_BYTES + 1} bytes" in reason
    assert str(MAX_PAYLOAD_BYTES) in reason


def test_payload_exactly_at_the_limit_is_decoded():
    body = orjson.dumps(CHAT)
    raw = body + b" " * (MAX_PAYLOAD_BYTES - len(body))
    assert len(raw) == MAX_PAYLOAD_BYTES
    assert decode_entry(Channel.CHAT, {b"payload": raw}).event_id == "evt-1"


def test_deeply_nested_json_is_rejected():
    reason = _reason(Channel.CHAT, {b"payload": b"[" * 5000})
    assert "not valid JSON" in reason


@pytest.mark.parametrize("depth", [600, 1000])
def test_deep_but_parseable_nesting_gives_bad_event_not_a_crash(depth):
    nested = b"[" * depth + b"]" * depth
    raw = orjson.dumps(CHAT)[:-1] + b',"metadata":{"deep":' + nested + b"}}"
    orjson.loads(raw)  # within orjson's own depth limit: the JSON itself is fine
    crashed = None
    try:
        decode_entry(Channel.CHAT, {b"payload": raw})
    except BadEvent:
        pass  # a reason is fine; so would be accepting it
    except RecursionError as exc:  # kept short: a 1000-frame traceback is slow to render
        crashed = type(exc).__name__
    assert crashed is None, f"{crashed} escaped decode_entry instead of BadEvent"


# --- field-level failures ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (_without(CHAT, "clientId"), ["clientId", "required"]),
        (_without(CHAT, "eventId"), ["eventId", "required"]),
        ({**CHAT, "eventId": ""}, ["eventId", "at least 1"]),
        ({**CHAT, "eventId": "e" * 201}, ["eventId", "at most 200"]),
        ({**CHAT, "clientId": ""}, ["clientId", "at least 1"]),
        ({**CHAT, "eventId": 12345}, ["eventId", "valid string"]),
        ({**CHAT, "clientId": ["a"]}, ["clientId", "valid string"]),
        ({**CHAT, "metadata": ["a", "b"]}, ["metadata", "dictionary"]),
        ({**CHAT, "receivedAt": "last tuesday"}, ["receivedAt", "datetime"]),
        ({**CHAT, "receivedAt": {"t": 1}}, ["receivedAt", "datetime"]),
        ({**CHAT, "message": 7}, ["message", "valid string"]),
        ({**CHAT, "message": "m" * (MAX_MESSAGE_CHARS + 1)}, ["message", f"at most {MAX_MESSAGE_CHARS}"]),
        ({**CHAT, "subject": "s" * 1001}, ["subject", "at most 1000"]),
    ],
    ids=[
        "missing-clientId", "missing-eventId", "empty-eventId", "eventId-201-chars",
        "empty-clientId", "eventId-number", "clientId-list", "metadata-list", "receivedAt-text",
        "receivedAt-object", "message-number", "message-too-long", "subject-too-long",
    ],
)
def test_invalid_fields_are_named_in_the_reason(payload, expected):
    reason = _reason(Channel.CHAT, _fields(payload))
    assert reason.startswith("invalid event: ")
    for part in expected:
        assert part in reason


def test_eventId_of_200_chars_is_fine():
    event = decode_entry(Channel.CHAT, _fields({**CHAT, "eventId": "e" * 200}))
    assert len(event.event_id) == 200


def test_message_of_max_length_is_fine():
    event = decode_entry(Channel.CHAT, _fields({**CHAT, "message": "m" * MAX_MESSAGE_CHARS}))
    assert len(event.message) == MAX_MESSAGE_CHARS


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (_without(CHAT, "message"), "chat events need a non-empty 'message'"),
        ({**CHAT, "message": ""}, "chat events need a non-empty 'message'"),
        ({**CHAT, "message": " \n\t "}, "chat events need a non-empty 'message'"),
        ({**CHAT, "message": None}, "chat events need a non-empty 'message'"),
        ({**CHAT, "rawMime": RAW_MIME}, "'rawMime' is only allowed on e-mail events"),
    ],
    ids=["no-message", "empty-message", "blank-message", "null-message", "chat-with-rawMime"],
)
def test_chat_rules(payload, expected):
    assert expected in _reason(Channel.CHAT, _fields(payload))


@pytest.mark.parametrize(
    "payload",
    [
        {"eventId": "e", "clientId": "c"},
        {"eventId": "e", "clientId": "c", "message": "   "},
        {"eventId": "e", "clientId": "c", "message": "", "rawMime": ""},
    ],
    ids=["neither", "blank-message", "empty-both"],
)
def test_email_needs_message_or_raw_mime(payload):
    assert "e-mail events need 'message' or 'rawMime'" in _reason(Channel.EMAIL, _fields(payload))


def test_channel_comes_from_the_stream_not_the_payload():
    # A payload claiming to be e-mail on the chat stream is still judged as chat.
    payload = {"eventId": "e", "clientId": "c", "channel": "email", "message": "hi"}
    assert decode_entry(Channel.CHAT, _fields(payload)).channel is Channel.CHAT
    with_mime = {**payload, "rawMime": RAW_MIME}
    assert "'rawMime' is only allowed on e-mail events" in _reason(Channel.CHAT, _fields(with_mime))


def test_many_errors_are_summarised_not_dumped():
    payload = {f: 1 for f in ("eventId", "clientId", "message", "subject", "messageId",
                              "inReplyTo", "leadId", "leadEmail")}
    reason = _reason(Channel.EMAIL, _fields(payload))
    assert "more)" in reason
    assert len(reason) < 1000


# --- valid events -----------------------------------------------------------------------------


def test_valid_chat_event_decodes_to_a_frozen_event():
    payload = {
        **CHAT,
        "leadId": "lead-9",
        "leadName": "Maria",
        "conversationId": "conv-1",
        "topic": "test drive",
        "model": "openai/gpt-4o-mini",
        "receivedAt": "2024-05-03T10:15:00Z",
        "metadata": {"page": "/offers", "utm": {"source": "ads"}},
        "unknownFieldFromNewerProducer": True,
    }
    event = decode_entry(Channel.CHAT, _fields(payload))
    assert isinstance(event, InboundEvent)
    assert event.channel is Channel.CHAT
    assert (event.event_id, event.client_id) == ("evt-1", "client-a")
    assert event.message == "Is the car still available?"
    assert event.lead_id == "lead-9" and event.lead_name == "Maria"
    assert event.conversation_id == "conv-1" and event.topic == "test drive"
    assert event.model == "openai/gpt-4o-mini"
    assert event.received_at == datetime(2024, 5, 3, 10, 15, tzinfo=timezone.utc)
    assert event.metadata == {"page": "/offers", "utm": {"source": "ads"}}
    with pytest.raises(ValidationError):
        event.message = "changed"
    with pytest.raises(ValidationError):
        event.client_id = "client-b"
    assert event.message == "Is the car still available?"


def test_valid_email_event_with_raw_mime_only_decodes():
    payload = {"eventId": "mail-1", "clientId": "client-a", "rawMime": RAW_MIME}
    event = decode_entry(Channel.EMAIL, _fields(payload))
    assert event.channel is Channel.EMAIL
    assert event.raw_mime == RAW_MIME
    assert event.message is None
    with pytest.raises(ValidationError):
        event.raw_mime = "From: someone-else@example.com\r\n\r\nforged"


def test_valid_email_event_with_message_only_decodes():
    payload = {"eventId": "mail-2", "clientId": "client-a", "message": "Hello", "subject": "Hi",
               "messageId": "<x@y>", "inReplyTo": "<w@y>", "leadEmail": "a@b.com"}
    event = decode_entry(Channel.EMAIL, _fields(payload))
    assert (event.subject, event.message_id, event.in_reply_to) == ("Hi", "<x@y>", "<w@y>")
    assert event.lead_email == "a@b.com"


def test_text_is_kept_verbatim():
    text = "  Hello,\n\n  two lines  and ümlauts 🚗  "
    event = decode_entry(Channel.CHAT, _fields({**CHAT, "message": text}))
    assert event.message == text


# --- claimed ids ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (_fields({"eventId": "e-7", "clientId": "c-7"}), ("c-7", "e-7")),  # invalid event, ids ok
        (_fields({**CHAT, "message": "x\u0000"}), ("client-a", "evt-1")),
        (_fields({"clientId": "c-7"}), ("c-7", None)),
        (_fields({"eventId": 5, "clientId": ""}), (None, None)),
        (_fields({"eventId": ["e"], "clientId": {"id": "c"}}), (None, None)),
        ({b"payload": b"not json"}, (None, None)),
        ({b"payload": b"[1, 2]"}, (None, None)),
        ({b"payload": b'{"clientId": "c", "x": "\xff"}'}, (None, None)),
        ({b"payload": b"[" * 5000}, (None, None)),
        ({b"other": b"x"}, (None, None)),
    ],
    ids=[
        "both", "with-nul", "client-only", "wrong-types", "containers", "not-json", "array",
        "bad-utf8", "deep", "no-payload",
    ],
)
def test_claimed_ids_best_effort(fields, expected):
    assert claimed_ids(fields) == expected
