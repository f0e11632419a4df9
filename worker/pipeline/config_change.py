"""Changing a client's agent config and reading its versions: the use cases behind the API's
PUT /config/active and GET /config/history and the console's config page (one validation,
schema.agent_config.AgentConfigFields; one write path)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from schema.agent_config import AgentConfigFields
from worker.adapters.invalidation import announce
from worker.logs import log
from worker.ports import Configs
from worker.settings import Settings
from worker.store import stats, tenants


@dataclass(frozen=True)
class Activated:
    config_id: str
    version: int


@dataclass(frozen=True)
class ConfigVersionView:
    config_id: str
    version: int
    active: bool
    created_at: datetime
    fields: dict[str, Any]  # contract JSON (camelCase)
    drafts: dict[str, int]  # drafts written with this version, by status


def activate_config(
    client_id: str, fields: AgentConfigFields, *, via: str, sessions: sessionmaker[Session],
    configs: Configs, redis: redis.Redis, settings: Settings,
) -> Activated | None:
    """Store `fields` as the client's next version and make it the active one; every process
    drops its cached copy at once. None when the client is not registered."""
    with sessions.begin() as session:
        row = tenants.activate_new_config(session, client_id, fields.as_contract_json())
        if row is None:  # deleted meanwhile: a write never registers a client
            return None
        done = Activated(row.id, row.version)
    configs.invalidate(client_id)
    announce(redis, settings.redis_namespace, "config", client_id)
    log.info("config.activated", client_id=client_id, config_id=done.config_id,
             version=done.version, via=via)
    return done


def config_versions(sessions: sessionmaker[Session], client_id: str) -> list[ConfigVersionView]:
    """Every version, newest first, with how its drafts fared in review."""
    with sessions() as session:
        rows = tenants.config_history(session, client_id)
        outcomes = stats.drafts_by_config(session, client_id)
        out = []
        for r in rows:
            try:
                fields = AgentConfigFields.model_validate(r.fields).as_contract_json()
            except ValidationError:  # written before a rule tightened: shown as stored
                fields = r.fields
            out.append(ConfigVersionView(r.id, r.version, r.active, r.created_at, fields,
                                         outcomes.get(r.id, {})))
    return out
