"""Postgres (or the demo's SQLite) as the system of record. Only this package knows SQL."""
