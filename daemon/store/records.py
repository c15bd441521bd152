"""The clerk's records in the store: roster, leave, exemptions, inspections, substitutions.

Each kind is replaced by its key (``staff_no`` for the roster, ``ref`` for
the others) in one transaction, and the months a record touches are marked
for re-evaluation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import SQLAlchemyError

from .dirty import clear_dirty, dirty_months, mark_dirty  # noqa: F401 - re-exported
from .models import (
    ExemptionRow,
    InspectionRow,
    LeaveRow,
    StaffRow,
    SubstitutionRow,
)
from .store import Store, StoreError, _reason

TABLES = {
    "roster": (StaffRow, "staff_no"),
    "leaves": (LeaveRow, "ref"),
    "exemptions": (ExemptionRow, "ref"),
    "inspections": (InspectionRow, "ref"),
    "substitutions": (SubstitutionRow, "ref"),
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
    model, key = TABLES[kind]
    table = model.__table__
    months: set[str] = set()
    try:
        with store._writing(), store.engine.begin() as conn:
            keys = [r[key] for r in rows]
            old = conn.execute(select(table).where(table.c[key].in_(keys))).mappings().all() if keys else []
            for r in old:
                months |= _months(kind, r)
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
    model, key = TABLES[kind]
    table = model.__table__
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(table).order_by(table.c[key])).mappings()]
