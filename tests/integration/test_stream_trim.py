"""Redis stays bounded: inbound entries every group acknowledged, and older than the retention,
are trimmed; an unread or unacknowledged entry never is (real Redis)."""

from __future__ import annotations

import time

from tests.integration.conftest import push, set_config
from worker.adapters.streams import ensure_group, trim_acknowledged
from worker.ingress.consumer import Ingress


def _ids(rt, stream: str) -> list[str]:  # noqa: ANN001
    return [entry_id.decode() for entry_id, _ in rt.redis.xrange(stream)]


def test_only_entries_acknowledged_by_every_group_are_trimmed(rt):
    stream = rt.settings.inbound_chat_stream
    ensure_group(rt.redis, stream, "g1")
    ids = [push(rt, "chat", {"eventId": f"e{i}"}) for i in range(5)]
    rt.redis.xreadgroup("g1", "c", {stream: ">"}, count=3)  # e0 e1 e2 delivered
    rt.redis.xack(stream, "g1", ids[0], ids[2])  # e1 still pending, e3 e4 unread

    assert trim_acknowledged(rt.redis, stream, retention_seconds=3600) == 0  # all too young
    # Retention 0 trims what is older than now, in whole milliseconds (stream ids): on a fast
    # machine the five entries and this check share a millisecond, and none is older yet.
    time.sleep(0.005)
    assert trim_acknowledged(rt.redis, stream, retention_seconds=0) == 1
    assert _ids(rt, stream) == ids[1:]  # e0 gone; the pending e1 and what follows kept

    rt.redis.xack(stream, "g1", ids[1])
    trim_acknowledged(rt.redis, stream, retention_seconds=0)
    assert _ids(rt, stream) == ids[3:]  # never an unread one

    ensure_group(rt.redis, stream, "late")  # a second group that has read nothing yet
    rt.redis.xreadgroup("g1", "c", {stream: ">"})
    rt.redis.xack(stream, "g1", *ids[3:])
    assert trim_acknowledged(rt.redis, stream, retention_seconds=0) == 0
    assert _ids(rt, stream) == ids[3:]


def test_the_ingress_trims_what_it_stored(make_runtime):
    rt = make_runtime(inbound_retention_seconds=0, inbound_trim_every_seconds=0.01)
    set_config(rt, "dealer-a")
    ingress = rt.call(Ingress, "t", None)
    ingress.setup()
    for i in range(30):
        push(rt, "chat", {"eventId": f"c{i}", "clientId": "dealer-a", "message": "Hi"})
        push(rt, "email", {"eventId": f"e{i}", "clientId": "dealer-a", "message": "Hello",
                           "subject": "Q", "leadEmail": f"x{i}@example.com"})
    while entries := ingress.read(block_ms=None):
        ingress.handle(entries)
    last = push(rt, "chat", {"eventId": "unread", "clientId": "dealer-a", "message": "Hi"})
    time.sleep(0.02)
    ingress._trim_now_and_then()
    assert _ids(rt, rt.settings.inbound_chat_stream) == [last]
    assert rt.redis.xlen(rt.settings.inbound_email_stream) == 0
