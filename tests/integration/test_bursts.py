"""Bursts: several lead messages in one conversation within the burst window give one model call,
for the newest (real Postgres and Redis, the fake model over HTTP counting calls)."""

from __future__ import annotations

import threading
import time

import httpx
from sqlalchemy import select

from tests.integration.conftest import push, set_config
from worker.ingress.consumer import Ingress
from worker.pipeline.draft import draft_message
from worker.store.models import Draft, InboundMessage


def _calls(fake_llm, model: str) -> int:  # noqa: ANN001
    return httpx.get(fake_llm.url.rsplit("/v1", 1)[0] + "/_stats").json().get(model, 0)


def _lead_writes(rt, ingress: Ingress, texts: list[str], gap: float) -> list[threading.Timer]:  # noqa: ANN001
    """Each message arrives `gap` seconds after the last; each handed-over message is drafted
    when its delay is up, as Celery runs a task sent with that countdown."""
    timers = []
    for i, text in enumerate(texts):
        push(rt, "chat", {"eventId": f"m{i}", "clientId": "dealer-a", "leadId": "L1",
                          "conversationId": "c1", "message": text})
        before = len(rt.dispatcher.handed)
        ingress.handle(ingress.read(block_ms=None))
        for client, message_id, _ in rt.dispatcher.handed[before:]:
            timer = threading.Timer(rt.dispatcher.delays[message_id], rt.call,
                                    args=(draft_message, client, message_id, f"task-{message_id}"))
            timer.start()
            timers.append(timer)
        time.sleep(gap)
    return timers


def _statuses(rt) -> dict[str, tuple[str, str | None]]:  # noqa: ANN001
    with rt.sessions() as s:
        rows = s.execute(select(InboundMessage.event_id, InboundMessage.status, Draft.status)
                         .outerjoin(Draft, Draft.inbound_message_id == InboundMessage.id))
        return {event: (status, draft) for event, status, draft in rows}


def test_a_burst_of_chat_messages_gives_one_model_call_for_the_newest(make_runtime, fake_llm):
    rt = make_runtime(llm_model="openai/burst", burst_window_chat_seconds=0.6)
    set_config(rt, "dealer-a")
    ingress = rt.call(Ingress, "t", None)
    ingress.setup()
    timers = _lead_writes(rt, ingress, ["hi", "is the blue one still there?", "and in red?"],
                          gap=0.15)
    for timer in timers:
        timer.join()
    assert _calls(fake_llm, "burst") == 1
    assert _statuses(rt) == {"m0": ("skipped", None), "m1": ("skipped", None),
                             "m2": ("drafted", "pending_review")}


def test_without_a_window_every_message_of_a_burst_is_paid_for(make_runtime, fake_llm):
    rt = make_runtime(llm_model="openai/no-window", burst_window_chat_seconds=0)
    set_config(rt, "dealer-a")
    ingress = rt.call(Ingress, "t", None)
    ingress.setup()
    timers = _lead_writes(rt, ingress, ["hi", "is the blue one still there?", "and in red?"],
                          gap=0.3)
    for timer in timers:
        timer.join()
    assert _calls(fake_llm, "no-window") == 3  # today's behaviour, kept when the window is 0


def test_messages_further_apart_than_the_window_are_each_drafted(make_runtime, fake_llm):
    rt = make_runtime(llm_model="openai/apart", burst_window_chat_seconds=0.2)
    set_config(rt, "dealer-a")
    ingress = rt.call(Ingress, "t", None)
    ingress.setup()
    timers = _lead_writes(rt, ingress, ["hi", "anyone there?"], gap=0.8)
    for timer in timers:
        timer.join()
    assert _calls(fake_llm, "apart") == 2
    # Each drafted in its turn (the first draft is then withdrawn: the lead wrote again).
    assert _statuses(rt) == {"m0": ("drafted", "withdrawn"), "m1": ("drafted", "pending_review")}
