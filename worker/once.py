"""`@once`: a zero-argument loader run once per process, however many threads ask at once.

`functools.cache` does not hold back concurrent first calls: with a worker's 200 threads each
first draft would load its own copy (the language identifier is ~100 MB a copy: 2.4 GB of
worker RSS was measured before this). Here the first caller loads while the others wait.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import wraps
from typing import TypeVar

T = TypeVar("T")


def once(load: Callable[[], T]) -> Callable[[], T]:
    lock = threading.Lock()
    done: list[T] = []  # empty until loaded

    @wraps(load)
    def get() -> T:
        if not done:
            with lock:
                if not done:
                    done.append(load())
        return done[0]

    return get
