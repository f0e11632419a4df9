"""Embedded Postgres and Redis servers and the whole deployment on them (`demo`, `up`)."""
