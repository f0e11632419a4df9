"""Inbound e-mail addresses registered by clients, for routing mail without a clientId."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from worker.leads import normalize_email
from worker.store.models import ClientAddress


class AddressTaken(Exception):
    """The address already routes to another client."""


def add_address(session: Session, client_id: str, address: str) -> None:
    address = normalize_email(address)
    owner = session.scalar(select(ClientAddress.client_id).where(ClientAddress.address == address))
    if owner is not None and owner != client_id:
        raise AddressTaken(f"{address} already routes to another client")
    session.execute(
        insert(ClientAddress)
        .values(address=address, client_id=client_id)
        .on_conflict_do_nothing()
    )


def remove_address(session: Session, client_id: str, address: str) -> int:
    result = session.execute(
        delete(ClientAddress).where(
            ClientAddress.client_id == client_id,
            ClientAddress.address == normalize_email(address),
        )
    )
    return result.rowcount


def addresses_of(session: Session, client_id: str) -> list[str]:
    return list(
        session.scalars(
            select(ClientAddress.address)
            .where(ClientAddress.client_id == client_id)
            .order_by(ClientAddress.address)
        )
    )


def client_for(session: Session, addresses: tuple[str, ...]) -> str | None:
    """The client owning the first of `addresses` that is registered (recipients in order)."""
    wanted = [normalize_email(a) for a in addresses if a]
    if not wanted:
        return None
    owners = dict(
        session.execute(
            select(ClientAddress.address, ClientAddress.client_id).where(
                ClientAddress.address.in_(wanted)
            )
        ).all()
    )
    return next((owners[a] for a in wanted if a in owners), None)
