"""Publication marks are written in batches, and a failed write loses none of them."""

from __future__ import annotations

import time
from contextlib import contextmanager

import pytest

from worker.settings import Settings
from worker.store import published_marks


class Sessions:
    """A sessionmaker stand-in whose transactions fail while `down`."""

    def __init__(self) -> None:
        self.down = False
        self.transactions = 0

    @contextmanager
    def begin(self):  # noqa: ANN201
        if self.down:
            raise ConnectionError("postgres went away")
        self.transactions += 1
        yield object()


@pytest.fixture
def written(monkeypatch):  # noqa: ANN001, ANN201
    marks: list[tuple[str, str | None, list[str]]] = []
    monkeypatch.setattr(published_marks.outbox, "mark_published",
                        lambda _s, client, ids, stream: marks.append((client, stream, ids)))
    return marks


def test_marks_wait_for_the_flush_and_are_written_one_update_per_client_and_stream(written):
    sessions = Sessions()
    marks = published_marks.PublishedMarks(sessions, every_seconds=60)
    marks.add("a", ["d2"], "out")
    marks.add("a", ["d1"], "out")
    marks.add("b", ["d3"], "out")
    assert written == []
    marks.flush()
    assert sorted(written) == [("a", "out", ["d1", "d2"]), ("b", "out", ["d3"])]
    assert sessions.transactions == 2
    marks.flush()
    assert len(written) == 2  # nothing is written twice


def test_a_failed_write_keeps_its_marks_for_the_next_flush(written):
    sessions = Sessions()
    marks = published_marks.PublishedMarks(sessions, every_seconds=60)
    marks.add("a", ["d1"], "out")
    sessions.down = True
    marks.flush()
    assert written == []
    sessions.down = False
    marks.add("a", ["d2"], "out")
    marks.flush()
    assert written == [("a", "out", ["d1", "d2"])]


def test_the_background_thread_writes_marks_and_close_writes_the_rest(written):
    marks = published_marks.PublishedMarks(Sessions(), every_seconds=0.05)
    marks.add("a", ["d1"], None)
    deadline = time.monotonic() + 5
    while not written and time.monotonic() < deadline:
        time.sleep(0.01)
    assert written == [("a", None, ["d1"])]
    marks.add("a", ["d2"], None)
    marks.close()
    assert written[-1] == ("a", None, ["d2"])


def test_zero_writes_each_mark_at_once(written):
    marks = published_marks.PublishedMarks(Sessions(), every_seconds=0)
    marks.add("a", ["d1"], "out")
    assert written == [("a", "out", ["d1"])]


def test_an_interval_the_relay_could_overtake_is_refused():
    with pytest.raises(ValueError, match="OUTBOX_MARK_EVERY_SECONDS"):
        Settings(outbox_sweep_after_seconds=1, outbox_mark_every_seconds=0.6)
    assert Settings(outbox_sweep_after_seconds=0, outbox_mark_every_seconds=0)
