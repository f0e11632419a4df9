"""Tenant lanes and the burst countdown, as far as they are pure (the rest runs on real Redis in
tests/integration/test_fairness.py and test_bursts.py)."""

from __future__ import annotations

from contextlib import contextmanager

import orjson
import redis

from worker.adapters.celery_app import DRAFT_MESSAGE, CeleryDispatcher
from worker.adapters.lanes import UNKNOWN, claimed_client, is_missing, lane_of
from worker.ports import Handover
from worker.settings import Settings


def test_an_entry_goes_to_the_lane_of_the_client_it_claims():
    assert claimed_client({b"payload": orjson.dumps({"clientId": "dealer-a"})}) == "dealer-a"
    for odd in (b"not json", orjson.dumps([1]), orjson.dumps({"clientId": 7}),
                orjson.dumps({"clientId": ""}), orjson.dumps({"clientId": "x" * 201}),
                orjson.dumps({"clientId": "   "}), orjson.dumps({"clientId": "a\u0000b"}),
                b'{"clientId": "a\\ud800"}'):
        assert claimed_client({b"payload": odd}) == UNKNOWN
    assert claimed_client({}) == UNKNOWN


def test_lanes_are_per_client_and_safe_key_names():
    a, b = lane_of("in:email", "dealer-a"), lane_of("in:email", "dealer-b")
    assert a != b and a.startswith("in:email:lane:")
    weird = lane_of("in:email", "a b\n\u00e9\ud800")  # untrusted text: hashed, never used raw
    assert weird.isascii() and " " not in weird


def test_only_a_lane_gone_missing_is_skipped_by_a_reader():
    pruned = "NOGROUP No such key 'in:email:lane:ab' or consumer group 'g' in XREADGROUP"
    assert is_missing(redis.ResponseError(pruned))
    assert not is_missing(redis.ResponseError("WRONGTYPE Operation against a key"))
    assert not is_missing(redis.ConnectionError("NOGROUP"))  # Redis down: not a pruned lane


class _Producer:
    def __init__(self, app: "_App") -> None:
        self.app = app

    @contextmanager
    def batch(self):  # noqa: ANN201
        self.app.batches.append([])
        yield


class _App:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict]] = []
        self.batches: list[list[str]] = []

    @contextmanager
    def producer_or_acquire(self):  # noqa: ANN201
        yield _Producer(self)

    def send_task(self, name: str, producer: _Producer, **kwargs: object) -> None:
        self.sent.append((name, kwargs))
        self.batches[-1].append(kwargs["args"][1])


def test_a_burst_window_becomes_the_tasks_countdown_and_a_batch_is_one_publish_batch():
    app = _App()
    CeleryDispatcher(app).enqueue([Handover("dealer-a", "m1", "chat", 2.0),
                                   Handover("dealer-a", "m2", "email")])
    CeleryDispatcher(app).enqueue([])
    assert app.sent == [
        (DRAFT_MESSAGE, {"args": ("dealer-a", "m1"), "queue": "drafts.chat", "countdown": 2.0,
                         "argsrepr": "('dealer-a', 'm1')", "kwargsrepr": "{}"}),
        (DRAFT_MESSAGE, {"args": ("dealer-a", "m2"), "queue": "drafts.email", "countdown": None,
                         "argsrepr": "('dealer-a', 'm2')", "kwargsrepr": "{}"}),
    ]
    assert app.batches == [["m1", "m2"]]


def test_burst_windows_default_to_a_few_seconds_for_chat_and_none_for_email():
    s = Settings()
    assert 1 <= s.burst_window("chat") <= 5 and s.burst_window("email") == 0
