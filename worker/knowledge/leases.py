"""A worker's hold on a document while it processes it: renewed in the background, so a slow
but healthy run is never handed to a second worker (one processing at a time per document)."""

from __future__ import annotations

import threading
from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker

from worker.logs import log
from worker.store import kb_leases


class LeaseKeeper:
    """Renews the lease every third of its length until the block ends."""

    def __init__(self, sessions: sessionmaker[Session], client_id: str, document_id: str, *,
                 owner: str, version: int, lease_seconds: int):
        self._args = (client_id, document_id, owner, version, lease_seconds)
        self._sessions = sessions
        self._every = max(lease_seconds / 3, 0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kb-lease", daemon=True)

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *_exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            try:
                with self._sessions.begin() as session:
                    held = kb_leases.renew_lease(session, *self._args)
            except Exception as exc:  # the database blinked: the next beat tries again
                log.warning("kb.lease.renew_failed", document_id=self._args[1], error=repr(exc))
                continue
            if not held:  # re-uploaded or deleted meanwhile: the results will not be kept
                log.info("kb.lease.lost", client_id=self._args[0], document_id=self._args[1])
                return
