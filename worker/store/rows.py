"""Many rows in one INSERT whose text does not depend on how many: `INSERT … SELECT … FROM
unnest(:col1, :col2, …)`, one array parameter per column.

A multi-row VALUES list (SQLAlchemy's insertmanyvalues) has a different text for every row
count: psycopg parses each new text again for its placeholders (py-spy: most of the ingress's
insert time for a batch) and Postgres plans it again. One text per table means both are done
once, and psycopg's automatic prepared statements apply.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import json

from sqlalchemy import JSON, Table, Text, bindparam, cast, func, select
from sqlalchemy.dialects.postgresql import ARRAY, Insert, insert


def insert_rows(table: Table, columns: Sequence[str]) -> Insert:
    """INSERT of `columns` from one array parameter each (named as the column); add ON CONFLICT
    and RETURNING as needed, execute with `as_arrays(table, rows, columns)`. Every column
    with a default must be among `columns` (SQLAlchemy would add it as a parameter)."""
    arrays = [
        # unnest() flattens an array of arrays, and a JSON list would be taken for one: array
        # and JSON columns travel as their text form, cast back in the SELECT.
        bindparam(name, type_=ARRAY(Text if _as_text(table, name) else table.c[name].type))
        for name in columns
    ]
    source = func.unnest(*arrays).table_valued(*columns).render_derived(name="r")
    values = [cast(source.c[c], table.c[c].type) if _as_text(table, c) else source.c[c]
              for c in columns]
    return insert(table).from_select(list(columns), select(*values))


def as_arrays(table: Table, rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> dict:
    """The parameters of `insert_rows(table, columns)` for `rows`."""
    out: dict[str, list] = {}
    for name in columns:
        values = [row[name] for row in rows]
        kind = table.c[name].type
        if isinstance(kind, ARRAY):  # of numbers (memory_items.embedding)
            values = [None if v is None else "{" + ",".join(map(str, v)) + "}" for v in values]
        elif isinstance(kind, JSON):
            values = [None if v is None else json.dumps(v) for v in values]
        out[name] = values
    return out


def _as_text(table: Table, name: str) -> bool:
    return isinstance(table.c[name].type, (ARRAY, JSON))
