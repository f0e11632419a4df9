"""The migrations build the schema the models describe: a column or index added on one side
only (a width, a new table) is found here rather than in production."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from worker.store.models import Base

pytestmark = pytest.mark.integration

# Full-text search columns Postgres generates itself (migrations 0004/0005) and their GIN
# indexes: the ORM never writes them, the store reads them by name in SQL.
MIGRATION_ONLY = {
    ("kb_chunks", "tsv"), ("memory_items", "tsv"), ("memory_items", "doc_len"),
    ("kb_chunks", "ix_kb_chunks_tsv"), ("memory_items", "ix_memory_items_tsv"),
}


def _compared(obj, name, type_, reflected, compare_to) -> bool:  # noqa: ANN001
    table = getattr(getattr(obj, "table", None), "name", None)
    return (table, name) not in MIGRATION_ONLY


def test_migrated_schema_matches_the_models(database_url):  # noqa: ANN001
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "include_object": _compared})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []
