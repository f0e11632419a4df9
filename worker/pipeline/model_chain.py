"""Which models to try, in order, for one message."""

from __future__ import annotations

from schema.agent_config import AgentConfigFields
from worker.errors import DisallowedModel


def model_chain(
    config: AgentConfigFields,
    override: str | None,
    default_model: str | None,
    default_fallbacks: tuple[str, ...],
) -> list[str]:
    """[primary, *fallbacks] without repeats; empty when no model is configured anywhere."""
    if override and override not in config.allowed_models:
        raise DisallowedModel(f"model {override!r} is not in this client's allowedModels")
    primary = override or config.model or default_model
    fallbacks = config.fallback_models or default_fallbacks
    chain: list[str] = []
    for model in (primary, *fallbacks):
        if model and model not in chain:
            chain.append(model)
    return chain
