"""Privacy on real Postgres: kept-aside events belong to their lead and go with `leads erase`;
each client's retentionDays deletes its old messages, drafts, audit rows and kept-aside events."""

from __future__ import annotations

from sqlalchemy import select, text

from tests.integration.conftest import push, set_config
from tests.integration.test_drafting import _draft
from worker.ingress.consumer import Ingress
from worker.leads import lead_key
from worker.retention import apply_retention
from worker.store import erase
from worker.store.models import Draft, InboundMessage, LlmCall, MemoryItem, Outbox, RejectedEvent

ANNA = "anna@mail.test"


def _ingest_all(rt) -> None:  # noqa: ANN001
    ingress = rt.call(Ingress, "t")
    ingress.setup()
    while entries := ingress.read(block_ms=None):  # chats first, then e-mail
        ingress.handle(entries)


def _rejected(rt) -> list[tuple[str | None, str | None]]:  # noqa: ANN001
    with rt.sessions() as s:
        return sorted(s.execute(select(RejectedEvent.claimed_client_id, RejectedEvent.lead_key)
                                ).all(), key=str)


def test_kept_aside_events_are_tied_to_their_lead_and_erased_with_it(rt):
    set_config(rt, "alpha")
    secret = b"test-secret"  # the runtime's LEAD_HASH_KEY
    anna = lead_key(None, ANNA, secret)
    # Each is kept aside (eventId of the wrong type), each says whose it is differently.
    push(rt, "chat", {"clientId": "alpha", "eventId": 1, "leadId": "L1", "message": "hi"})
    push(rt, "email", {"clientId": "alpha", "eventId": 2, "leadEmail": "Anna@Mail.test",
                       "message": "hi"})
    push(rt, "email", {"clientId": "alpha", "eventId": 3, "rawMime":
                       f"From: Anna <{ANNA}>\r\nSubject: car\r\n\r\nhello"})
    push(rt, "email", {"eventId": 4, "rawMime": f"From: {ANNA}\r\n\r\nunroutable"})
    push(rt, "chat", {"clientId": "alpha", "eventId": 5, "leadId": "L2", "message": "other"})
    push(rt, "chat", b"not json at all")
    _ingest_all(rt)
    assert _rejected(rt) == sorted([
        ("alpha", "id:L1"), ("alpha", anna), ("alpha", anna), (None, anna), ("alpha", "id:L2"),
        (None, None)], key=str)

    with rt.sessions.begin() as session:
        assert erase.erase_lead(session, "alpha", anna)["rejectedEvents"] == 3
    with rt.sessions.begin() as session:
        assert erase.erase_lead(session, "alpha", "id:L1")["rejectedEvents"] == 1
    assert _rejected(rt) == sorted([("alpha", "id:L2"), (None, None)], key=str)


def _age(rt, days: int) -> None:  # noqa: ANN001
    """Make every row stored so far `days` old (as the superuser: past row-level security)."""
    with rt.engine.begin() as conn:
        for table in ("inbound_messages", "drafts", "llm_calls", "rejected_events",
                      "memory_items", "outbox"):
            conn.execute(text(f"UPDATE {table} SET created_at = now() - make_interval("
                              f"days => {days})"))


def _count(rt, model, client: str) -> int:  # noqa: ANN001
    column = model.claimed_client_id if model is RejectedEvent else model.client_id
    with rt.sessions() as s:
        return len(s.scalars(select(model).where(column == client)).all())


def test_retention_deletes_a_clients_old_rows_and_keeps_the_rest(rt):
    set_config(rt, "alpha", retentionDays=30)
    set_config(rt, "beta")  # keeps everything
    for client in ("alpha", "beta"):
        _draft(rt, client, {"eventId": "old", "leadId": "L1", "message": "an old question"})
        push(rt, "chat", {"clientId": client, "eventId": 9, "message": "kept aside"})
    _ingest_all(rt)
    _age(rt, 40)
    _draft(rt, "alpha", {"eventId": "new", "leadId": "L1", "message": "a new question"})

    purged = apply_retention(sessions=rt.sessions)

    assert set(purged) == {"alpha"}
    assert purged["alpha"]["inboundMessages"] == 1 and purged["alpha"]["drafts"] == 1
    assert purged["alpha"]["rejectedEvents"] == 1 and purged["alpha"]["llmCalls"] == 1
    with rt.sessions() as s:
        assert [m.event_id for m in s.scalars(
            select(InboundMessage).where(InboundMessage.client_id == "alpha"))] == ["new"]
        alpha_memory = s.scalars(select(MemoryItem.text).where(MemoryItem.client_id == "alpha"))
        assert "an old question" not in list(alpha_memory)
    for model in (InboundMessage, Draft, LlmCall, Outbox, RejectedEvent):
        assert _count(rt, model, "beta") == 1, model.__name__
    assert apply_retention(sessions=rt.sessions)["alpha"] == {k: 0 for k in purged["alpha"]}
