"""Confidence and handoff: validated, never trusted; what is missing or malformed needs a person."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from schema.agent_config import AgentConfigFields
from schema.drafts import ModelReply
from worker.leads import lead_key
from worker.pipeline.assessment import DraftedFrom, assess
from worker.pipeline.handoff import decide

SECRET = b"k"


def review(raw: dict, *, degraded: bool = False, topic: str | None = None,
           min_confidence: float = 0.6, topics: tuple[str, ...] = ("complaint", "legal")):
    return decide(ModelReply.model_validate(raw), degraded=degraded,
                  min_confidence=min_confidence, handoff_topics=topics, topic=topic)


def test_a_confident_reply_without_handoff_needs_no_person() -> None:
    assert review({"reply": "Hi", "confidence": 0.8}).needed is False


@pytest.mark.parametrize("confidence", [None, "0.9", True, float("nan"), 1.5, -0.1, [0.9]])
def test_missing_or_malformed_confidence_counts_as_low_and_keeps_the_reply(confidence) -> None:
    raw = {"reply": "Hi there"} if confidence is None else {"reply": "Hi there",
                                                            "confidence": confidence}
    reply = ModelReply.model_validate(raw)
    assert reply.reply == "Hi there" and reply.confidence is None
    decision = review(raw)
    assert decision.needed and decision.reason == "confidence missing or malformed"
    assert decision.kinds == ("low_confidence",)


def test_below_the_clients_threshold_needs_a_person_with_the_figures() -> None:
    decision = review({"reply": "Hi", "confidence": 0.4})
    assert decision.needed and decision.reason == "confidence 0.40 below 0.60"
    assert review({"reply": "Hi", "confidence": 0.4}, min_confidence=0.3).needed is False


def test_the_model_asking_for_a_person_is_obeyed_with_its_reason() -> None:
    decision = review({"reply": "Hi", "confidence": 0.95,
                       "handoff": {"needed": True, "reason": " customer threatens a lawyer "}})
    assert decision.needed and decision.kinds == ("handoff",)
    assert decision.reason == "model asked for a person: customer threatens a lawyer"
    assert review({"reply": "Hi", "confidence": 0.95,
                   "handoff": {"needed": False, "reason": ""}}).needed is False


@pytest.mark.parametrize("handoff", ["yes", {"needed": "true"}, {"reason": "x"}, [True],
                                     {"needed": True, "reason": 5}])
def test_a_malformed_handoff_asks_for_a_person(handoff) -> None:
    decision = review({"reply": "Hi", "confidence": 0.95, "handoff": handoff})
    assert decision.needed and decision.reason == "model asked for a person: malformed handoff field"


def test_a_handoff_topic_or_a_degraded_draft_needs_a_person() -> None:
    decision = review({"reply": "Hi", "confidence": 0.95}, topic="Complaint")
    assert decision.needed and decision.reason == "topic 'complaint' is a handoff topic"
    degraded = review({"reply": "We will get back to you."}, degraded=True)
    assert degraded.needed and degraded.kinds == ("degraded",)


def test_config_validates_the_new_fields() -> None:
    fields = AgentConfigFields.model_validate({
        "minConfidence": 0.7, "handoffTopics": [" Legal ", "legal", "Warranty claim"],
        "linkAllowlist": ["Dealer.Example.", "shop.dealer.example"], "retentionDays": 30})
    assert fields.handoff_topics == ("legal", "warranty claim")
    assert fields.link_allowlist == ("dealer.example", "shop.dealer.example")
    for bad in ({"minConfidence": 1.5}, {"minConfidence": float("nan")},
                {"linkAllowlist": ["https://x.example/path"]}, {"linkAllowlist": ["no dots"]},
                {"retentionDays": 0}):
        with pytest.raises(ValidationError):
            AgentConfigFields.model_validate(bad)


def test_assess_carries_inbound_flags_and_knows_the_leads_own_address() -> None:
    reply = ModelReply.model_validate({"reply": "We will write to anna@mail.test.",
                                       "confidence": 0.9})
    source = DraftedFrom(text="Is it available?", lead_key=lead_key(None, "Anna@Mail.test", SECRET),
                         inbound_flags=[{"code": "hidden_text", "detail": "display:none removed"},
                                        "junk"])
    result = assess(reply, degraded=False, config=AgentConfigFields(), source=source,
                    secret=SECRET, detect=lambda _t: None)
    assert [f.as_json() for f in result.flags] == [
        {"code": "inbound_hidden_text", "detail": "display:none removed"}]
    assert result.review.needed is False and result.confidence == 0.9
    other = assess(reply, degraded=False, config=AgentConfigFields(),
                   source=DraftedFrom(text="Is it available?", lead_key="id:42"),
                   secret=SECRET, detect=lambda _t: None)
    assert [f.code for f in other.flags] == ["unknown_contact"]
