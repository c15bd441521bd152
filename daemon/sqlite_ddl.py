"""Migrations on SQLite in one transaction, for the local store and the embedded scoring DB.

Python's sqlite3 driver, in its legacy transaction control (every Python before 3.12's
``autocommit``), opens a transaction only before INSERT / UPDATE / DELETE and runs DDL outside
one: a migration killed half-way (a SIGKILL during the first ``attendd sync`` of a new store)
left half its tables and no revision, and the next start failed with "table … already exists".
The engine :func:`migration_engine` returns turns the driver's own handling off and lets
SQLAlchemy emit ``BEGIN`` (SQLAlchemy's documented recipe for pysqlite), so a migration commits
whole or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import NullPool


def migration_engine(url: Any, on_connect: Callable[[Any, Any], None] | None = None, **kwargs: Any) -> Engine:
    """A short-lived engine for ``url`` (SQLite) whose transactions include DDL; dispose it after use."""
    engine = create_engine(url, poolclass=NullPool, **kwargs)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, record) -> None:
        if on_connect is not None:
            on_connect(dbapi_conn, record)  # PRAGMAs first: journal_mode cannot change inside a transaction
        dbapi_conn.isolation_level = None  # the driver stops managing transactions …

    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:
        conn.exec_driver_sql("BEGIN")  # … and SQLAlchemy's begin() starts one that DDL joins

    return engine
