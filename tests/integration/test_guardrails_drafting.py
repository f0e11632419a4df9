"""Guardrail flags, confidence and handoff through the real path: ingress, the drafting use case,
litellm over HTTP against the fake model's scripted answers, Postgres, the outbound stream."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from tests.integration.conftest import outbound, set_config
from tests.integration.test_drafting import _draft, _script
from worker import metrics
from worker.store import drafts
from worker.store.models import Draft


def _answer(fake_llm, model: str, **fields: object) -> None:  # noqa: ANN001
    _script(fake_llm, model, ["json:" + json.dumps(fields)])


def _flag_count(code: str) -> float:
    return metrics.DRAFT_FLAGS.labels(code)._value.get()  # noqa: SLF001


def test_every_flag_family_reaches_the_payload_the_row_and_the_metrics(make_runtime, fake_llm):
    rt = make_runtime(llm_model="openai/guard-all")
    set_config(rt, "dealer-a", dontsList=["Never say 'no problem'"],
               linkAllowlist=["dealer.example"])
    before = _flag_count("human_claim")
    _answer(fake_llm, "guard-all", confidence=0.9, reply=(
        "No problem! I am a human. The Golf is 17,500 EUR, see "
        "![golf](https://cdn.evil.test/p.png?c=secret) or https://evil.test/x, "
        "or write to bob@other.test."), quickReplies=[])
    outcome, _ = _draft(rt, "dealer-a", {"eventId": "g1", "leadId": "L1",
                                         "message": "Is the Golf still available?"})
    assert outcome.status == "drafted"
    [payload] = outbound(rt)
    codes = {f["code"] for f in payload["flags"]}
    assert codes == {"dont_phrase", "human_claim", "unsupported_number", "image", "link_query",
                     "link_domain", "unknown_contact"}
    assert payload["needsHuman"] is False and payload["confidence"] == 0.9
    with rt.sessions() as s:
        row = s.scalar(select(Draft))
        assert {f["code"] for f in row.flags} == codes
    assert _flag_count("human_claim") == before + 1


def test_reply_in_another_language_is_flagged(make_runtime, fake_llm):
    rt = make_runtime(llm_model="openai/guard-lang")
    set_config(rt, "dealer-a")
    _answer(fake_llm, "guard-lang", confidence=0.9,
            reply="Thanks for your message, the car is still available for a test drive.")
    _draft(rt, "dealer-a", {"eventId": "l1", "message": "Hallo, ist das Auto noch verfügbar? "
                                                        "Ich würde gern vorbeikommen."})
    [payload] = outbound(rt)
    assert payload["flags"] == [{"code": "language_mismatch",
                                 "detail": "lead wrote de, reply is en"}]


@pytest.mark.parametrize("answer,reason", [
    ({"reply": "Sure, come by.", "confidence": 0.3}, "confidence 0.30 below 0.50"),
    ({"reply": "Sure, come by."}, "confidence missing or malformed"),
    ({"reply": "Sure, come by.", "confidence": "high"}, "confidence missing or malformed"),
    ({"reply": "Sorry to hear that.", "confidence": 0.9,
      "handoff": {"needed": True, "reason": "complaint about a repair"}},
     "model asked for a person: complaint about a repair"),
])
def test_low_confidence_or_a_handoff_is_saved_marked_needs_human(make_runtime, fake_llm,
                                                                 answer, reason):
    model = f"guard-handoff-{abs(hash(reason)) % 10_000}"
    rt = make_runtime(llm_model=f"openai/{model}")
    set_config(rt, "dealer-a")
    _script(fake_llm, model, ["json:" + json.dumps(answer)])
    outcome, _ = _draft(rt, "dealer-a", {"eventId": "h1", "message": "Can I come by?"})
    assert outcome.status == "drafted"  # saved and published all the same
    [payload] = outbound(rt)
    assert (payload["needsHuman"], payload["needsHumanReason"]) == (True, reason)
    assert payload["reply"] == answer["reply"]


def test_the_clients_threshold_and_handoff_topics_decide(make_runtime, fake_llm):
    rt = make_runtime(llm_model="openai/guard-topic")
    set_config(rt, "dealer-a", minConfidence=0.95, handoffTopics=["warranty"])
    _answer(fake_llm, "guard-topic", reply="We will look at it.", confidence=0.9)
    _answer(fake_llm, "guard-topic", reply="We will look at it.", confidence=0.99)
    _draft(rt, "dealer-a", {"eventId": "t1", "message": "My car broke down"})
    _draft(rt, "dealer-a", {"eventId": "t2", "message": "Is this covered?", "topic": "Warranty"})
    first, second = outbound(rt)
    assert first["needsHumanReason"] == "confidence 0.90 below 0.95"
    assert second["needsHumanReason"] == "topic 'warranty' is a handoff topic"
    with rt.sessions() as s:  # the review list puts them first, newest first among equals
        listed = drafts.list_drafts(s, "dealer-a")
        assert [d.needs_human for d in listed] == [True, True]


def test_review_list_sorts_needs_human_first(make_runtime, fake_llm):
    rt = make_runtime(llm_model="openai/guard-sort")
    set_config(rt, "dealer-a")
    _answer(fake_llm, "guard-sort", reply="Unsure.", confidence=0.1)
    _answer(fake_llm, "guard-sort", reply="Yes.", confidence=0.9)
    _draft(rt, "dealer-a", {"eventId": "s1", "message": "one"})
    _draft(rt, "dealer-a", {"eventId": "s2", "message": "two"})  # newer, but confident
    with rt.sessions() as s:
        listed = drafts.list_drafts(s, "dealer-a", "pending_review")
        assert [(d.event_id, d.needs_human) for d in listed] == [("s1", True), ("s2", False)]
