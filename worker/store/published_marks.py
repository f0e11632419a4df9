"""Outbox rows that reached Redis, marked published in Postgres in batches.

Marking each draft's row in its own transaction right after its XADD cost a draft a third
transaction (pool checkout, BEGIN, tenant binding, UPDATE, COMMIT: ~1.5 ms of worker CPU and
~3 ms of Postgres's, bench/throughput.py). The mark only keeps the outbox relay from
publishing the row again, so it can wait a moment: marks are collected here and written
every `every_seconds` (one UPDATE per client and stream) by a background thread.

A mark that is lost (the process died before the flush, or Postgres refused it) costs one
duplicate stream entry when the relay republishes the row after OUTBOX_SWEEP_AFTER_SECONDS:
the outbound streams are at-least-once and consumers dedupe on draftId. Settings keep the
interval well under the relay's grace period so that does not happen in normal operation.
"""

from __future__ import annotations

import threading
from collections import defaultdict

from sqlalchemy.orm import Session, sessionmaker

from worker.logs import log
from worker.store import outbox

Key = tuple[str, "str | None"]  # (client_id, stream)


class PublishedMarks:
    def __init__(self, sessions: sessionmaker[Session], every_seconds: float):
        """`every_seconds` 0: each mark is written at once, in the caller's thread."""
        self._sessions = sessions
        self._every = every_seconds
        self._pending: dict[Key, set[str]] = defaultdict(set)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, client_id: str, draft_ids: list[str], stream: str | None) -> None:
        if self._every <= 0:
            self._write({(client_id, stream): set(draft_ids)})
            return
        with self._lock:
            self._pending[(client_id, stream)].update(draft_ids)
            if self._thread is None:  # started lazily: only processes that publish need it
                self._thread = threading.Thread(
                    target=self._run, name="outbox-marks", daemon=True)
                self._thread.start()

    def flush(self) -> None:
        """Write every mark collected so far. A failed write keeps its marks for the next."""
        with self._lock:
            batch, self._pending = self._pending, defaultdict(set)
        if not batch:
            return
        try:
            self._write(batch)
        except Exception as exc:  # noqa: BLE001 - retried at the next flush
            log.warning("outbox.marks_deferred", drafts=sum(map(len, batch.values())),
                        error=f"{type(exc).__name__}: {exc}"[:300])
            with self._lock:
                for key, ids in batch.items():
                    self._pending[key].update(ids)

    def close(self) -> None:
        """Stop the thread and write what is left (a process shutting down)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.flush()

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            self.flush()

    def _write(self, batch: dict[Key, set[str]]) -> None:
        for (client_id, stream), ids in batch.items():
            with self._sessions.begin() as session:
                outbox.mark_published(session, client_id, sorted(ids), stream)
