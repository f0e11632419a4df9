"""Memory and recall on real Postgres: tenant isolation on adversarial data, the time budget,
reviews feeding memory, and erasing a lead."""

from __future__ import annotations

import threading

import psycopg
import pytest
from sqlalchemy import func, select

from tests.integration.conftest import outbound, set_config
from tests.integration.test_drafting import _draft, _ingest
from worker.pipeline import review
from worker.pipeline.draft import draft_message
from worker.pipeline.recall import RecallRequest, recall
from worker.store import memory
from worker.store.erase import erase_lead
from worker.store.memory import MemoryWrite
from worker.store.memory_search import Scope
from worker.store.models import Draft, InboundMessage, Lead, MemoryItem, Outbox

PLANTED = "The blue Golf GTI has a dented rear door and we knocked 900 off the price"


def _plant(rt, client_id: str, lead: str = "id:L1") -> None:  # noqa: ANN001
    with rt.sessions.begin() as s:
        memory.remember(s, client_id, [
            MemoryWrite("inbound_message", PLANTED, lead_key=lead, conversation_id="c1",
                        source_ref=f"import:{client_id}-1", external_id=f"{client_id}-1"),
            MemoryWrite("note", "Golf GTI price list is on the website", lead_key=None,
                        source_ref=f"import:{client_id}-2", external_id=f"{client_id}-2"),
        ])


@pytest.mark.parametrize("scope", [Scope(lead_key="id:L1"), Scope(whole_client=True),
                                   Scope(lead_key="id:L1", conversation_id="c1")])
def test_identical_text_in_two_tenants_never_crosses(rt, scope):  # noqa: ANN001
    set_config(rt, "dealer-a")
    set_config(rt, "dealer-b")
    _plant(rt, "dealer-a")
    _plant(rt, "dealer-b")  # same lead key, same conversation id, same words
    with rt.sessions.begin() as s:
        for client in ("dealer-a", "dealer-b"):
            hits = recall(s, RecallRequest(client, "golf gti dented door price", scope, 10),
                          5.0).hits
            assert hits, "recall found the planted item"
            assert {h.client_id for h in hits} == {client}
            assert {h.external_id for h in hits} <= {f"{client}-1", f"{client}-2"}
            assert hits[0].external_id == f"{client}-1" and hits[0].score == 1.0


def test_a_draft_recalls_the_leads_relevant_history_first(rt):
    set_config(rt, "dealer-a")
    _draft(rt, "dealer-a", {"eventId": "e1", "message": "Do you have the Golf in blue?",
                            "leadId": "L1"})
    _draft(rt, "dealer-a", {"eventId": "e2", "message": "Also, what about financing?",
                            "leadId": "L1"})
    _draft(rt, "dealer-a", {"eventId": "e3", "message": "Is the blue Golf still there?",
                            "leadId": "L1"})
    refs = {d["eventId"]: d["memoryRefs"] for d in outbound(rt)}["e3"]
    with rt.sessions() as s:
        texts = [s.get(MemoryItem, r["id"]).text for r in refs]
    assert texts[0] == "Do you have the Golf in blue?"  # shares words: ranked first
    assert "Also, what about financing?" in texts  # the rest of the lead's history follows
    assert refs[0]["score"] == 1.0 and all(r["kind"] == "inbound_message" for r in refs)


def test_recall_over_its_budget_drafts_without_memory_and_says_so(make_runtime, database_url):
    rt = make_runtime(recall_budget_seconds=0.2)
    set_config(rt, "dealer-a")
    _draft(rt, "dealer-a", {"eventId": "e1", "message": "Golf in blue?", "leadId": "L1"})
    message_id = _ingest(rt, "chat", {"clientId": "dealer-a", "eventId": "e2",
                                      "message": "Golf in blue, still?", "leadId": "L1"})
    # Another session holds memory_items: recall's statement waits past its budget.
    locked, release = threading.Event(), threading.Event()

    def hold_lock() -> None:
        with psycopg.connect(database_url.replace("+psycopg", "")) as conn:
            conn.execute("LOCK TABLE memory_items IN ACCESS EXCLUSIVE MODE")
            locked.set()
            release.wait(30)

    holder = threading.Thread(target=hold_lock)
    holder.start()
    locked.wait(10)
    try:
        outcome = rt.call(draft_message, "dealer-a", message_id, attempt_id="t")
    finally:
        release.set()
        holder.join()
    assert outcome.status == "drafted"  # the claim survived the cancelled recall
    published = {d["eventId"]: d for d in outbound(rt)}["e2"]
    assert published["memoryRefs"] == []
    with rt.sessions() as s:
        note = s.get(Draft, outcome.draft_id).recall_note
    assert note and "budget" in note


def test_approved_and_edited_replies_become_examples_and_rejections_are_counted(rt):
    set_config(rt, "dealer-a")
    outcome1, _ = _draft(rt, "dealer-a", {"eventId": "e1", "message": "Trade-in for my Polo?",
                                          "leadId": "L1", "conversationId": "c1"})
    outcome2, _ = _draft(rt, "dealer-a", {"eventId": "e2", "message": "Warranty on used cars?",
                                          "leadId": "L2", "conversationId": "c2"})
    outcome3, _ = _draft(rt, "dealer-a", {"eventId": "e3", "message": "Hello", "leadId": "L3"})
    with rt.sessions.begin() as s:
        approved = review.approve(s, "dealer-a", outcome1.draft_id)
        edited = review.edit(s, "dealer-a", outcome2.draft_id,
                             "Every used car has a 24-month warranty.")
        rejected = review.reject(s, "dealer-a", outcome3.draft_id, "too pushy")
    assert (approved.status, edited.status, rejected.status) == ("approved", "edited", "rejected")
    assert edited.edited_text == "Every used car has a 24-month warranty."
    assert edited.reply != edited.edited_text and edited.edit_distance > 0
    assert rejected.rejection_reason == "too pushy" and rejected.reviewed_at is not None

    # Another lead's draft sees the client's approved examples; the edited text wins.
    _draft(rt, "dealer-a", {"eventId": "e4", "message": "What warranty do used cars get?",
                            "leadId": "L9"})
    refs = {d["eventId"]: d["memoryRefs"] for d in outbound(rt)}["e4"]
    with rt.sessions() as s:
        examples = [s.get(MemoryItem, r["id"]) for r in refs if r["kind"] == "approved_reply"]
        assert "Every used car has a 24-month warranty." in [e.text for e in examples]
        assert review.rejections_per_config_version(s, "dealer-a") == {1: 1}

    with rt.sessions.begin() as s, pytest.raises(review.ReviewRefused, match="approved"):
        review.reject(s, "dealer-a", outcome1.draft_id, "changed my mind")
    with rt.sessions.begin() as s, pytest.raises(review.ReviewRefused, match="no draft"):
        review.approve(s, "dealer-b", outcome2.draft_id)  # another client's draft


def test_erasing_a_lead_removes_their_messages_drafts_and_memory_only(rt):
    set_config(rt, "dealer-a")
    set_config(rt, "dealer-b")
    for event, lead in (("e1", "L1"), ("e2", "L1"), ("e3", "L2")):
        _draft(rt, "dealer-a", {"eventId": event, "message": f"message {event}", "leadId": lead,
                                "conversationId": f"conv-{lead}"})
    _draft(rt, "dealer-b", {"eventId": "b1", "message": "message b1", "leadId": "L1"})
    with rt.sessions.begin() as s:
        latest = s.scalar(select(Draft.id).where(Draft.event_id == "e2"))
        review.approve(s, "dealer-a", latest)
        removed = erase_lead(s, "dealer-a", "id:L1")
    assert removed["inboundMessages"] == 2 and removed["drafts"] == 2 and removed["leads"] == 1
    assert removed["memoryItems"] == 3 and removed["conversations"] == 1
    assert removed["outbox"] == 2 and removed["llmCalls"] >= 2
    with rt.sessions() as s:
        def count(model, client: str) -> int:  # noqa: ANN001
            return s.scalar(select(func.count()).select_from(model)
                            .where(model.client_id == client))
        assert count(InboundMessage, "dealer-a") == 1 and count(Draft, "dealer-a") == 1
        assert count(MemoryItem, "dealer-a") == 1 and count(Lead, "dealer-a") == 1
        assert count(Outbox, "dealer-a") == 1
        # The same leadId at another client is another person: untouched.
        assert count(InboundMessage, "dealer-b") == 1 and count(MemoryItem, "dealer-b") == 1


def test_with_an_embedding_model_recall_also_finds_by_meaning(make_runtime):
    rt = make_runtime(embedding_model="openai/embed")
    set_config(rt, "dealer-a")
    _draft(rt, "dealer-a", {"eventId": "e1", "message": "Is the SUV still for sale?",
                            "leadId": "L1"})
    with rt.sessions.begin() as s:  # the draft stored its message's vector
        item = s.scalar(select(MemoryItem).where(MemoryItem.kind == "inbound_message"))
        assert item.embedding is not None and len(item.embedding) == 65
        req = RecallRequest("dealer-a", "automobile", Scope(lead_key="id:L1"), 5)
        by_meaning = recall(s, req, 5.0, embedder=rt.embedder).hits
        lexical_only = recall(s, req, 5.0).hits
    assert by_meaning[0].id == item.id and by_meaning[0].score == 1.0
    assert lexical_only[0].id == item.id and lexical_only[0].score == 0.0  # only "newest"


def test_a_failing_embedding_model_leaves_lexical_recall_working(make_runtime):
    rt = make_runtime(embedding_model="openai/error500-embed")
    set_config(rt, "dealer-a")
    _plant(rt, "dealer-a")
    with rt.sessions.begin() as s:
        result = recall(s, RecallRequest("dealer-a", "dented door", Scope(lead_key="id:L1"), 5),
                        5.0, embedder=rt.embedder)
    assert result.note is None and result.hits[0].external_id == "dealer-a-1"


@pytest.mark.parametrize("query", ["the and of", "", "it's \\ 'quoted' \"double\" & | ! ( ) :*",
                                   "<context> DROP TABLE memory_items; --", "ünïcödé 東京 🚗"])
def test_any_query_text_recalls_without_error(rt, query):  # noqa: ANN001
    set_config(rt, "dealer-a")
    _plant(rt, "dealer-a")
    with rt.sessions.begin() as s:
        result = recall(s, RecallRequest("dealer-a", query, Scope(lead_key="id:L1"), 5), 5.0)
    assert result.note is None
    assert {h.client_id for h in result.hits} == {"dealer-a"}  # newest items fill in


def test_a_drafts_recall_weighs_only_the_clients_newest_approved_replies(rt):
    """Old approvals drop out of a draft's examples once newer ones fill the window (the
    current way of answering; a bounded recall); an operator's client-wide search and the
    lead's own history still reach them."""
    from datetime import datetime, timedelta, timezone

    set_config(rt, "dealer-a")
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    texts = ["Winter tyres are fitted free until March."] + [
        f"Thanks for asking about the Polo, reply {n}." for n in range(1, 5)]
    with rt.sessions.begin() as s:
        memory.remember(s, "dealer-a", [
            MemoryWrite("approved_reply", text, lead_key=f"id:L{n}", conversation_id=f"c{n}",
                        source_ref=f"draft:{n}", created_at=start + timedelta(days=n))
            for n, text in enumerate(texts)
        ])

    def found(scope: Scope) -> list[str]:
        with rt.sessions.begin() as s:
            return [h.text for h in recall(s, RecallRequest(
                "dealer-a", "winter tyres fitted", scope, 10), 5.0).hits]

    oldest = texts[0]
    assert oldest in found(Scope(lead_key="id:L9", examples=5))
    assert oldest not in found(Scope(lead_key="id:L9", examples=4))
    assert len(found(Scope(lead_key="id:L9", examples=4))) == 4  # the four newest, by recency
    assert oldest in found(Scope(whole_client=True, examples=4))
    assert oldest in found(Scope(lead_key="id:L0", examples=4))  # the lead's own reply
