"""The demo's recall (SQLite, no server): same code path, a plain term overlap for search."""

from __future__ import annotations

import pytest

from worker.pipeline.recall import RecallRequest, recall
from worker.settings import Settings
from worker.store import memory, tenants
from worker.store.db import make_engine, make_session_factory
from worker.store.memory import MemoryWrite
from worker.store.memory_search import Scope
from worker.store.migrate import upgrade


@pytest.fixture
def sessions(tmp_path):  # noqa: ANN001, ANN201
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'demo.sqlite3'}")
    upgrade(settings)
    engine = make_engine(settings)
    yield make_session_factory(engine)
    engine.dispose()


def test_demo_recall_ranks_by_shared_words_within_one_client(sessions):  # noqa: ANN001
    with sessions.begin() as s:
        for client in ("a", "b"):
            tenants.register_client(s, client)
            memory.remember(s, client, [
                MemoryWrite("inbound_message", "Is the blue Golf available for a test drive?",
                            lead_key="id:L1", conversation_id="c1", source_ref=f"m:{client}1"),
                MemoryWrite("inbound_message", "Saturday morning suits me",
                            lead_key="id:L1", conversation_id="c1", source_ref=f"m:{client}2"),
                MemoryWrite("inbound_message", "What about financing?",
                            lead_key="id:L1", conversation_id="c1", source_ref=f"m:{client}3"),
            ])
    with sessions.begin() as s:
        hits = recall(s, RecallRequest("a", "test drives of the Golf", Scope(lead_key="id:L1"),
                                       3), 5.0).hits
    assert {h.client_id for h in hits} == {"a"}
    assert hits[0].text.startswith("Is the blue Golf") and hits[0].score == 1.0
    # Its neighbour shares no word but sits next to it in the conversation.
    assert hits[1].text == "Saturday morning suits me" and 0 < hits[1].score < 1
