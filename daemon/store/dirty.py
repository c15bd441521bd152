"""Months whose inputs changed since they were last evaluated (the daemon re-evaluates them).

Its own module, below both the store and the clerk's records: :meth:`Store.save_punches` marks
the months of new punches in its transaction, :func:`daemon.store.clerk_records.put_records` the
months of new records, and neither has to import the other.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, insert, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from .models import dirty_month_table

if TYPE_CHECKING:
    from .store import Store

__all__ = ["clear_dirty", "dirty_months", "mark_dirty"]


def mark_dirty(conn: Connection, months: Iterable[str], now_utc: datetime) -> None:
    """Remember months whose inputs changed (idempotent)."""
    t = dirty_month_table
    months = sorted(set(months))
    if not months:
        return
    have = set(conn.scalars(select(t.c.month).where(t.c.month.in_(months))))
    new = [{"month": m, "since_utc": now_utc} for m in months if m not in have]
    if not new:
        return
    # two pulls committing at once (parallel workers, several daemons on one server store) may
    # both find a month missing: the second insert must not fail its whole pull
    if conn.dialect.name == "postgresql":
        conn.execute(postgresql.insert(t).on_conflict_do_nothing(), new)
    elif conn.dialect.name in ("mysql", "mariadb"):
        conn.execute(insert(t).prefix_with("IGNORE"), new)
    else:  # SQLite: one writer at a time
        conn.execute(insert(t), new)


def dirty_months(store: Store) -> list[str]:
    t = dirty_month_table
    with store.reading() as conn:
        return sorted(conn.scalars(select(t.c.month)))


def clear_dirty(store: Store, months: Iterable[str], before_utc: datetime) -> None:
    """Forget months evaluated after their inputs last changed."""
    t = dirty_month_table
    months = list(months)
    if not months:
        return
    with store.transaction() as conn:
        conn.execute(delete(t).where(t.c.month.in_(months), t.c.since_utc <= before_utc))
