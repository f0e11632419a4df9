"""Ingress on real Redis streams and Postgres: store, then hand over, then acknowledge."""

from __future__ import annotations

import orjson
from sqlalchemy import func, select

from tests.integration.conftest import push, set_config
from worker.ingress.consumer import Ingress
from worker.store.models import InboundMessage, RejectedEvent


def _drain(ingress: Ingress) -> None:
    while entries := ingress.read(block_ms=None):
        ingress.handle(entries)


def _pending(rt, stream: str) -> int:  # noqa: ANN001
    return rt.redis.xpending(stream, rt.settings.consumer_group)["pending"]


def test_valid_events_are_stored_handed_over_and_acknowledged(rt):
    set_config(rt, "dealer-a", name="Ava")
    ingress = rt.call(Ingress, "t")
    ingress.setup()
    push(rt, "chat", {"eventId": "c1", "clientId": "dealer-a", "message": "Hi", "leadId": "L1"})
    push(rt, "email", {"eventId": "e1", "clientId": "dealer-a", "message": "Hello",
                       "subject": "Question", "leadEmail": "x@example.com"})
    _drain(ingress)

    with rt.sessions() as s:
        stored = s.scalars(select(InboundMessage).order_by(InboundMessage.event_id)).all()
    assert [(m.event_id, m.channel, m.status) for m in stored] == [
        ("c1", "chat", "received"), ("e1", "email", "received"),
    ]
    assert sorted(c for _, _, c in rt.dispatcher.handed) == ["chat", "email"]
    assert _pending(rt, rt.settings.inbound_chat_stream) == 0
    assert _pending(rt, rt.settings.inbound_email_stream) == 0


def test_repeated_event_id_is_stored_once(rt):
    set_config(rt, "dealer-a")
    ingress = rt.call(Ingress, "t")
    ingress.setup()
    event = {"eventId": "same", "clientId": "dealer-a", "message": "Hi"}
    push(rt, "chat", event)
    push(rt, "chat", event)
    _drain(ingress)
    push(rt, "chat", event)  # again, after the first was handled
    _drain(ingress)
    with rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(InboundMessage)) == 1


def test_same_event_id_in_two_tenants_is_two_messages(rt):
    set_config(rt, "dealer-a")
    set_config(rt, "dealer-b")
    ingress = rt.call(Ingress, "t")
    ingress.setup()
    push(rt, "chat", {"eventId": "42", "clientId": "dealer-a", "message": "Hi"})
    push(rt, "chat", {"eventId": "42", "clientId": "dealer-b", "message": "Hi"})
    _drain(ingress)
    with rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(InboundMessage)) == 2


def test_bad_entries_are_kept_aside_with_reason_and_do_not_stop_the_rest(rt):
    set_config(rt, "dealer-a", allowedModels=["openai/allowed"])
    ingress = rt.call(Ingress, "t")
    ingress.setup()
    bad = {
        b"not json": "not valid JSON",
        orjson.dumps([1, 2]): "must be a JSON object",
        orjson.dumps({"clientId": "dealer-a", "message": "no id"}): "eventId",
        orjson.dumps({"eventId": "u1", "clientId": "nobody", "message": "Hi"}): "not registered",
        orjson.dumps({"eventId": "m1", "clientId": "dealer-a", "message": "Hi",
                      "model": "openai/expensive"}): "allowedModels",
        orjson.dumps({"eventId": "n1", "clientId": "dealer-a", "message": "a\u0000b"}): "NUL",
        b'{"eventId": "x", "clientId": "dealer-a", "message": "\xff\xfe"}': "UTF-8",
    }
    for raw in bad:
        push(rt, "chat", raw)
    rt.redis.xadd(rt.settings.inbound_chat_stream, {"body": "no payload field"})
    push(rt, "chat", {"eventId": "good", "clientId": "dealer-a", "message": "Hi"})
    _drain(ingress)

    with rt.sessions() as s:
        kept = {r.raw_payload: r.reason for r in s.scalars(select(RejectedEvent))}
        good = s.scalars(select(InboundMessage.event_id)).all()
    assert good == ["good"]
    for raw, fragment in bad.items():
        assert fragment in kept[raw], (raw, kept[raw])
    assert any("no 'payload' field" in reason for reason in kept.values())
    assert _pending(rt, rt.settings.inbound_chat_stream) == 0


def test_entries_read_but_not_acknowledged_are_taken_over_after_a_crash(rt):
    set_config(rt, "dealer-a")
    crashed = rt.call(Ingress, "crashed")
    crashed.setup()
    push(rt, "chat", {"eventId": "c1", "clientId": "dealer-a", "message": "Hi"})
    assert len(crashed.read(block_ms=None)) == 1  # read, then "died" before storing

    survivor = rt.call(Ingress, "survivor")
    import worker.ingress.consumer as consumer

    original = consumer.CLAIM_IDLE_MS
    consumer.CLAIM_IDLE_MS = 0
    try:
        survivor.handle(survivor.claim_abandoned())
    finally:
        consumer.CLAIM_IDLE_MS = original
    with rt.sessions() as s:
        assert s.scalars(select(InboundMessage.event_id)).all() == ["c1"]
    assert _pending(rt, rt.settings.inbound_chat_stream) == 0


def test_an_entry_that_keeps_failing_is_set_aside_and_the_rest_go_on(rt, monkeypatch):
    set_config(rt, "dealer-a")
    ingress = rt.call(Ingress, "t")
    ingress.setup()
    push(rt, "chat", {"eventId": "poison", "clientId": "dealer-a", "message": "boom"})
    push(rt, "chat", {"eventId": "good", "clientId": "dealer-a", "message": "fine"})

    import worker.ingress.consumer as consumer

    real = consumer.accepted_message

    def explode_on_poison(event, *args):  # noqa: ANN001 - a bug only this event triggers
        if event.event_id == "poison":
            raise RuntimeError("unexpected bug")
        return real(event, *args)

    monkeypatch.setattr(consumer, "accepted_message", explode_on_poison)
    ingress.read(block_ms=None)  # first delivery: the batch fails
    for _ in range(consumer.MAX_DELIVERIES):
        ingress._recover("RuntimeError: unexpected bug")

    with rt.sessions() as s:
        assert s.scalars(select(InboundMessage.event_id)).all() == ["good"]
        [kept] = s.scalars(select(RejectedEvent)).all()
    assert kept.event_id == "poison" and "processing failed" in kept.reason
    assert _pending(rt, rt.settings.inbound_chat_stream) == 0


def test_a_nul_in_the_claimed_ids_is_still_kept_aside_and_the_batch_goes_on(rt):
    set_config(rt, "dealer-a")
    ingress = rt.call(Ingress, "t")
    ingress.setup()
    push(rt, "chat", {"eventId": "bad\u0000id", "clientId": "dealer\u0000a", "message": "Hi"})
    push(rt, "chat", {"eventId": "good", "clientId": "dealer-a", "message": "Hi"})
    _drain(ingress)
    with rt.sessions() as s:
        assert s.scalars(select(InboundMessage.event_id)).all() == ["good"]
        [kept] = s.scalars(select(RejectedEvent)).all()
    assert "NUL" in kept.reason and kept.event_id == "bad\\u0000id"
    assert _pending(rt, rt.settings.inbound_chat_stream) == 0


def test_ingress_recreates_its_group_when_redis_lost_everything(rt):
    import threading
    import time

    set_config(rt, "dealer-a")
    ingress = rt.call(Ingress, "t")
    stop = threading.Event()
    runner = threading.Thread(target=ingress.run, args=(stop,), daemon=True)
    runner.start()
    try:
        push(rt, "chat", {"eventId": "before", "clientId": "dealer-a", "message": "Hi"})
        _wait_for_message(rt, "before")
        rt.redis.delete(rt.settings.inbound_chat_stream, rt.settings.inbound_email_stream)
        time.sleep(0.5)
        push(rt, "chat", {"eventId": "after", "clientId": "dealer-a", "message": "Hi"})
        _wait_for_message(rt, "after")
    finally:
        stop.set()
        runner.join(10)


def _wait_for_message(rt, event_id: str, timeout: float = 20.0) -> None:  # noqa: ANN001
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with rt.sessions() as s:
            if s.scalar(select(InboundMessage.id).where(InboundMessage.event_id == event_id)):
                return
        time.sleep(0.2)
    raise AssertionError(f"{event_id} was never stored")


def test_a_chat_is_stored_and_handed_over_before_an_email_backlog(make_runtime):
    """A person waits on a chat: it must not queue behind e-mail already in the stream."""
    rt = make_runtime(tenant_email_queued_max=100)  # no worker here: room for the whole backlog
    set_config(rt, "dealer-a")
    ingress = rt.call(Ingress, "t")
    ingress.setup()
    for i in range(60):
        push(rt, "email", {"eventId": f"e{i}", "clientId": "dealer-a", "message": "Hello",
                           "subject": "Question", "leadEmail": f"x{i}@example.com"})
    push(rt, "chat", {"eventId": "c1", "clientId": "dealer-a", "message": "Still there?"})

    ingress.handle(ingress.read(block_ms=None))
    assert [c for _, _, c in rt.dispatcher.handed] == ["chat"]

    ingress.handle(ingress.read(block_ms=None))  # then e-mail, a short batch at a time
    emails = [c for _, _, c in rt.dispatcher.handed].count("email")
    assert 0 < emails <= rt.settings.ingress_email_batch_size
    _drain(ingress)
    assert [c for _, _, c in rt.dispatcher.handed].count("email") == 60


def test_a_lead_id_at_the_contract_bound_is_stored_and_one_past_it_kept_aside(rt):
    """leadId may hold 200 characters: its lead key ("id:" + 200) fits every lead_key column,
    and a longer one is kept aside with the validation reason, never lost."""
    set_config(rt, "dealer-a")
    ingress = rt.call(Ingress, "t")
    ingress.setup()
    push(rt, "chat", {"eventId": "at-bound", "clientId": "dealer-a", "message": "Hi",
                      "leadId": "l" * 200})
    push(rt, "chat", {"eventId": "past-bound", "clientId": "dealer-a", "message": "Hi",
                      "leadId": "l" * 201})
    _drain(ingress)

    with rt.sessions() as s:
        stored = s.scalars(select(InboundMessage.event_id)).all()
        kept = s.scalars(select(RejectedEvent)).all()
    assert stored == ["at-bound"]
    assert [(r.event_id, r.lead_key) for r in kept] == [("past-bound", None)]
    assert "leadId" in kept[0].reason
    assert _pending(rt, rt.settings.inbound_chat_stream) == 0
