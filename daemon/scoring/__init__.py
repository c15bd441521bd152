"""The shared scoring database (SPEC §4.4): contract tables, migrations, pushes.

* :mod:`.tables` — the ``att_*`` tables as SQLAlchemy Core (the contract);
* ``migrations/`` — Alembic, version table ``att_alembic_version``;
* :mod:`.rows` — pushed dicts to tuples, and the slice's content digest;
* :mod:`.bulk` — the fastest insert each database offers;
* :mod:`.locks` — job locks and the push lock across daemons;
* :mod:`.db` — :class:`ScoringDB`, which ties them together.
"""

from .db import ScoringDB
from .errors import RowError, ScoringError

__all__ = ["RowError", "ScoringDB", "ScoringError"]
