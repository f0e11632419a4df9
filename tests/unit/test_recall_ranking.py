"""Recall's pure parts: query words, snippets, merging sources. (The ranking itself is
Postgres': tests/integration/test_recall_ranking.py.)"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from worker.pipeline.recall import Hit, merge, query_words
from worker.pipeline.snippet import snippet

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


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

