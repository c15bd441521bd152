"""Alembic environment for the scoring DB: run with a connection handed in (see :mod:`daemon.dbkit`).

:meth:`daemon.scoring.ScoringDB.upgrade` passes the connection and the schema
(``None`` where the database has none) in ``config.attributes``. The version
table, ``att_alembic_version``, lives in that schema beside the ``att_*``
tables; on PostgreSQL :func:`~daemon.dbkit.run_migrations` creates the schema
first if it is missing.

The shared database holds other systems' tables: ``include_name`` keeps
autogenerate (a developer's tool) to ``att_*`` tables, so it never proposes
to drop or alter anything else.
"""

from alembic import context
from alembic.runtime.environment import NameFilterParentNames, NameFilterType

from daemon.dbkit import run_migrations
from daemon.scoring.tables import PREFIX, metadata

schema = context.config.attributes.get("schema")


def include_name(name: str | None, type_: NameFilterType, parent_names: NameFilterParentNames) -> bool:
    """Only attendd's own tables (and everything inside them)."""
    if type_ == "schema":
        return name == schema
    if type_ == "table":
        return name is not None and name.startswith(PREFIX)
    return True


run_migrations(metadata, include_name=include_name)
