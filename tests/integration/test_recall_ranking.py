"""How recall ranks, as a reviewer sees it in a draft's memory: BM25 computed by Postgres over the
item's own words and its conversation neighbours', English stemming, stop words out."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.integration.conftest import set_config
from worker.pipeline.recall import RecallRequest, memory_source
from worker.store import memory
from worker.store.memory import MemoryWrite
from worker.store.memory_search import Scope

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
LEAD = Scope(lead_key="id:L1")


def _remember(rt, items: list[tuple[str, str]], conversation: str | None = None) -> None:  # noqa: ANN001
    """(kind, text) pairs, one minute apart, all of lead L1."""
    with rt.sessions.begin() as s:
        memory.remember(s, "dealer-a", [
            MemoryWrite(kind, text, lead_key="id:L1", conversation_id=conversation,
                        source_ref=f"import:{conversation}-{i}", external_id=text,
                        created_at=T0 + timedelta(minutes=i))
            for i, (kind, text) in enumerate(items)])


def _recall(rt, query: str, limit: int = 5) -> list[tuple[str, float]]:  # noqa: ANN001
    with rt.sessions() as s:
        hits = memory_source(s, RecallRequest("dealer-a", query, LEAD, limit))
    return [(h.text, h.score) for h in hits]


def _matched(hits: list[tuple[str, float]]) -> list[str]:
    return [text for text, score in hits if score > 0]


def test_a_rare_word_outweighs_a_common_one(rt):  # noqa: ANN001
    set_config(rt, "dealer-a")
    _remember(rt, [("inbound_message", f"Is car number {i} still for sale?") for i in range(20)]
              + [("inbound_message", "What does the warranty cover?")])
    assert _matched(_recall(rt, "car warranty"))[0] == "What does the warranty cover?"


def test_more_of_the_query_matched_ranks_higher(rt):  # noqa: ANN001
    set_config(rt, "dealer-a")
    _remember(rt, [("inbound_message", "I like the red one"),
                   ("inbound_message", "Is the red coupe automatic?"),
                   ("inbound_message", "Something unrelated about parking")])
    assert _matched(_recall(rt, "red coupe")) == ["Is the red coupe automatic?", "I like the red one"]


def test_words_are_stemmed_and_stop_words_ignored(rt):  # noqa: ANN001
    set_config(rt, "dealer-a")
    _remember(rt, [("inbound_message", "Do you offer extended warranties?"),
                   ("inbound_message", "The and of it is a"),
                   ("inbound_message", "Financing available")])
    assert _matched(_recall(rt, "the warranty")) == ["Do you offer extended warranties?"]
    assert _matched(_recall(rt, "the and of")) == []  # stop words alone match nothing


def test_a_messages_own_words_beat_its_neighbours_and_near_neighbours_beat_far_ones(rt):  # noqa: ANN001
    set_config(rt, "dealer-a")
    # In one conversation: the trade-in question, then its neighbours one and two turns away.
    _remember(rt, [("inbound_message", "Hello"), ("inbound_message", "Thanks a lot"),
                   ("inbound_message", "What is the trade-in value of my Polo?"),
                   ("inbound_message", "Sounds good"), ("inbound_message", "See you Friday"),
                   ("inbound_message", "Bye for now")], conversation="c1")
    hits = _matched(_recall(rt, "polo trade-in", limit=6))
    assert hits[0] == "What is the trade-in value of my Polo?"
    # The turns around it are about the trade-in too: found by their context, nearer first.
    near, far = {"Thanks a lot", "Sounds good"}, {"Hello", "See you Friday"}
    assert set(hits[1:3]) == near and set(hits[3:5]) == far
    assert "Bye for now" not in hits  # three turns away: not part of its context


def test_an_approved_reply_outranks_the_same_words_in_a_message_or_a_draft(rt):  # noqa: ANN001
    set_config(rt, "dealer-a")
    _remember(rt, [("approved_reply", "Delivery takes two weeks"),
                   ("inbound_message", "Delivery takes two weeks?"),
                   ("draft", "Delivery takes two weeks.")])
    assert _matched(_recall(rt, "delivery weeks")) == [
        "Delivery takes two weeks", "Delivery takes two weeks?", "Delivery takes two weeks."]


def test_between_equal_matches_the_newer_item_comes_first(rt):  # noqa: ANN001
    set_config(rt, "dealer-a")
    _remember(rt, [("inbound_message", "price please"), ("inbound_message", "price, please")])
    assert _matched(_recall(rt, "price")) == ["price, please", "price please"]


def test_too_few_matches_are_filled_with_the_newest_items_unscored(rt):  # noqa: ANN001
    set_config(rt, "dealer-a")
    _remember(rt, [("inbound_message", "Is the Golf blue?"), ("inbound_message", "Noted"),
                   ("inbound_message", "Anything else")])
    hits = _recall(rt, "golf", limit=3)
    assert hits[0][0] == "Is the Golf blue?" and hits[0][1] > 0
    assert [text for text, _ in hits[1:]] == ["Anything else", "Noted"]  # newest first
    assert all(score == 0.0 for _, score in hits[1:])
