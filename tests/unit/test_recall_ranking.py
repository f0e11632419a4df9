"""Recall's pure parts: BM25 ranking over own text and neighbours, snippets, merging sources."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from worker.pipeline.ranking import Candidate, ScopeStats, rank
from worker.pipeline.recall import Hit, merge, query_words
from worker.pipeline.snippet import snippet
from worker.store.lexical_sqlite import terms

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _c(id_: str, tf: dict, kind: str = "inbound_message", days: int = 0, doc_len: int = 10):
    return Candidate(id_, kind, T0 + timedelta(days=days), doc_len, tf)


def _ids(ranked) -> list[str]:  # noqa: ANN001
    return [c.id for c, _ in ranked]


def test_a_rare_term_outweighs_a_common_one():
    stats = ScopeStats(n=100, avgdl=10)
    common = [_c(f"c{i}", {"car": (1, 0, 0)}) for i in range(30)]
    rare = _c("rare", {"warranty": (1, 0, 0)})
    assert _ids(rank([*common, rare], stats, 3))[0] == "rare"


def test_own_words_beat_a_neighbours_and_near_neighbours_beat_far_ones():
    stats = ScopeStats(n=50, avgdl=10)
    found = [_c("far", {"trade": (0, 0, 1)}), _c("own", {"trade": (1, 0, 0)}),
             _c("near", {"trade": (0, 1, 0)})]
    assert _ids(rank(found, stats, 3)) == ["own", "near", "far"]


def test_more_query_terms_matched_ranks_higher():
    stats = ScopeStats(n=50, avgdl=10)
    found = [_c("one", {"red": (1, 0, 0)}), _c("two", {"red": (1, 0, 0), "coupe": (1, 0, 0)})]
    assert _ids(rank(found, stats, 2)) == ["two", "one"]


def test_between_equal_scores_the_newer_item_wins():
    stats = ScopeStats(n=10, avgdl=10)
    found = [_c("old", {"price": (1, 0, 0)}, days=1), _c("new", {"price": (1, 0, 0)}, days=5)]
    assert _ids(rank(found, stats, 2)) == ["new", "old"]


def test_an_approved_reply_outranks_the_same_words_in_a_draft_or_message():
    stats = ScopeStats(n=10, avgdl=10)
    found = [_c("d", {"price": (1, 0, 0)}, kind="draft", days=9),
             _c("m", {"price": (1, 0, 0)}, days=8),
             _c("a", {"price": (1, 0, 0)}, kind="approved_reply")]
    assert _ids(rank(found, stats, 3)) == ["a", "m", "d"]


def test_rank_returns_at_most_limit():
    stats = ScopeStats(n=10, avgdl=10)
    assert len(rank([_c(str(i), {"x": (1, 0, 0)}) for i in range(8)], stats, 5)) == 5


def test_query_words_are_distinct_lower_case_and_leave_out_the_or_operator():
    assert query_words("Red OR blue, red car? or-not") == ["red", "blue", "car", "not"]
    assert len(query_words(" ".join(f"w{i}" for i in range(500)))) == 64


def test_a_short_text_is_its_own_snippet_on_one_line():
    assert snippet("Hello\n  there,\tfriend", ["there"]) == "Hello there, friend"


def test_a_long_texts_snippet_shows_the_words_the_query_matched():
    text = ("filler words go here " * 40) + "the trade-in value of your Golf is fine " + (
        "more filler text " * 40)
    cut = snippet(text, ["trade", "golf"], width=120)
    assert "Golf" in cut and "trade-in" in cut
    assert cut.startswith("…") and cut.endswith("…")
    assert len(cut) <= 122


def test_a_long_text_without_a_match_shows_its_beginning():
    cut = snippet("alpha " * 100, ["zzz"], width=50)
    assert cut.startswith("alpha") and cut.endswith("…") and len(cut) <= 51


def _hit(id_: str, score: float, days: int = 0) -> Hit:
    return Hit(id_, "note", score, "", "", None, "c", T0 + timedelta(days=days))


def test_merge_scales_each_source_to_its_best_hit():
    memory = [_hit("m1", 12.0), _hit("m2", 6.0)]
    knowledge = [_hit("k1", 0.9), _hit("k2", 0.1)]
    merged = merge([memory, knowledge], 3)
    assert sorted((h.id, h.score) for h in merged) == [("k1", 1.0), ("m1", 1.0), ("m2", 0.5)]


def test_merge_puts_the_newer_item_first_among_equal_scores():
    merged = merge([[_hit("old", 1.0, days=1), _hit("new", 1.0, days=3)]], 2)
    assert [h.id for h in merged] == ["new", "old"]


def test_demo_search_terms_drop_stop_words_and_plural_endings():
    assert terms("The cars are in the garage") == ["car", "garage"]
