"""A hostile upload on the real store: failed with its reason at the first attempt, never
handed back by the sweeper, the worker's memory untouched; and a slow but healthy run keeps
its lease, so no second worker processes the document meanwhile."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from tests.support.hostile import MB, docx_bomb, executable_as_text, wide_csv
from worker.knowledge import library, processing
from worker.knowledge.bounds import Limits
from worker.knowledge.errors import UnsupportedType
from worker.knowledge.processing import InlineQueue, process_document, sweep_documents
from worker.settings import Settings
from worker.store import kb_documents, kb_leases, tenants
from worker.store.db import make_engine, make_session_factory
from worker.store.models import KbDocument


class Recorder:
    def __init__(self) -> None:
        self.processed: list[tuple[str, str]] = []

    def process(self, client_id: str, document_id: str) -> None:
        self.processed.append((client_id, document_id))

    def purge(self, client_id: str) -> None:
        pass


@pytest.fixture
def sessions(database_url) -> Iterator:  # noqa: ANN001
    engine = make_engine(Settings(database_url=database_url))
    factory = make_session_factory(engine)
    with factory.begin() as session:
        tenants.register_client(session, "dealer-a")
    yield factory
    engine.dispose()


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        return int(next(line for line in f if line.startswith("VmRSS:")).split()[1]) / 1024


def stored(sessions, document_id: str) -> KbDocument:  # noqa: ANN001
    with sessions() as session:
        return session.scalar(select(KbDocument).where(KbDocument.id == document_id))


@pytest.mark.parametrize("name, build, reason", [
    ("bomb.docx", lambda: docx_bomb(2048 * MB), "looks like a zip bomb"),
    ("wide.csv", lambda: wide_csv(1_000_000), "more than 1,000 columns"),
])
def test_a_hostile_file_fails_at_its_first_attempt_and_is_never_retried(sessions, name, build, reason):
    queue = Recorder()
    doc = library.upload_document(sessions, queue, "dealer-a", folder="", filename=name,
                                  content=build()).document
    before = rss_mb()
    outcome = process_document(sessions, "dealer-a", doc.id, owner="w1", lease_seconds=600,
                               limits=Limits.from_settings(Settings()))
    assert outcome.status == "failed" and reason in outcome.error
    row = stored(sessions, doc.id)
    assert (row.status, row.attempts, row.lease_until) == ("failed", 1, None)
    assert reason in row.error
    assert rss_mb() - before < 50
    # nothing for the sweeper: a permanent failure is not handed back
    assert sweep_documents(sessions, queue, lease_seconds=0, max_attempts=3) == 0
    assert stored(sessions, doc.id).status == "failed"


def test_an_executable_named_txt_is_refused_at_upload_and_failed_if_stored_anyway(sessions):
    with pytest.raises(UnsupportedType, match="holds an executable"):
        library.upload_document(sessions, Recorder(), "dealer-a", folder="",
                                filename="notes.txt", content=executable_as_text())
    with sessions.begin() as session:  # stored before sniffing existed
        document_id, _ = kb_documents.upsert_document(
            session, "dealer-a", "", "old.txt", kind="text", content=executable_as_text(),
            sha256="x")
    outcome = process_document(sessions, "dealer-a", document_id, owner="w1", lease_seconds=600)
    assert outcome.status == "failed" and "holds an executable" in outcome.error
    assert stored(sessions, document_id).chunk_count == 0


def test_the_lease_is_renewed_while_a_slow_extraction_runs_and_no_one_else_claims_it(
    sessions, monkeypatch,
):
    doc = library.upload_document(sessions, Recorder(), "dealer-a", folder="",
                                  filename="slow.pdf", content=b"%PDF-1.4 slow").document
    release = threading.Event()

    def slow_extraction(kind: str, content: bytes, limits: Limits) -> str:
        release.wait(10)
        return "Winter tyres fitted while you wait."

    monkeypatch.setattr(processing, "extract_bounded", slow_extraction)
    outcome: list = []
    worker = threading.Thread(target=lambda: outcome.append(process_document(
        sessions, "dealer-a", doc.id, owner="w1", lease_seconds=1)))
    worker.start()
    try:
        time.sleep(2.5)  # the 1 s lease would have run out twice without renewal
        with sessions.begin() as session:
            assert kb_leases.claim_document(session, "dealer-a", doc.id, "w2", 1) is None
        assert sweep_documents(sessions, Recorder(), lease_seconds=1, max_attempts=3) == 0
    finally:
        release.set()
        worker.join(10)
    assert outcome[0].status == "ready"
    row = stored(sessions, doc.id)
    assert (row.status, row.attempts) == ("ready", 1)


def test_inline_processing_uses_the_same_bounds(sessions):
    queue = InlineQueue(sessions, outcomes=[], limits=Limits(max_csv_columns=3))
    library.upload_document(sessions, queue, "dealer-a", folder="", filename="p.csv",
                            content=b"a,b,c,d\n1,2,3,4\n")
    assert queue.outcomes[0].status == "failed"
