"""INSERT … ON CONFLICT for whichever database the session is bound to (Postgres or SQLite)."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_for(session: Session, model):  # noqa: ANN001, ANN201
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(model)
