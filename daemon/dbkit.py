"""What the local store and the scoring DB share: Alembic's plumbing and SQLite's set-up.

Both databases are migrated by Alembic on a connection handed in through
``config.attributes``, each from its own script directory into its own version
table: :class:`Migrations` is one such pair (with, for the scoring DB, the
PostgreSQL schema the version table lives in). It gives the head, the revision
a database is at, and runs the upgrade; each ``migrations/env.py`` (Alembic
wants one per script directory) is a call of :func:`run_migrations`.

SQLite connections get their PRAGMAs from one hook, :func:`sqlite_pragmas`;
what differs between the two databases (foreign keys, the page cache) is a
parameter.

Migrations on SQLite run in one transaction. Python's sqlite3 driver, in its
legacy transaction control (every Python before 3.12's ``autocommit``), opens a
transaction only before INSERT / UPDATE / DELETE and runs DDL outside one: a
migration killed half-way (a SIGKILL during the first ``attendd sync`` of a new
store) left half its tables and no revision, and the next start failed with
"table … already exists". The engine :func:`migration_engine` returns turns the
driver's own handling off and lets SQLAlchemy emit ``BEGIN`` (SQLAlchemy's
documented recipe for pysqlite), so a migration commits whole or not at all;
:meth:`Migrations.upgrade` uses it on SQLite.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from alembic import command, context
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData, create_engine, event, text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.pool import NullPool

ConnectHook = Callable[[Any, Any], None]
"""A ``connect`` event listener: ``(dbapi_connection, connection_record)``."""

SQLITE_TIMEOUT_S = 30
"""How long an SQLite connection waits for another writer before "database is locked"."""


# --- SQLite ----------------------------------------------------------------------------------


def sqlite_pragmas(*, foreign_keys: bool = False, cache_kib: int | None = None) -> ConnectHook:
    """A ``connect`` hook setting SQLite's PRAGMAs on every new connection.

    Always WAL (readers beside the writer) and ``synchronous=NORMAL``;
    ``foreign_keys=ON`` and a page cache of ``cache_kib`` KiB per connection
    where the database wants them (the local store does, the scoring DB keeps
    SQLite's defaults).
    """
    pragmas = ["journal_mode=WAL", "synchronous=NORMAL"]
    if foreign_keys:
        pragmas.append("foreign_keys=ON")
    if cache_kib is not None:
        pragmas.append(f"cache_size=-{cache_kib}")  # negative: KiB rather than pages

    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        for pragma in pragmas:
            cur.execute(f"PRAGMA {pragma}")
        cur.close()

    return on_connect


def migration_engine(url: str | URL, on_connect: ConnectHook | None = None, **kwargs: Any) -> Engine:
    """A short-lived engine for ``url`` (SQLite) whose transactions include DDL; dispose it after use."""
    engine = create_engine(url, poolclass=NullPool, **kwargs)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, record: Any) -> None:
        if on_connect is not None:
            on_connect(dbapi_conn, record)  # PRAGMAs first: journal_mode cannot change inside a transaction
        dbapi_conn.isolation_level = None  # the driver stops managing transactions …

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN")  # … and SQLAlchemy's begin() starts one that DDL joins

    return engine


# --- Alembic ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Migrations:
    """A database's Alembic scripts: their directory, the version table, and its schema (if any)."""

    directory: Path
    version_table: str
    schema: str | None = None

    @cached_property
    def script(self) -> ScriptDirectory:
        return ScriptDirectory(str(self.directory))

    def head(self) -> str:
        """The newest revision the scripts know ("" if there are none)."""
        return self.script.get_current_head() or ""

    def revisions(self) -> set[str]:
        """Every revision the scripts know."""
        return {s.revision for s in self.script.walk_revisions()}

    def current(self, conn: Connection) -> str | None:
        """The revision the database behind ``conn`` is at (None: never migrated)."""
        ctx = MigrationContext.configure(
            conn, opts={"version_table": self.version_table, "version_table_schema": self.schema}
        )
        return ctx.get_current_revision()

    def config(self, conn: Connection) -> AlembicConfig:
        """An Alembic config that migrates on ``conn`` (for ``alembic.command``; read by :func:`run_migrations`)."""
        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(self.directory))
        cfg.attributes["connection"] = conn
        cfg.attributes["version_table"] = self.version_table
        cfg.attributes["schema"] = self.schema
        return cfg

    def upgrade(self, engine: Engine, *, sqlite_connect: ConnectHook | None = None) -> tuple[str | None, str]:
        """Migrate to the head in one transaction; returns (revision before, revision now).

        On SQLite the migration runs on a :func:`migration_engine` of the same
        URL (``sqlite_connect``: the database's PRAGMA hook), elsewhere on
        ``engine``. Errors are the caller's to word.
        """
        migrating = (
            migration_engine(engine.url, sqlite_connect, connect_args={"timeout": SQLITE_TIMEOUT_S})
            if engine.dialect.name == "sqlite"
            else engine
        )
        try:
            with migrating.begin() as conn:
                before = self.current(conn)
                command.upgrade(self.config(conn), "head")
                return before, self.current(conn) or ""
        finally:
            if migrating is not engine:
                migrating.dispose()


def run_migrations(target_metadata: MetaData, **configure: Any) -> None:
    """The body of a ``migrations/env.py``: migrate on the connection :meth:`Migrations.config` handed in.

    The version table and its schema come from the config's attributes. On
    PostgreSQL that schema is created first if it is missing (the version table
    needs it before the first migration runs). Only if it is missing: ``CREATE
    SCHEMA IF NOT EXISTS`` wants the CREATE privilege on the database even when
    the schema exists, which a role given just its own schema by the DBA does
    not have. ``configure`` goes on to ``context.configure`` (e.g. ``include_name``).
    """
    attributes = context.config.attributes
    connection: Connection = attributes["connection"]
    schema: str | None = attributes.get("schema")
    if schema and connection.dialect.name == "postgresql":
        exists = connection.scalar(text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": schema})
        if not exists:
            quoted = connection.dialect.identifier_preparer.quote_identifier(schema)
            connection.execute(text(f"CREATE SCHEMA {quoted}"))
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table=attributes["version_table"],
        version_table_schema=schema,
        include_schemas=bool(schema),
        render_as_batch=connection.dialect.name == "sqlite",
        **configure,
    )
    with context.begin_transaction():
        context.run_migrations()


__all__ = [
    "SQLITE_TIMEOUT_S",
    "ConnectHook",
    "Migrations",
    "migration_engine",
    "run_migrations",
    "sqlite_pragmas",
]
