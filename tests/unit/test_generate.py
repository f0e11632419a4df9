"""Asking the model chain for the JSON draft: retries, fallbacks, parsing and the call audit."""

from __future__ import annotations

import json
from collections import defaultdict, deque

import pytest

from worker.errors import (
    AllModelsRefused,
    AllModelsUnavailable,
    ModelOutputInvalid,
    PermanentError,
    TransientError,
)
from worker.pipeline.generate import generate, parse_reply
from worker.retry import RetryPolicy
from worker.ports import ModelResponse

FAST = RetryPolicy(max_attempts=3, base_seconds=0.001, max_seconds=0.002)
MESSAGES = [{"role": "system", "content": "sys"}, {"role": "user", "content": "hi"}]


class RateLimited(TransientError):
    """The provider said 429."""


class ProviderDown(TransientError):
    """The provider answered 500."""


class ContentRefused(PermanentError):
    """The provider refused this request."""


class ScriptedModels:
    """A ModelClient whose answers are scripted per model: a ModelResponse, a content string
    (wrapped in a ModelResponse) or an exception instance to raise. An unscripted call is a test
    failure (it raises a plain exception that generate() does not swallow)."""

    def __init__(self, **scripts: list):
        self.scripts = {model.replace("_", "/"): deque(items) for model, items in scripts.items()}
        self.received: dict[str, list] = defaultdict(list)

    def complete_json(self, model: str, messages: list[dict[str, str]]) -> ModelResponse:
        self.received[model].append(messages)
        script = self.scripts.get(model)
        if not script:
            raise LookupError(f"unexpected extra call to {model}")
        item = script.popleft()
        if isinstance(item, Exception):
            raise item
        if isinstance(item, str):
            return ModelResponse(item, prompt_tokens=11, completion_tokens=7, cost_usd=0.0003)
        return item


def draft(reply: str = "Thanks, we'll call you back.", quick: list | None = None) -> str:
    return json.dumps({"reply": reply, "quickReplies": quick if quick is not None else []})


def _attempts(calls) -> list[tuple[str, int, bool]]:
    return [(c.model, c.attempt, c.error is None) for c in calls]


# --- the happy path ---------------------------------------------------------------------------


def test_first_model_that_answers_is_used():
    client = ScriptedModels(
        m_a=[ModelResponse(draft("Hello Maria!", ["Book a visit"]), 120, 30, 0.0021)],
        m_b=[draft("never")],
    )
    result = generate(client, ["m/a", "m/b"], MESSAGES, FAST)
    assert result.model == "m/a"
    assert result.reply.reply == "Hello Maria!"
    assert result.reply.quick_replies == ("Book a visit",)
    assert (result.prompt_tokens, result.completion_tokens, result.cost_usd) == (120, 30, 0.0021)
    assert _attempts(result.calls) == [("m/a", 1, True)]
    assert result.calls[0].prompt_tokens == 120 and result.calls[0].cost_usd == 0.0021
    assert client.received["m/a"] == [MESSAGES]  # the prompt is passed through unchanged


def test_reply_text_is_trimmed():
    result = generate(ScriptedModels(m_a=[draft("  Hi there.  \n")]), ["m/a"], MESSAGES, FAST)
    assert result.reply.reply == "Hi there."


# --- retries and fallbacks ---------------------------------------------------------------------


def test_transient_error_is_retried_on_the_same_model():
    client = ScriptedModels(m_a=[RateLimited("429 slow down"), draft("second try")], m_b=[])
    result = generate(client, ["m/a", "m/b"], MESSAGES, FAST)
    assert result.model == "m/a"
    assert result.reply.reply == "second try"
    assert _attempts(result.calls) == [("m/a", 1, False), ("m/a", 2, True)]


def test_transient_errors_up_to_max_attempts_then_next_model():
    client = ScriptedModels(
        m_a=[RateLimited("429"), ProviderDown("500"), RateLimited("429 again")],
        m_b=[draft("from the fallback")],
    )
    result = generate(client, ["m/a", "m/b"], MESSAGES, FAST)
    assert result.model == "m/b"
    assert result.reply.reply == "from the fallback"
    assert _attempts(result.calls) == [
        ("m/a", 1, False), ("m/a", 2, False), ("m/a", 3, False), ("m/b", 1, True),
    ]


@pytest.mark.parametrize("max_attempts", [1, 2, 5])
def test_max_attempts_is_honoured(max_attempts):
    policy = RetryPolicy(max_attempts=max_attempts, base_seconds=0.001, max_seconds=0.002)
    client = ScriptedModels(m_a=[ProviderDown()] * max_attempts, m_b=[draft()])
    result = generate(client, ["m/a", "m/b"], MESSAGES, policy)
    assert [c.attempt for c in result.calls if c.model == "m/a"] == list(range(1, max_attempts + 1))
    assert result.model == "m/b"


def test_permanent_error_skips_straight_to_the_next_model():
    client = ScriptedModels(m_a=[ContentRefused("400 bad request")], m_b=[draft("fallback")])
    result = generate(client, ["m/a", "m/b"], MESSAGES, FAST)
    assert result.model == "m/b"
    assert _attempts(result.calls) == [("m/a", 1, False), ("m/b", 1, True)]
    assert "ContentRefused: 400 bad request" == result.calls[0].error


@pytest.mark.parametrize(
    "bad",
    [
        "Sure! Here is my reply, not JSON.",
        '{"answer": "wrong key"}',
        '{"reply": "   "}',
        '{"reply": ""}',
        '["reply", "x"]',
        '{"reply": 42}',
        '{"reply": "ok", "quickReplies": "Yes"}',
        "",
    ],
    ids=["prose", "missing-reply", "blank-reply", "empty-reply", "array", "reply-number",
         "quick-replies-string", "empty"],
)
def test_unparseable_output_is_retried_like_a_transient_failure(bad):
    client = ScriptedModels(m_a=[bad, draft("good now")])
    result = generate(client, ["m/a"], MESSAGES, FAST)
    assert result.reply.reply == "good now"
    assert _attempts(result.calls) == [("m/a", 1, False), ("m/a", 2, True)]
    assert result.calls[0].error.startswith("ModelOutputInvalid:")


def test_unparseable_output_every_time_moves_on_to_the_next_model():
    client = ScriptedModels(m_a=["nope"] * 3, m_b=[draft("ok")])
    result = generate(client, ["m/a", "m/b"], MESSAGES, FAST)
    assert result.model == "m/b"
    assert len([c for c in result.calls if c.model == "m/a"]) == 3


def test_all_transient_gives_all_models_unavailable():
    client = ScriptedModels(m_a=[RateLimited("429")] * 3, m_b=[ProviderDown("500")] * 3)
    with pytest.raises(AllModelsUnavailable) as caught:
        generate(client, ["m/a", "m/b"], MESSAGES, FAST)
    error = caught.value
    assert isinstance(error, TransientError)  # worth another attempt later
    assert "m/a" in str(error) and "m/b" in str(error)
    assert _attempts(error.calls) == [
        ("m/a", 1, False), ("m/a", 2, False), ("m/a", 3, False),
        ("m/b", 1, False), ("m/b", 2, False), ("m/b", 3, False),
    ]


def test_mixed_transient_and_permanent_is_still_unavailable_not_refused():
    client = ScriptedModels(m_a=[ContentRefused("400")], m_b=[ProviderDown("500")] * 3)
    with pytest.raises(AllModelsUnavailable):
        generate(client, ["m/a", "m/b"], MESSAGES, FAST)


def test_all_permanent_gives_all_models_refused_without_retrying_any():
    client = ScriptedModels(m_a=[ContentRefused("policy")], m_b=[ContentRefused("too long")])
    with pytest.raises(AllModelsRefused) as caught:
        generate(client, ["m/a", "m/b"], MESSAGES, FAST)
    error = caught.value
    assert isinstance(error, PermanentError)
    assert "policy" in str(error) and "too long" in str(error)
    assert _attempts(error.calls) == [("m/a", 1, False), ("m/b", 1, False)]


def test_call_audit_records_model_attempt_and_error_text():
    client = ScriptedModels(
        m_a=[RateLimited("429 quota for m/a"), "garbage", ContentRefused("400 refused")],
        m_b=[ModelResponse(draft("done"), 50, 9, 0.001)],
    )
    result = generate(client, ["m/a", "m/b"], MESSAGES, FAST)
    calls = result.calls
    assert [(c.model, c.attempt) for c in calls] == [("m/a", 1), ("m/a", 2), ("m/a", 3), ("m/b", 1)]
    assert calls[0].error == "RateLimited: 429 quota for m/a"
    assert calls[1].error.startswith("ModelOutputInvalid: model output is not the requested JSON")
    assert calls[2].error == "ContentRefused: 400 refused"
    assert calls[3].error is None
    assert (calls[3].prompt_tokens, calls[3].completion_tokens, calls[3].cost_usd) == (50, 9, 0.001)
    assert all(c.latency_ms >= 0 for c in calls)
    # Failed attempts cost nothing in the audit.
    assert all(c.prompt_tokens == 0 and c.cost_usd == 0.0 for c in calls[:3])


def test_error_without_message_still_has_readable_audit_text():
    client = ScriptedModels(m_a=[RateLimited()], m_b=[draft()])
    result = generate(client, ["m/a", "m/b"], MESSAGES, RetryPolicy(1, 0.001, 0.002))
    assert result.calls[0].error == "RateLimited: The provider said 429."


# --- the reply's shape ------------------------------------------------------------------------


def test_quick_replies_are_capped_to_four_and_blank_ones_dropped():
    quick = ["  ", "Book a visit", "", "Call me back ", None, "Send details", 7, "See prices",
             "Something else"]
    result = generate(ScriptedModels(m_a=[draft("Hi", quick)]), ["m/a"], MESSAGES, FAST)
    assert result.reply.quick_replies == (
        "Book a visit", "Call me back", "Send details", "See prices",
    )


def test_missing_quick_replies_means_none():
    result = generate(ScriptedModels(m_a=['{"reply": "Hi"}']), ["m/a"], MESSAGES, FAST)
    assert result.reply.quick_replies == ()


def test_overlong_quick_replies_are_shortened():
    result = generate(ScriptedModels(m_a=[draft("Hi", ["x" * 500])]), ["m/a"], MESSAGES, FAST)
    assert result.reply.quick_replies == ("x" * 200,)


@pytest.mark.parametrize(
    "content",
    [
        '```json\n{"reply": "Fenced hello", "quickReplies": ["Yes"]}\n```',
        '```\n{"reply": "Fenced hello", "quickReplies": ["Yes"]}\n```',
        '  ```json\n{"reply": "Fenced hello", "quickReplies": ["Yes"]}\n```\n',
    ],
    ids=["json-fence", "bare-fence", "padded-fence"],
)
def test_fenced_json_reply_is_accepted(content):
    result = generate(ScriptedModels(m_a=[content]), ["m/a"], MESSAGES, FAST)
    assert result.reply.reply == "Fenced hello"
    assert result.reply.quick_replies == ("Yes",)
    assert _attempts(result.calls) == [("m/a", 1, True)]


def test_parse_reply_rejects_prose_with_a_typed_error():
    with pytest.raises(ModelOutputInvalid):
        parse_reply("I cannot help with that.")
