"""Kinds of malformed inbound entries for scenario 8: each must end up in `rejected_events`.

`malformed_kinds(ok_client, strict_client)` returns (kind, stream, fields, max_copies):
`fields` is the whole stream entry (normally one `payload` field), `max_copies` caps how often a
costly kind (a 20 MB body) is repeated. `ok_client` is a registered client that allows one
override model; `strict_client` is registered and allows none.
"""

from __future__ import annotations

import json

CHAT = "agent:inbound:chat"
EMAIL = "agent:inbound:email"
UNLIMITED = 10**9


def _j(obj: object) -> bytes:
    return json.dumps(obj).encode()


def malformed_kinds(ok_client: str, strict_client: str) -> list[tuple[str, str, dict, int]]:
    def chat(**fields: object) -> dict:
        base = {"eventId": "{id}", "clientId": ok_client, "message": "Is the blue one available?"}
        base.update(fields)
        return {k: v for k, v in base.items() if v is not _DROP}

    def mail(**fields: object) -> dict:
        base = {
            "eventId": "{id}", "clientId": ok_client, "subject": "Viewing",
            "message": "Could I view the flat on Saturday?", "messageId": "<m-{id}@x>",
        }
        base.update(fields)
        return {k: v for k, v in base.items() if v is not _DROP}

    kinds: list[tuple[str, str, object, int]] = [
        # Not JSON at all, or not a JSON object.
        ("not JSON", CHAT, b"{broken", UNLIMITED),
        ("empty payload", CHAT, b"", UNLIMITED),
        ("whitespace payload", EMAIL, b"   \n ", UNLIMITED),
        ("JSON null", CHAT, b"null", UNLIMITED),
        ("JSON array", CHAT, b'[{"eventId": "x"}]', UNLIMITED),
        ("JSON string", EMAIL, b'"hello"', UNLIMITED),
        ("JSON number", CHAT, b"42", UNLIMITED),
        ("JSON true", CHAT, b"true", UNLIMITED),
        ("trailing garbage", CHAT, b'{"eventId": "a", "clientId": "b", "message": "c"} x',
         UNLIMITED),
        ("single-quoted", CHAT, b"{'eventId': 'a', 'clientId': 'b', 'message': 'c'}", UNLIMITED),
        ("NaN literal", CHAT, b'{"eventId": NaN, "clientId": "b", "message": "c"}', UNLIMITED),
        ("number overflow", CHAT, b'{"eventId": 1e400, "clientId": "b", "message": "c"}',
         UNLIMITED),
        ("UTF-8 BOM", CHAT, "\ufeff".encode() + _j(chat(eventId="bom")), UNLIMITED),
        # Invalid UTF-8 and invalid escapes.
        ("invalid UTF-8 byte", CHAT, b'{"eventId": "x\xff", "clientId": "a", "message": "b"}',
         UNLIMITED),
        ("overlong UTF-8", EMAIL, b'{"eventId": "x", "clientId": "a", "message": "\xc0\xaf"}',
         UNLIMITED),
        ("truncated UTF-8", CHAT, b'{"eventId": "x", "clientId": "a", "message": "\xe2\x82"}',
         UNLIMITED),
        ("lone high surrogate escape", CHAT,
         b'{"eventId": "x", "clientId": "a", "message": "\\ud800"}', UNLIMITED),
        ("lone low surrogate escape", EMAIL,
         b'{"eventId": "\\udc00", "clientId": "a", "message": "b"}', UNLIMITED),
        ("invalid escape", CHAT, b'{"eventId": "x", "clientId": "a", "message": "\\x41"}',
         UNLIMITED),
        ("control char in string", CHAT, b'{"eventId": "x", "clientId": "a", "message": "a\x01b"}',
         UNLIMITED),
        # Deeply nested JSON, past the parser's depth limit.
        ("deep arrays", CHAT, b"[" * 100_000 + b"]" * 100_000, 20),
        ("deep objects in metadata", CHAT,
         b'{"eventId": "x", "clientId": "' + ok_client.encode() + b'", "message": "m", '
         b'"metadata": ' + b'{"a":' * 5_000 + b"1" + b"}" * 5_000 + b"}", 20),
        # Missing / ill-typed identity.
        ("missing eventId", CHAT, chat(eventId=_DROP), UNLIMITED),
        ("missing clientId (no tenant)", CHAT, chat(clientId=_DROP), UNLIMITED),
        ("unknown tenant", CHAT, chat(clientId="no-such-client"), UNLIMITED),
        ("unknown tenant, other case", EMAIL, mail(clientId=ok_client.upper()), UNLIMITED),
        ("empty eventId", CHAT, chat(eventId=""), UNLIMITED),
        ("blank eventId", CHAT, chat(eventId="   "), UNLIMITED),
        ("eventId too long", CHAT, chat(eventId="e" * 201), UNLIMITED),
        ("eventId number", CHAT, chat(eventId=12345), UNLIMITED),
        ("eventId null", EMAIL, mail(eventId=None), UNLIMITED),
        ("eventId object", CHAT, chat(eventId={"id": 1}), UNLIMITED),
        ("clientId number", CHAT, chat(clientId=7), UNLIMITED),
        ("clientId empty", CHAT, chat(clientId=""), UNLIMITED),
        ("clientId blank", EMAIL, mail(clientId="  "), UNLIMITED),
        ("clientId list", CHAT, chat(clientId=[ok_client]), UNLIMITED),
        # Text fields.
        ("chat without message", CHAT, chat(message=_DROP), UNLIMITED),
        ("chat empty message", CHAT, chat(message=""), UNLIMITED),
        ("chat blank message", CHAT, chat(message=" \n\t "), UNLIMITED),
        ("message number", CHAT, chat(message=3.14), UNLIMITED),
        ("message list", EMAIL, mail(message=["a", "b"]), UNLIMITED),
        ("message too long", CHAT, chat(message="x" * 64_001), UNLIMITED),
        ("chat with rawMime", CHAT, chat(rawMime="Subject: hi\n\nhello"), UNLIMITED),
        ("e-mail without text", EMAIL, mail(message=_DROP), UNLIMITED),
        ("e-mail blank text", EMAIL, mail(message="   "), UNLIMITED),
        ("rawMime number", EMAIL, mail(message=_DROP, rawMime=12), UNLIMITED),
        ("rawMime headers only", EMAIL,
         mail(message=_DROP, rawMime="From: a@b.c\r\nSubject: hi\r\n\r\n"), UNLIMITED),
        ("rawMime empty", EMAIL, mail(message=_DROP, rawMime=""), UNLIMITED),
        ("subject too long", EMAIL, mail(subject="s" * 1_001), UNLIMITED),
        ("subject number", EMAIL, mail(subject=1), UNLIMITED),
        ("messageId list", EMAIL, mail(messageId=["<a@b>"]), UNLIMITED),
        ("inReplyTo too long", EMAIL, mail(inReplyTo="<" + "r" * 1_000 + ">"), UNLIMITED),
        ("leadId too long", CHAT, chat(leadId="l" * 201), UNLIMITED),
        ("leadEmail too long", EMAIL, mail(leadEmail="a" * 320 + "@x.io"), UNLIMITED),
        ("leadEmail number", EMAIL, mail(leadEmail=5), UNLIMITED),
        ("leadName object", CHAT, chat(leadName={"first": "A"}), UNLIMITED),
        ("conversationId too long", CHAT, chat(conversationId="c" * 201), UNLIMITED),
        ("topic number", CHAT, chat(topic=9), UNLIMITED),
        ("receivedAt not a time", CHAT, chat(receivedAt="yesterday-ish"), UNLIMITED),
        ("receivedAt object", CHAT, chat(receivedAt={"t": 1}), UNLIMITED),
        ("metadata list", CHAT, chat(metadata=[1, 2]), UNLIMITED),
        ("metadata string", EMAIL, mail(metadata="m"), UNLIMITED),
        ("metadata null", CHAT, chat(metadata=None), UNLIMITED),
        # NUL characters, which text columns cannot hold.
        ("NUL in message", CHAT, chat(message="hello\u0000world"), UNLIMITED),
        ("NUL in eventId", CHAT, chat(eventId="{id}\u0000"), UNLIMITED),
        ("NUL in clientId", EMAIL, mail(clientId=ok_client + "\u0000"), UNLIMITED),
        ("NUL in metadata key", EMAIL, mail(metadata={"k\u0000": "v"}), UNLIMITED),
        ("NUL deep in metadata", CHAT, chat(metadata={"a": [{"b": ["\u0000"]}]}), UNLIMITED),
        # Models the tenant does not allow.
        ("disallowed model", CHAT, chat(model="openai/gpt-4o"), UNLIMITED),
        ("model on a client that allows none", EMAIL,
         mail(clientId=strict_client, model="openai/fault"), UNLIMITED),
        ("model number", CHAT, chat(model=4), UNLIMITED),
        # Entry shape and size.
        ("no payload field", CHAT, _Entry({"data": b"{}"}), UNLIMITED),
        ("20 MB body", CHAT, "BIG20", 3),
        ("rawMime over 15 MiB", EMAIL, "BIGMIME", 2),
    ]
    return [
        (kind, stream, payload.fields if isinstance(payload, _Entry) else {"payload": payload}, cap)
        for kind, stream, payload, cap in kinds
    ]


class _Entry:
    """A whole stream entry given as is (e.g. one without a `payload` field)."""

    def __init__(self, fields: dict):
        self.fields = fields


class _Drop:
    def __repr__(self) -> str:
        return "<drop>"


_DROP = _Drop()


def render(fields: dict, event_id: str, ok_client: str) -> dict[bytes, bytes]:
    """The entry to XADD for one copy of a kind; `{id}` in strings becomes `event_id`."""
    out: dict[bytes, bytes] = {}
    for key, value in fields.items():
        if value == "BIG20":
            value = (b'{"eventId": "' + event_id.encode() + b'", "clientId": "'
                     + ok_client.encode() + b'", "message": "' + b"x" * (20 * 1024 * 1024) + b'"}')
        elif value == "BIGMIME":
            mime = "Subject: big\r\n\r\n" + "y" * (15 * 1024 * 1024)
            value = json.dumps(
                {"eventId": event_id, "clientId": ok_client, "rawMime": mime}
            ).encode()
        elif isinstance(value, dict):
            value = _fill(json.dumps(value), event_id).encode()
        elif isinstance(value, bytes):
            pass
        out[key.encode()] = value
    return out


def _fill(text: str, event_id: str) -> str:
    return text.replace("{id}", event_id)
