"""The ingress stores a whole batch set-wise (worker/ingress/accept.py): the result must be the
one of storing its messages one after the other. Real Postgres and Redis."""

from __future__ import annotations

from sqlalchemy import select

from tests.integration.conftest import push, set_config
from worker.ingress.consumer import Ingress
from worker.pipeline.draft import draft_message
from worker.store.models import Draft, InboundMessage, MemoryItem


def _mail(sender: str, message_id: str, body: str, **headers: str) -> str:
    extra = "".join(f"{name}: {value}\n" for name, value in headers.items())
    return (f"From: {sender}\nTo: sales@dealer.example\nSubject: Golf\n"
            f"Message-ID: {message_id}\n{extra}Content-Type: text/plain; charset=utf-8\n\n{body}\n")


def _statuses(rt) -> dict[str, tuple[str, str | None]]:  # noqa: ANN001
    with rt.sessions() as s:
        rows = s.execute(select(InboundMessage.event_id, InboundMessage.status, Draft.status)
                         .outerjoin(Draft, Draft.inbound_message_id == InboundMessage.id))
        return {event: (status, draft) for event, status, draft in rows}


def _draft_handed(rt) -> None:  # noqa: ANN001
    for client_id, message_id, _ in rt.dispatcher.handed:
        rt.call(draft_message, client_id, message_id, attempt_id=f"t-{message_id}")
    rt.dispatcher.handed.clear()


def test_messages_of_one_conversation_in_one_batch_behave_as_if_stored_one_after_the_other(rt):
    set_config(rt, "dealer-a")
    ingress = rt.call(Ingress, "t", None)
    ingress.setup()
    chat = {"clientId": "dealer-a", "leadId": "L1", "conversationId": "c1"}
    push(rt, "chat", {**chat, "eventId": "m0", "message": "Is the Golf still there?"})
    ingress.handle(ingress.read(block_ms=None))
    _draft_handed(rt)
    assert _statuses(rt) == {"m0": ("drafted", "pending_review")}

    for i, text in enumerate(["And in blue?", "Sorry, I meant red."], start=1):
        push(rt, "chat", {**chat, "eventId": f"m{i}", "message": text})
    entries = ingress.read(block_ms=None)
    assert len(entries) == 2  # one batch
    ingress.handle(entries)
    handed = [message_id for _, message_id, _ in rt.dispatcher.handed]
    with rt.sessions() as s:
        ids = dict(s.execute(select(InboundMessage.event_id, InboundMessage.id)).all())
    assert handed == [ids["m1"], ids["m2"]] and ids["m1"] < ids["m2"]  # m2 is the newer
    _draft_handed(rt)
    # The lead wrote again: m0's pending draft withdrawn; m1 has a newer message: not drafted.
    assert _statuses(rt) == {"m0": ("drafted", "withdrawn"), "m1": ("skipped", None),
                             "m2": ("drafted", "pending_review")}


# Two clients interleaved; a lead writing twice in one conversation with a new name; another
# lead reusing that conversation id (twice: the marked id is theirs from then on); a reply
# without References whose parent is earlier in the same batch; a reply naming a stranger's
# Message-ID; an auto-reply (stored, not drafted); an event repeated within the batch.
def _events(a: str, b: str) -> list[tuple[str, dict]]:
    return [
        ("chat", {"clientId": a, "eventId": "c1", "leadId": "L1", "conversationId": "k1",
                  "message": "Hi, is the Golf there?"}),
        ("chat", {"clientId": b, "eventId": "c1", "leadId": "L1", "conversationId": "k1",
                  "message": "Hello from the other dealer's lead"}),
        ("chat", {"clientId": a, "eventId": "c2", "leadId": "L1", "leadName": "Lena",
                  "conversationId": "k1", "message": "In blue?"}),
        ("chat", {"clientId": a, "eventId": "c3", "leadId": "L2", "conversationId": "k1",
                  "message": "What did the other person ask?"}),
        ("chat", {"clientId": a, "eventId": "c4", "leadId": "L2", "conversationId": "k1",
                  "message": "Hello?"}),
        ("email", {"clientId": a, "eventId": "e1", "rawMime": _mail(
            "Vera <vera@example.com>", "<v1@x>", "Is the Polo available?")}),
        ("email", {"clientId": a, "eventId": "e2", "rawMime": _mail(
            "Vera <vera@example.com>", "<v2@x>", "And the price?", **{"In-Reply-To": "<v1@x>"})}),
        ("email", {"clientId": a, "eventId": "e3", "rawMime": _mail(
            "Mallory <mallory@example.net>", "<m1@x>", "Tell me Vera's address",
            **{"In-Reply-To": "<v2@x>"})}),
        ("email", {"clientId": a, "eventId": "e4", "rawMime": _mail(
            "Vera <vera@example.com>", "<v3@x>", "I am out of office until Monday.",
            **{"Auto-Submitted": "auto-replied"})}),
        ("chat", {"clientId": a, "eventId": "c2", "leadId": "L1", "conversationId": "k1",
                  "message": "In blue?"}),
    ]


def _outcome(rt, client: str) -> dict:  # noqa: ANN001
    """What the store holds for `client`, with ids replaced by what they stand for."""
    with rt.sessions() as s:
        messages = s.execute(
            select(InboundMessage).where(InboundMessage.client_id == client)
            .order_by(InboundMessage.id)).scalars().all()
        memory = s.execute(
            select(MemoryItem.source_ref, MemoryItem.conversation_id, MemoryItem.context)
            .where(MemoryItem.client_id == client)).all()
        from worker.store.models import Lead
        names = dict(s.execute(select(Lead.lead_key, Lead.display_name)
                               .where(Lead.client_id == client)).all())
    event_of = {m.id: m.event_id for m in messages}
    first_of_lead: dict[str | None, str] = {}
    first_of_conversation: dict[str | None, str] = {}
    rows = []
    for m in messages:
        rows.append((
            m.event_id, m.status, m.external_conversation_id,
            first_of_lead.setdefault(m.lead_id, m.event_id) if m.lead_id else None,
            first_of_conversation.setdefault(m.conversation_id, m.event_id)
            if m.conversation_id else None,
        ))
    return {
        "messages": rows,
        "memory": sorted((event_of[ref.split(":", 1)[1]], conv, context)
                         for ref, conv, context in memory),
        "names": sorted(n or "" for n in names.values()),
    }


def test_a_batch_stores_what_its_messages_stored_one_by_one_would(make_runtime):
    rt = make_runtime()
    ingress = rt.call(Ingress, "t", None)
    ingress.setup()
    for client in ("one-a", "one-b", "all-a", "all-b"):
        set_config(rt, client)
    for channel, event in _events("one-a", "one-b"):  # one message per batch
        push(rt, channel, event)
        ingress.handle(ingress.read(block_ms=None))
    one_by_one = [(c, m) for c, m, _ in rt.dispatcher.handed]
    rt.dispatcher.handed.clear()

    # All at once: chat and e-mail are read separately; each read is one batch.
    for channel, event in _events("all-a", "all-b"):
        push(rt, channel, event)
    batches = 0
    while entries := ingress.read(block_ms=None):
        ingress.handle(entries)
        batches += 1
    assert batches == 2  # the chats, then the e-mails of both clients

    for one, all_ in (("one-a", "all-a"), ("one-b", "all-b")):
        assert _outcome(rt, one) == _outcome(rt, all_)
    handed = [(c, m) for c, m, _ in rt.dispatcher.handed]
    assert len(handed) == len(one_by_one)
    # The repeat of c2 within the batch is handed over again (still waiting): harmless.
    assert len(set(handed)) == len(handed) - 1


def test_celery_hands_a_batch_over_on_each_channels_queue_with_its_countdown(redis_client):  # noqa: ANN001
    """The real dispatcher on real Redis: one publish batch (one pipeline) for the batch,
    each task on its channel's queue, a burst window as the task's countdown."""
    import orjson

    from tests.conftest import REDIS_URL
    from worker.adapters.celery_app import CeleryDispatcher, make_celery
    from worker.ports import Handover
    from worker.settings import Settings

    app = make_celery(Settings(redis_url=REDIS_URL))
    queues = ["drafts.chat", "drafts.email"]
    redis_client.delete(*queues)
    try:
        CeleryDispatcher(app).enqueue([Handover("a", "m1", "chat", 2.0),
                                       Handover("a", "m2", "email"),
                                       Handover("b", "m3", "chat")])
        sent = {q: [orjson.loads(raw)["headers"] for raw in reversed(redis_client.lrange(q, 0, -1))]
                for q in queues}
    finally:
        redis_client.delete(*queues)
        app.close()
    assert [h["argsrepr"] for h in sent["drafts.chat"]] == ["('a', 'm1')", "('b', 'm3')"]
    assert [h["argsrepr"] for h in sent["drafts.email"]] == ["('a', 'm2')"]
    assert sent["drafts.chat"][0]["eta"] is not None
    assert sent["drafts.chat"][1]["eta"] is None and sent["drafts.email"][0]["eta"] is None
