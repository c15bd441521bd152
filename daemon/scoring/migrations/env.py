"""Alembic environment for the scoring DB: run with a connection handed in.

:meth:`daemon.scoring.ScoringDB.upgrade` passes the connection and the schema
(``None`` where the database has none) in ``config.attributes``. The version
table, ``att_alembic_version``, lives in that schema beside the ``att_*``
tables; on PostgreSQL the schema is created first if it is missing (the
version table needs it before the first migration runs). Only if it is
missing: ``CREATE SCHEMA IF NOT EXISTS`` wants the CREATE privilege on the
database even when the schema exists, which a role given just its own
schema by the DBA does not have.

The shared database holds other systems' tables: ``include_name`` keeps
autogenerate (a developer's tool) to ``att_*`` tables, so it never proposes
to drop or alter anything else.
"""

from alembic import context
from sqlalchemy import text

from daemon.scoring.tables import PREFIX, VERSION_TABLE, metadata

connection = context.config.attributes["connection"]
schema = context.config.attributes.get("schema")

if schema and connection.dialect.name == "postgresql":
    exists = connection.scalar(text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": schema})
    if not exists:
        quoted = connection.dialect.identifier_preparer.quote_identifier(schema)
        connection.execute(text(f"CREATE SCHEMA {quoted}"))


def include_name(name, type_, parent_names):
    """Only attendd's own tables (and everything inside them)."""
    if type_ == "schema":
        return name == schema
    if type_ == "table":
        return name.startswith(PREFIX)
    return True


context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    version_table_schema=schema,
    include_schemas=bool(schema),
    include_name=include_name,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
