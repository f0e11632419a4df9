"""Clients and their versioned agent configs."""

from __future__ import annotations

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from worker.store.models import AgentConfig, Client


def register_client(session: Session, client_id: str) -> None:
    session.execute(insert(Client).values(id=client_id).on_conflict_do_nothing())


def client_exists(session: Session, client_id: str) -> bool:
    return session.scalar(select(Client.id).where(Client.id == client_id)) is not None


def delete_client(session: Session, client_id: str) -> bool:
    """Remove the client and, by foreign key, everything of it: keys, configs, messages,
    drafts, memory, documents. False if there was no such client."""
    return session.execute(delete(Client).where(Client.id == client_id)).rowcount > 0


def list_clients(session: Session) -> list[str]:
    return list(session.scalars(select(Client.id).order_by(Client.id)))


def active_config(session: Session, client_id: str) -> AgentConfig | None:
    return session.scalar(
        select(AgentConfig).where(AgentConfig.client_id == client_id, AgentConfig.active)
    )


def activate_new_config(
    session: Session, client_id: str, fields: dict, *, register: bool = False
) -> AgentConfig | None:
    """Store `fields` as the client's next version and make it the only active one; None when
    the client is not registered (only `register=True`, the operator's `config set`, creates
    it: a write through the API never brings a deleted client back).

    The row lock on the client serialises concurrent writers; the partial unique index
    is the last word if two ever race anyway.
    """
    if register:
        register_client(session, client_id)
    locked = session.execute(select(Client.id).where(Client.id == client_id).with_for_update())
    if locked.first() is None:
        return None
    latest = session.scalar(
        select(func.max(AgentConfig.version)).where(AgentConfig.client_id == client_id)
    )
    session.execute(
        update(AgentConfig)
        .where(AgentConfig.client_id == client_id, AgentConfig.active)
        .values(active=False)
    )
    config = AgentConfig(client_id=client_id, version=(latest or 0) + 1, active=True, fields=fields)
    session.add(config)
    session.flush()
    return config


def config_history(session: Session, client_id: str) -> list[AgentConfig]:
    return list(
        session.scalars(
            select(AgentConfig)
            .where(AgentConfig.client_id == client_id)
            .order_by(AgentConfig.version.desc())
        )
    )


def config_by_id(session: Session, client_id: str, config_id: str) -> AgentConfig | None:
    return session.scalar(
        select(AgentConfig).where(AgentConfig.client_id == client_id, AgentConfig.id == config_id)
    )
