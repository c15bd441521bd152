"""The clerk's records in the store: roster, leave, exemptions, inspections, substitutions.

Each kind is written by its key (``staff_no`` for the roster, ``ref`` for
the others) in one transaction; a record's columns the file did not have keep
their stored values, an unchanged record is not written, and the months a
changed record touches (before and after) are marked for re-evaluation.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
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


#: What a new record gets for a column its file did not have.
DEFAULTS: dict[str, dict[str, object]] = {
    "roster": {"role": "staff", "active_from": None, "active_to": None, "exempt": False},
    "leaves": {"note": ""},
    "exemptions": {"reason": ""},
    "inspections": {"minutes": 0, "note": ""},
    "substitutions": {},
}
#: Keys per ``IN (…)`` and rows per ``INSERT`` batch: under SQLite's oldest bound-parameter limit
#: (999) and far under PostgreSQL's (65,535), whatever the file's size (issue 13).
KEY_CHUNK = 900
INSERT_CHUNK = 5000
#: Above this many rows the stored records are read in one pass rather than by key.
SCAN_ABOVE = 20 * KEY_CHUNK


@dataclass(frozen=True)
class Written:
    """What :func:`put_records` did: records ``new`` to the store, ``updated`` (a column changed)
    and ``unchanged`` (every given column as stored: not written, no month marked dirty)."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def stored(self) -> int:
        return self.new + self.updated


def _chunks(seq: Sequence, size: int) -> Iterator[Sequence]:
    for i in range(0, len(seq), size):
        yield seq[i : i + size]


def put_records(store: Store, kind: str, rows: Sequence[Mapping], *, now_utc: datetime) -> Written:
    """Insert or update ``rows`` of ``kind`` by key, in one transaction: all or nothing.

    A row may leave out optional columns: a new record gets :data:`DEFAULTS` for them, a stored
    one keeps what it has (a roster of 工号, 姓名, 窗口 keeps each role and date). Keys are
    looked up and deleted in chunks of :data:`KEY_CHUNK`, so any number of rows works.
    """
    table, key = KIND_TABLES[kind]
    columns = [c.name for c in table.columns if c.name != "updated_utc"]
    months: set[str] = set()
    new = updated = unchanged = 0
    try:
        with store.transaction() as conn:
            stored: dict[object, dict] = {}
            keys = [r[key] for r in rows]
            if len(keys) > SCAN_ABOVE:  # a big file: one pass over the table beats many IN (…) lookups
                wanted = set(keys)
                for o in conn.execute(select(table)).mappings():
                    if o[key] in wanted:
                        stored[o[key]] = dict(o)
            else:
                for chunk in _chunks(keys, KEY_CHUNK):
                    for o in conn.execute(select(table).where(table.c[key].in_(chunk))).mappings():
                        stored[o[key]] = dict(o)
            writes: list[dict] = []
            replaced: list[object] = []
            for r in rows:
                old = stored.get(r[key])
                if old is None:
                    full = {**DEFAULTS[kind], **r}
                    new += 1
                else:
                    full = {c: old[c] for c in columns}
                    full.update(r)
                    if all(full[c] == old[c] for c in columns):
                        unchanged += 1
                        continue
                    months |= _months(kind, old)
                    replaced.append(r[key])
                    updated += 1
                months |= _months(kind, full)
                full["updated_utc"] = now_utc
                writes.append(full)
            for chunk in _chunks(replaced, KEY_CHUNK):
                conn.execute(delete(table).where(table.c[key].in_(chunk)))
            for batch in _chunks(writes, INSERT_CHUNK):
                conn.execute(insert(table), list(batch))
            mark_dirty(conn, months, now_utc)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot write {kind} to the local store: {_reason(exc)}") from None
    return Written(new, updated, unchanged)


def record_keys(store: Store, kind: str) -> set[str]:
    """Every stored key of ``kind`` (the roster's staff numbers, say)."""
    table, key = KIND_TABLES[kind]
    with store.reading() as conn:
        return {k for (k,) in conn.execute(select(table.c[key]))}


def list_records(store: Store, kind: str) -> list[dict]:
    table, key = KIND_TABLES[kind]
    with store.reading() as conn:
        return [dict(r) for r in conn.execute(select(table).order_by(table.c[key])).mappings()]
