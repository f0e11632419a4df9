"""A loader shared by a worker's threads runs once, even when they all ask at the same moment."""

from __future__ import annotations

import threading
import time

from worker.once import once


def test_concurrent_first_calls_load_once_and_all_get_the_same_value():
    loads: list[object] = []

    @once
    def model() -> object:
        time.sleep(0.05)  # a slow load: every thread arrives while it runs
        value = object()
        loads.append(value)
        return value

    got: list[object] = []
    start = threading.Barrier(32)

    def ask() -> None:
        start.wait()
        got.append(model())

    threads = [threading.Thread(target=ask) for _ in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(loads) == 1
    assert got == [loads[0]] * 32
