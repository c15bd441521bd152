"""The clerk's records in the store: roster, leave, exemptions, inspections, substitutions.

Each kind is replaced by its key (``staff_no`` for the roster, ``ref`` for
the others) in one transaction, and the months a record touches are marked
for re-evaluation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.exc import SQLAlchemyError

from .dirty import mark_dirty
from .models import (
    exemption_table,
    inspection_table,
    leave_table,
    staff_table,
    substitution_table,
)
from .store import Store, StoreError, _reason

#: Each kind's table and the key a re-import replaces by.
KIND_TABLES: dict[str, tuple[Table, str]] = {
    "roster": (staff_table, "staff_no"),
    "leaves": (leave_table, "ref"),
    "exemptions": (exemption_table, "ref"),
    "inspections": (inspection_table, "ref"),
    "substitutions": (substitution_table, "ref"),
}


def _months(kind: str, row: Mapping) -> set[str]:
    def span(a: date, b: date) -> set[str]:
        out, y, m = set(), a.year, a.month
        while (y, m) <= (b.year, b.month):
            out.add(f"{y}-{m:02d}")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out

    if kind == "leaves":
        return span(row["start"].date(), row["end"].date())
    if kind == "exemptions":
        return span(row["day"], row["day"])
    if kind == "inspections":
        return span(row["at"].date(), row["at"].date())
    if kind == "substitutions":
        return span(row["start_date"], row["end_date"])
    return set()


def put_records(store: Store, kind: str, rows: Sequence[Mapping], *, now_utc: datetime) -> int:
    """Insert or replace ``rows`` of ``kind`` by key; all or nothing. Returns the count."""
    table, key = KIND_TABLES[kind]
    months: set[str] = set()
    try:
        with store.transaction() as conn:
            keys = [r[key] for r in rows]
            old = conn.execute(select(table).where(table.c[key].in_(keys))).mappings().all() if keys else []
            for o in old:
                months |= _months(kind, o)
            if keys:
                conn.execute(delete(table).where(table.c[key].in_(keys)))
                conn.execute(insert(table), [{**r, "updated_utc": now_utc} for r in rows])
            for r in rows:
                months |= _months(kind, r)
            mark_dirty(conn, months, now_utc)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot write {kind} to the local store: {_reason(exc)}") from None
    return len(rows)


def list_records(store: Store, kind: str) -> list[dict]:
    table, key = KIND_TABLES[kind]
    with store.reading() as conn:
        return [dict(r) for r in conn.execute(select(table).order_by(table.c[key])).mappings()]
