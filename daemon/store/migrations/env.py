"""Alembic environment for the local store: run with a connection handed in (see :mod:`daemon.dbkit`)."""

from daemon.dbkit import run_migrations
from daemon.store.models import Base

run_migrations(Base.metadata)
