"""Per-tenant fairness at the ingress, on real Redis streams and Postgres: one tenant's e-mail
backlog waits in its own lane; another tenant's e-mail is stored and handed over at once."""

from __future__ import annotations

import time

import orjson
from sqlalchemy import func, select, update

from tests.integration.conftest import push, set_config
from worker.adapters import lanes
from worker.ingress.consumer import Ingress
from worker.adapters.lanes import lane_of
from worker.store.models import InboundMessage, RejectedEvent


def _email(client: str, event_id: str) -> dict:
    return {"eventId": event_id, "clientId": client, "message": "Hello", "subject": "Question",
            "leadEmail": f"{event_id}@example.com"}


def _handed(rt) -> list[str]:  # noqa: ANN001 - the clients of the messages handed over, in order
    return [client for client, _, _ in rt.dispatcher.handed]


def _drain(ingress: Ingress) -> None:
    while entries := ingress.read(block_ms=None):
        ingress.handle(entries)


def _workers_take_everything(rt) -> None:  # noqa: ANN001 - as drafting workers would
    with rt.sessions.begin() as s:
        s.execute(update(InboundMessage).where(InboundMessage.status == "received")
                  .values(status="drafted"))


def test_another_tenants_email_does_not_wait_behind_a_backlog(rt):
    set_config(rt, "dealer-a")
    set_config(rt, "dealer-b")
    ingress = rt.call(Ingress, "t", None)
    ingress.setup()
    for i in range(300):
        push(rt, "email", _email("dealer-a", f"a{i}"))
    push(rt, "email", _email("dealer-b", "b0"))
    push(rt, "email", _email("dealer-b", "b1"))

    ingress.handle(ingress.read(block_ms=None))  # the very first read
    assert _handed(rt).count("dealer-b") == 2
    assert _handed(rt).count("dealer-a") == rt.settings.ingress_email_batch_size

    _drain(ingress)  # no worker takes A's: A has at most its room stored, the rest waits
    assert _handed(rt).count("dealer-a") == rt.settings.tenant_email_queued_max
    assert rt.redis.xlen(lane_of(rt.settings.inbound_email_stream, "dealer-a")) == (
        300 - rt.settings.tenant_email_queued_max)
    # Nothing is left unacknowledged on the inbound stream: the backlog moved to its lane.
    assert rt.redis.xpending(rt.settings.inbound_email_stream, rt.settings.consumer_group)[
        "pending"] == 0

    _workers_take_everything(rt)
    _drain(ingress)
    assert _handed(rt).count("dealer-a") == 2 * rt.settings.tenant_email_queued_max
    for _ in range(300 // rt.settings.tenant_email_queued_max):  # room for this many each time
        _workers_take_everything(rt)
        _drain(ingress)
    with rt.sessions() as s:
        stored = s.scalar(select(func.count()).select_from(InboundMessage))
    assert stored == 302 and _handed(rt).count("dealer-a") == 300
    assert rt.redis.xlen(lane_of(rt.settings.inbound_email_stream, "dealer-a")) == 0


def test_the_per_tenant_cap_counts_drafts_in_progress(make_runtime):
    rt = make_runtime(tenant_max_in_flight=5)
    set_config(rt, "dealer-a")
    ingress = rt.call(Ingress, "t", None)
    ingress.setup()
    for i in range(12):
        push(rt, "email", _email("dealer-a", f"a{i}"))
    _drain(ingress)
    assert len(_handed(rt)) == 5
    with rt.sessions.begin() as s:  # workers are drafting all five
        s.execute(update(InboundMessage).values(status="drafting"))
    _drain(ingress)
    assert len(_handed(rt)) == 5
    with rt.sessions.begin() as s:  # two are done
        ids = s.scalars(select(InboundMessage.id).limit(2)).all()
        s.execute(update(InboundMessage).where(InboundMessage.id.in_(ids))
                  .values(status="drafted"))
    _drain(ingress)
    assert len(_handed(rt)) == 7


def test_a_bad_entry_in_a_lane_is_kept_aside_under_the_producers_entry_id(rt):
    set_config(rt, "dealer-a")
    ingress = rt.call(Ingress, "t", None)
    ingress.setup()
    entry_id = push(rt, "email", {"eventId": "bad", "clientId": "dealer-a", "message": 42})
    unnamed = push(rt, "email", b"not json")
    _drain(ingress)
    with rt.sessions() as s:
        kept = {r.entry_id: r for r in s.scalars(select(RejectedEvent))}
    assert set(kept) == {entry_id, unnamed}
    assert kept[entry_id].stream == rt.settings.inbound_email_stream
    assert kept[entry_id].raw_payload.startswith(b"{") and b"_origin" not in kept[unnamed].raw_payload


def test_lane_entries_of_a_crashed_ingress_are_taken_over(rt):
    import worker.ingress.consumer as consumer

    set_config(rt, "dealer-a")
    crashed = rt.call(Ingress, "crashed", None)
    crashed.setup()
    push(rt, "email", _email("dealer-a", "e1"))
    assert len(crashed.read(block_ms=None)) == 1  # moved to its lane and read, then "died"

    survivor = rt.call(Ingress, "survivor", None)
    original = consumer.CLAIM_IDLE_MS
    consumer.CLAIM_IDLE_MS = 0
    try:
        survivor.handle(survivor.claim_abandoned())
    finally:
        consumer.CLAIM_IDLE_MS = original
    with rt.sessions() as s:
        assert s.scalars(select(InboundMessage.event_id)).all() == ["e1"]
    lane = lane_of(rt.settings.inbound_email_stream, "dealer-a")
    assert rt.redis.xpending(lane, rt.settings.consumer_group)["pending"] == 0
    assert rt.redis.xlen(lane) == 0


def test_an_email_never_picked_up_goes_to_chats_queue_so_it_is_not_starved(rt):
    from datetime import timedelta

    from worker.pipeline.reprocess import reprocess_due
    from worker.store.models import utcnow

    set_config(rt, "dealer-a")
    ingress = rt.call(Ingress, "t", None)
    ingress.setup()
    push(rt, "email", _email("dealer-a", "old"))
    _drain(ingress)
    assert rt.dispatcher.handed[-1][2] == "email"
    long_ago = utcnow() - timedelta(seconds=rt.settings.draft_lease_seconds + 1)
    with rt.sessions.begin() as s:  # its task sat behind chat (or was lost) all that time
        s.execute(update(InboundMessage).values(created_at=long_ago))
    assert rt.call(reprocess_due) == 1
    assert rt.dispatcher.handed[-1][2] == "chat"


def test_a_client_id_postgres_cannot_hold_does_not_block_the_lanes(rt):
    set_config(rt, "dealer-a")
    ingress = rt.call(Ingress, "t", None)
    ingress.setup()
    push(rt, "email", _email("dealer\u0000a", "nul"))
    push(rt, "email", b'{"eventId": "sur", "clientId": "a\\ud800", "message": "Hi"}')
    push(rt, "email", _email("dealer-a", "good"))
    _drain(ingress)
    with rt.sessions() as s:
        assert s.scalars(select(InboundMessage.event_id)).all() == ["good"]
        assert len(s.scalars(select(RejectedEvent)).all()) == 2


def _events(entries) -> list[str]:  # noqa: ANN001
    return [orjson.loads(e.fields[b"payload"])["eventId"] for e in entries]


def test_lanes_left_empty_are_pruned_and_a_pending_one_is_kept(make_runtime):
    rt = make_runtime(inbound_retention_seconds=0, inbound_trim_every_seconds=0.01)
    stream, group = rt.settings.inbound_email_stream, rt.settings.consumer_group
    for client in ("dealer-a", "dealer-b", "dealer-c"):
        set_config(rt, client)
    ingress = rt.call(Ingress, "t", None)
    ingress.setup()
    push(rt, "email", _email("dealer-a", "a0"))
    _drain(ingress)  # stored, acknowledged and deleted from its lane: dealer-a's lane is empty
    push(rt, "email", _email("dealer-b", "b0"))
    push(rt, "email", _email("dealer-c", "c0"))
    read = ingress.read(block_ms=None)  # read, not stored yet: pending in their lanes
    assert sorted(_events(read)) == ["b0", "c0"]
    a, b, c = (lane_of(stream, x) for x in ("dealer-a", "dealer-b", "dealer-c"))
    rt.redis.xdel(c, *[e.entry_id for e in read if e.stream == c])  # gone, yet still pending

    time.sleep(0.02)
    ingress._trim_now_and_then()
    assert not rt.redis.exists(a) and set(lanes.lanes(rt.redis, stream)) == {b, c}
    assert rt.redis.xpending(b, group)["pending"] == 1
    assert rt.redis.xpending(c, group)["pending"] == 1

    ingress.handle(read)
    time.sleep(0.02)
    ingress._trim_now_and_then()
    assert not rt.redis.exists(b) and not rt.redis.exists(c)
    assert not rt.redis.exists(lanes.registry_key(stream))
    with rt.sessions() as s:
        assert sorted(s.scalars(select(InboundMessage.event_id)).all()) == ["a0", "b0", "c0"]

    push(rt, "email", _email("dealer-a", "a1"))  # a client that writes again gets a new lane
    assert _events(ingress.read(block_ms=None)) == ["a1"]


def test_a_lane_pruned_by_another_ingress_between_listing_and_reading_is_skipped(rt):
    stream, group = rt.settings.inbound_email_stream, rt.settings.consumer_group
    set_config(rt, "dealer-a")
    set_config(rt, "dealer-b")
    ingress = rt.call(Ingress, "t", None)
    ingress.setup()
    push(rt, "email", _email("dealer-a", "a0"))
    _drain(ingress)
    push(rt, "email", _email("dealer-b", "b0"))
    assert _events(ingress.read(block_ms=None)) == ["b0"]  # then this ingress restarts
    listed = ingress._lanes()
    assert lanes.prune(rt.redis, stream, group) == 1  # another ingress, right after the listing
    ingress._lanes = lambda: listed  # type: ignore[method-assign] - reads what it listed

    leftovers = ingress.read(start="0")
    assert _events(leftovers) == ["b0"]
    assert ingress.set_aside_poison("boom") == 0
    assert ingress.claim_abandoned() == []
    ingress.handle(leftovers)
    assert ingress.read(block_ms=None) == []
    a = lane_of(stream, "dealer-a")
    assert not rt.redis.exists(a)  # never re-created empty, out of the registry
    assert set(lanes.lanes(rt.redis, stream)) == {lane_of(stream, "dealer-b")}

    # A move's XADD landing just after the prune re-creates the lane without a group: the
    # group is made again at "0", so the entry is read.
    rt.redis.xadd(a, {b"payload": orjson.dumps(_email("dealer-a", "a1")),
                      lanes.ORIGIN_STREAM: stream.encode(), lanes.ORIGIN_ID: b"1-0"})
    assert ingress.read(block_ms=None) == []  # NOGROUP: skipped, its group made
    assert _events(ingress.read(block_ms=None)) == ["a1"]
