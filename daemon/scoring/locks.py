"""Cross-daemon locks on the scoring DB: job locks and the push lock.

Two attendd instances may share one scoring DB (an active and a standby
machine). A *job lock* lets only one of them run a scheduled job (its name
includes the site code: another centre sharing the scoring DB runs its own
jobs meanwhile); the *push lock*, one per database, makes every site's pushes
take turns, so a push's "has this slice changed?" check and its writes see no
other push in between.

* PostgreSQL: advisory locks on a 64-bit key derived from the lock's name
  (SHA-256, so every process derives the same key). Job locks are
  session-level (``pg_try_advisory_lock``) on a connection held for the
  job; the push lock is transaction-level (``pg_advisory_xact_lock``).
  PostgreSQL scopes advisory locks to the database; the name includes the
  schema, so deployments in different schemas do not block each other.
* MySQL/MariaDB: ``GET_LOCK(name, timeout)`` on a held connection. Those
  names are server-wide, so they include the database name; a name longer
  than MySQL's 64 characters is replaced by its digest.
* SQLite: an exclusive ``flock`` on a file beside the database file
  (``scoring.db.<name>.lock``) for job locks — it works between processes
  and between two ``ScoringDB`` objects of one process. An in-memory
  database has no one to share with: the lock is always granted. Pushes
  need no lock: SQLite lets one writer at a time.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MYSQL_LOCK_NAME_MAX = 64


def lock_name(kind: str, namespace: str, name: str) -> str:
    """``attendd:<kind>:<namespace>:<name>``, or its digest where MySQL's limit needs it."""
    full = f"attendd:{kind}:{namespace}:{name}"
    if len(full) <= MYSQL_LOCK_NAME_MAX:
        return full
    return f"attendd:{hashlib.sha256(full.encode()).hexdigest()[:48]}"


def pg_key(name: str) -> int:
    """A signed 64-bit advisory-lock key for ``name``, the same in every process."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def lock_file(database: str, name: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
    return Path(f"{database}.{safe}.lock")


@contextmanager
def file_lock(path: Path) -> Iterator[bool]:
    """Try an exclusive ``flock`` on ``path``; yields whether it was granted."""
    import fcntl

    with open(path, "a+b") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
