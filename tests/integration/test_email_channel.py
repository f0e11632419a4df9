"""E-mail as the ingestion pipeline sends it: whole MIME in, only the lead's new words to the
model, threaded reply out."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy import select

from tests.integration.conftest import outbound, push, set_config
from worker.ingress.consumer import Ingress
from worker.pipeline.draft import draft_message
from worker.store.models import Draft, InboundMessage

EMAILS = Path(__file__).resolve().parents[1] / "data" / "emails"


def _prompt_sent(fake_llm, model: str) -> str:  # noqa: ANN001
    body = httpx.get(fake_llm.url.rsplit("/v1", 1)[0] + "/_last", params={"model": model}).json()
    return next(m["content"] for m in body["messages"] if m["role"] == "user")


def _ingest_and_draft(rt, event: dict) -> None:  # noqa: ANN001
    push(rt, "email", event)
    ingress = rt.call(Ingress, "t")
    ingress.setup()
    ingress.handle(ingress.read(block_ms=None))
    for client_id, message_id, _ in rt.dispatcher.handed:
        rt.call(draft_message, client_id, message_id, attempt_id="t")


def test_a_gmail_reply_reaches_the_model_without_its_quoted_history(make_runtime, fake_llm):
    rt = make_runtime(llm_model="openai/email-gmail")
    set_config(rt, "autohaus")
    raw = (EMAILS / "gmail_reply_alternative.eml").read_text()
    _ingest_and_draft(rt, {"eventId": "m1", "clientId": "autohaus", "rawMime": raw})

    prompt = _prompt_sent(fake_llm, "email-gmail")
    assert "Is the blue Golf still available?" in prompt
    assert "red Polo" not in prompt and "financing" not in prompt
    assert "Subject: Re: Your enquiry about the Golf" in prompt
    [draft] = outbound(rt)
    assert draft["subject"] == "Re: Your enquiry about the Golf"  # not "Re: Re: …"
    assert draft["inReplyTo"] == "<CAF+lena-2@mail.gmail.example>"
    with rt.sessions() as s:
        message = s.scalar(select(InboundMessage))
    assert "red Polo" in message.body  # the full text is kept beside the new text
    assert message.lead_name == "Lena Fischer"


def test_a_plain_message_email_is_stripped_too(make_runtime, fake_llm):
    rt = make_runtime(llm_model="openai/email-plain")
    set_config(rt, "autohaus")
    body = ("Can I bring my dog to the test drive?\n\nOn Tue, 4 Mar 2025, Sales <s@x.example> "
            "wrote:\n> Our showroom opens at 9.\n> The convertible is sold.\n")
    _ingest_and_draft(rt, {"eventId": "m1", "clientId": "autohaus", "message": body,
                           "subject": "Re: Test drive"})
    prompt = _prompt_sent(fake_llm, "email-plain")
    assert "bring my dog" in prompt and "convertible" not in prompt


def test_auto_replies_are_recorded_and_not_drafted(rt):
    set_config(rt, "autohaus")
    raw = (EMAILS / "auto_reply.eml").read_text()
    _ingest_and_draft(rt, {"eventId": "ooo", "clientId": "autohaus", "rawMime": raw})
    with rt.sessions() as s:
        message = s.scalar(select(InboundMessage))
        assert s.scalar(select(Draft)) is None
    assert message.status == "skipped" and "automatic" in message.last_error
    assert outbound(rt) == []
    assert rt.dispatcher.handed == []


def _mail(message_id: str, body: str, in_reply_to: str | None = None,
          references: str | None = None) -> str:
    headers = [f"From: Lena <lena@example.org>", "To: sales@dealer.example",
               "Subject: Golf", f"Message-ID: {message_id}"]
    if in_reply_to:
        headers.append(f"In-Reply-To: {in_reply_to}")
    if references:
        headers.append(f"References: {references}")
    return "\r\n".join(headers) + "\r\n\r\n" + body + "\r\n"


def test_replies_in_one_thread_share_a_conversation_and_withdraw_the_older_pending_draft(rt):
    set_config(rt, "autohaus")
    _ingest_and_draft(rt, {"eventId": "m1", "clientId": "autohaus",
                           "rawMime": _mail("<a1@x>", "Is the Golf available?")})
    rt.dispatcher.handed.clear()
    _ingest_and_draft(rt, {"eventId": "m2", "clientId": "autohaus",
                           "rawMime": _mail("<a3@x>", "Also: automatic?", "<a2@x>",
                                            "<a1@x> <a2@x>")})
    first, second = outbound(rt)
    assert first["conversationId"] == second["conversationId"] == "email-thread:<a1@x>"
    assert [r["id"] for r in second["memoryRefs"]] != []  # the thread's first mail recalled
    with rt.sessions() as s:
        statuses = dict(s.execute(select(Draft.event_id, Draft.status)).all())
    assert statuses == {"m1": "withdrawn", "m2": "pending_review"}


def test_a_reply_without_references_joins_its_parents_thread(rt):
    """Some clients send only In-Reply-To. The parent is itself a reply, so its id is not the
    thread's root: the stored parent tells which conversation the new mail belongs to."""
    set_config(rt, "autohaus")
    _ingest_and_draft(rt, {"eventId": "m1", "clientId": "autohaus",
                           "rawMime": _mail("<b1@x>", "Is the Golf available?")})
    rt.dispatcher.handed.clear()
    _ingest_and_draft(rt, {"eventId": "m2", "clientId": "autohaus",
                           "rawMime": _mail("<b2@x>", "And in blue?", "<b1@x>", "<b1@x>")})
    rt.dispatcher.handed.clear()
    _ingest_and_draft(rt, {"eventId": "m3", "clientId": "autohaus",
                           "rawMime": _mail("<b3@x>", "Any news?", in_reply_to="<b2@x>")})
    # Another tenant's mail with the same ids stays in its own thread.
    set_config(rt, "other")
    rt.dispatcher.handed.clear()
    _ingest_and_draft(rt, {"eventId": "o1", "clientId": "other",
                           "rawMime": _mail("<b9@x>", "Hello", in_reply_to="<b2@x>")})
    by_event = {d["eventId"]: d for d in outbound(rt)}
    assert by_event["m3"]["conversationId"] == "email-thread:<b1@x>"
    assert by_event["m3"]["inReplyTo"] == "<b3@x>"
    assert by_event["o1"]["conversationId"] == "email-thread:<b2@x>"
    with rt.sessions() as s:
        statuses = dict(s.execute(select(Draft.event_id, Draft.status)).all())
    assert statuses["m2"] == "withdrawn" and statuses["m3"] == "pending_review"


def test_email_without_client_id_is_routed_by_a_registered_recipient_address(rt):
    from typer.testing import CliRunner

    from worker.cli.main import app
    from worker.store.models import RejectedEvent

    set_config(rt, "autohaus")
    set_config(rt, "other")
    runner = CliRunner()
    env = {"DATABASE_URL": rt.settings.database_url}
    assert runner.invoke(app, ["addresses", "add", "autohaus", "Sales@Dealer.example"],
                         env=env).exit_code == 0
    taken = runner.invoke(app, ["addresses", "add", "other", "sales@dealer.example"], env=env)
    assert taken.exit_code == 2 and "another client" in taken.output

    _ingest_and_draft(rt, {"eventId": "r1", "rawMime": _mail("<r1@x>", "Price of the Golf?")})
    _ingest_and_draft(rt, {"eventId": "r2", "rawMime": _mail("<r2@x>", "Hello?").replace(
        "To: sales@dealer.example", "To: nobody@elsewhere.example")})
    _ingest_and_draft(rt, {"eventId": "r3", "message": "no client, no MIME"})

    [draft] = outbound(rt)
    assert (draft["eventId"], draft["clientId"]) == ("r1", "autohaus")
    with rt.sessions() as s:
        reasons = {r.event_id: r.reason for r in s.scalars(select(RejectedEvent))}
    assert "unroutable" in reasons["r2"] and "nobody@elsewhere.example" in reasons["r2"]
    assert "clientId is required" in reasons["r3"]
