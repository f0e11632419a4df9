"""Postgres as the system of record. Only this package knows SQL."""
