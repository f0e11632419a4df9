"""A validated event → the stored message: lead key, e-mail parsing, model override check."""

from __future__ import annotations

import hashlib

import orjson
import pytest

from schema.agent_config import AgentConfigFields, ResolvedConfig
from schema.events import Channel, InboundEvent
from worker.errors import BadEvent, DisallowedModel
from worker.ingress.decode import decode_entry
from worker.ingress.normalize import check_model_allowed, to_new_message
from worker.leads import lead_key

SECRET = b"test-lead-secret-0123456789"

RAW_MIME = (
    "From: =?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <Juergen.Mueller@Example.COM>\r\n"
    "To: sales@dealer.example\r\n"
    "Subject: =?utf-8?q?Probefahrt_f=C3=BCr_Samstag?=\r\n"
    "Message-ID: <abc123@mail.example.com>\r\n"
    "In-Reply-To: <prev-1@dealer.example>\r\n"
    "Date: Fri, 03 May 2024 10:15:00 +0200\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "Gr=C3=BC=C3=9Fe! Ich h=C3=A4tte gern eine Probefahrt am Samstag, wenn das bei Ihnen =\r\n"
    "m=C3=B6glich ist.\r\n"
)

NO_TEXT_MIME = (
    "From: lead@example.com\r\n"
    "Subject: photo\r\n"
    "MIME-Version: 1.0\r\n"
    'Content-Type: multipart/mixed; boundary="XX"\r\n'
    "\r\n"
    "--XX\r\n"
    "Content-Type: image/png\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "iVBORw0KGgo=\r\n"
    "--XX--\r\n"
)


def email_event(**fields) -> InboundEvent:
    payload = {"eventId": "mail-1", "clientId": "client-a", **fields}
    return decode_entry(Channel.EMAIL, {b"payload": orjson.dumps(payload)})


def resolved(**fields) -> ResolvedConfig:
    return ResolvedConfig(
        client_id="client-a", config_id="cfg-1", version=1, fields=AgentConfigFields(**fields)
    )


# --- lead key ---------------------------------------------------------------------------------


def test_lead_id_wins_when_given():
    assert lead_key("lead-42", "someone@example.com", SECRET) == "id:lead-42"


def test_no_id_and_no_email_gives_no_key():
    assert lead_key(None, None, SECRET) is None
    assert lead_key("", "   ", SECRET) is None


def test_email_key_is_normalised_before_hashing():
    assert lead_key(None, "A@B.com ", SECRET) == lead_key(None, "a@b.com", SECRET)
    assert lead_key(None, "  Maria.Rossi@Example.IT\n", SECRET) == lead_key(
        None, "maria.rossi@example.it", SECRET
    )
    assert lead_key(None, "a@b.com", SECRET).startswith("email:")


def test_different_addresses_give_different_keys():
    assert lead_key(None, "a@b.com", SECRET) != lead_key(None, "a@c.com", SECRET)


def test_different_secrets_give_different_keys():
    assert lead_key(None, "a@b.com", SECRET) != lead_key(None, "a@b.com", b"another-secret")


@pytest.mark.parametrize("address", ["a@b.com", "Maria.Rossi@Example.IT "])
def test_key_reveals_neither_the_address_nor_its_plain_hash(address):
    key = lead_key(None, address, SECRET)
    normal = address.strip().lower()
    for form in (address, address.strip(), normal):
        assert form not in key
        for algo in (hashlib.sha256, hashlib.sha1, hashlib.md5):
            assert algo(form.encode()).hexdigest() not in key


# --- to_new_message ---------------------------------------------------------------------------


def test_raw_mime_email_is_parsed_into_the_stored_message():
    event = email_event(rawMime=RAW_MIME, conversationId="conv-1", topic="test drive")
    msg = to_new_message(event, SECRET)
    assert msg.channel == "email"
    assert (msg.client_id, msg.event_id) == ("client-a", "mail-1")
    assert msg.subject == "Probefahrt für Samstag"
    assert msg.message_id == "<abc123@mail.example.com>"
    assert msg.in_reply_to == "<prev-1@dealer.example>"
    assert msg.lead_name == "Jürgen Müller"
    # Quoted-printable decoded, the soft line break joined, no encoding left over.
    assert msg.body == (
        "Grüße! Ich hätte gern eine Probefahrt am Samstag, wenn das bei Ihnen möglich ist."
    )
    assert msg.new_text == msg.body
    assert "=C3" not in msg.body and "=\r\n" not in msg.body
    # The sender's address becomes the (normalised, keyed) lead.
    assert msg.lead_key == lead_key(None, "juergen.mueller@example.com", SECRET)
    assert "juergen" not in msg.lead_key.lower()
    assert msg.external_conversation_id == "conv-1" and msg.topic == "test drive"


def test_producer_fields_win_over_mime_headers_for_the_lead():
    event = email_event(rawMime=RAW_MIME, leadEmail="crm@example.com", leadName="J. M.")
    msg = to_new_message(event, SECRET)
    assert msg.lead_key == lead_key(None, "crm@example.com", SECRET)
    assert msg.lead_name == "J. M."


def test_lead_id_beats_the_sender_address():
    msg = to_new_message(email_event(rawMime=RAW_MIME, leadId="lead-7"), SECRET)
    assert msg.lead_key == "id:lead-7"
    assert msg.external_lead_id == "lead-7"


def test_email_with_no_text_part_is_a_bad_event():
    with pytest.raises(BadEvent) as caught:
        to_new_message(email_event(rawMime=NO_TEXT_MIME), SECRET)
    assert "no readable text" in str(caught.value)


def test_email_with_no_text_part_falls_back_to_the_producer_message():
    msg = to_new_message(email_event(rawMime=NO_TEXT_MIME, message="See the photo"), SECRET)
    assert msg.body == "See the photo"
    assert msg.subject == "photo"


def test_plain_email_event_without_mime():
    event = email_event(message="Hello", subject="Hi", messageId="<x@y>", leadEmail="A@B.com")
    msg = to_new_message(event, SECRET)
    assert (msg.body, msg.subject, msg.message_id) == ("Hello", "Hi", "<x@y>")
    assert msg.lead_key == lead_key(None, "a@b.com", SECRET)


def test_chat_event_keeps_its_fields():
    payload = {
        "eventId": "chat-1", "clientId": "client-a", "message": "Any news?", "leadId": "L1",
        "leadName": "Maria", "conversationId": "c-1", "model": "m/x",
        "receivedAt": "2024-05-03T10:15:00Z", "metadata": {"page": "/offers"},
    }
    event = decode_entry(Channel.CHAT, {b"payload": orjson.dumps(payload)})
    msg = to_new_message(event, SECRET)
    assert msg.channel == "chat"
    assert msg.body == msg.new_text == "Any news?"
    assert msg.lead_key == "id:L1"
    assert msg.model_override == "m/x"
    assert msg.metadata == {"page": "/offers"}
    assert msg.received_at.isoformat() == "2024-05-03T10:15:00+00:00"


# --- model override check ---------------------------------------------------------------------


def test_override_not_in_allowed_models_is_disallowed():
    event = email_event(message="hi", model="openai/gpt-expensive")
    with pytest.raises(DisallowedModel) as caught:
        check_model_allowed(event, resolved(allowedModels=["openai/gpt-cheap"]))
    assert "openai/gpt-expensive" in str(caught.value)
    assert "client-a" in str(caught.value)


def test_override_with_empty_allowed_models_is_disallowed():
    with pytest.raises(DisallowedModel):
        check_model_allowed(email_event(message="hi", model="m/a"), resolved(model="m/a"))


def test_allowed_override_passes():
    event = email_event(message="hi", model="openai/gpt-cheap")
    assert check_model_allowed(event, resolved(allowedModels=["openai/gpt-cheap"])) is None


def test_no_override_always_passes():
    assert check_model_allowed(email_event(message="hi"), resolved()) is None
