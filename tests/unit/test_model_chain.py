"""Which models are tried, in which order, for one message."""

from __future__ import annotations

import pytest

from schema.agent_config import AgentConfigFields
from worker.errors import BadEvent, DisallowedModel
from worker.pipeline.model_chain import model_chain

ENV_DEFAULT = "openai/env-default"
ENV_FALLBACKS = ("openai/env-fb-1", "openai/env-fb-2")


def cfg(**fields) -> AgentConfigFields:
    return AgentConfigFields(**fields)


def test_nothing_configured_anywhere_gives_an_empty_chain():
    assert model_chain(cfg(), None, None, ()) == []


def test_env_default_and_env_fallbacks_when_config_names_none():
    assert model_chain(cfg(), None, ENV_DEFAULT, ENV_FALLBACKS) == [ENV_DEFAULT, *ENV_FALLBACKS]


def test_env_fallbacks_alone_still_give_a_chain():
    assert model_chain(cfg(), None, None, ENV_FALLBACKS) == list(ENV_FALLBACKS)


def test_config_model_beats_env_default():
    chain = model_chain(cfg(model="anthropic/tenant-model"), None, ENV_DEFAULT, ())
    assert chain == ["anthropic/tenant-model"]


def test_config_fallbacks_replace_env_fallbacks():
    config = cfg(model="m/main", fallbackModels=["m/fb-a", "m/fb-b"])
    chain = model_chain(config, None, ENV_DEFAULT, ENV_FALLBACKS)
    assert chain == ["m/main", "m/fb-a", "m/fb-b"]
    assert not set(ENV_FALLBACKS) & set(chain)
    assert ENV_DEFAULT not in chain


def test_allowed_override_goes_first_and_keeps_fallbacks():
    config = cfg(model="m/main", allowedModels=["m/special"], fallbackModels=["m/fb"])
    assert model_chain(config, "m/special", ENV_DEFAULT, ENV_FALLBACKS) == ["m/special", "m/fb"]


def test_override_not_in_allowed_models_is_refused():
    config = cfg(model="m/main", allowedModels=["m/special"])
    with pytest.raises(DisallowedModel) as caught:
        model_chain(config, "m/expensive", ENV_DEFAULT, ENV_FALLBACKS)
    assert "m/expensive" in str(caught.value)
    assert isinstance(caught.value, BadEvent)  # kept aside, never retried


def test_no_override_allowed_when_allowed_models_is_empty():
    # Even naming the tenant's own default model is an override it has not allowed.
    config = cfg(model="m/main")
    with pytest.raises(DisallowedModel):
        model_chain(config, "m/main", None, ())
    with pytest.raises(DisallowedModel):
        model_chain(cfg(), ENV_DEFAULT, ENV_DEFAULT, ())


@pytest.mark.parametrize("override", [None, ""])
def test_missing_or_empty_override_is_no_override(override):
    config = cfg(model="m/main")
    assert model_chain(config, override, ENV_DEFAULT, ()) == ["m/main"]


def test_no_model_is_tried_twice():
    config = cfg(
        model="m/a",
        allowedModels=["m/b"],
        fallbackModels=["m/b", "m/a", "m/c", "m/c"],
    )
    assert model_chain(config, "m/b", ENV_DEFAULT, ENV_FALLBACKS) == ["m/b", "m/a", "m/c"]
    assert model_chain(cfg(), None, "x", ("x", "y", "x")) == ["x", "y"]


def test_blank_fallbacks_in_config_are_ignored():
    config = cfg(model="m/a", fallbackModels=["  ", "m/b", ""])
    assert model_chain(config, None, None, ()) == ["m/a", "m/b"]
