"""The clerk's records in the store: roster, leave, exemptions, inspections, substitutions,
duty assignments (值班) and duty rotas (轮值).

Each kind is written by its key (``staff_no`` for the roster, ``ref`` for
the others) in one transaction; a record's columns the file did not have keep
their stored values, an unchanged record is not written, and the months a
changed record touches (before and after) are marked for re-evaluation.

Records are never deleted: every kind but the roster (whose people leave by ``active_to``) is
withdrawn (撤销) with who, when and why, and then stops counting (:func:`withdraw_record`). Each
record has a ``version`` that every change moves on, so an edit that names the version it saw is
refused when another clerk changed the record meanwhile (:class:`~.changes.StaleEdit`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.exc import SQLAlchemyError

from .changes import Actor, StaleEdit, withdraw_row
from .dirty import mark_dirty
from .models import (
    assessment_record_table,
    category_score_table,
    duty_rota_table,
    duty_table,
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
    "duty": (duty_table, "ref"),
    "rotas": (duty_rota_table, "ref"),
    "assessments": (assessment_record_table, "ref"),
    "category-scores": (category_score_table, "ref"),
}
#: Kinds a record of which is withdrawn rather than edited away (every kind but the roster).
WITHDRAWABLE = tuple(k for k in KIND_TABLES if k != "roster")
#: Each kind's name for one record, in messages (``leave L-3: already withdrawn by 王芳``).
ONE = {
    "roster": "staff",
    "leaves": "leave",
    "exemptions": "exemption",
    "inspections": "inspection",
    "substitutions": "substitution",
    "duty": "duty",
    "rotas": "rota",
    "assessments": "assessment record",
    "category-scores": "category score",
}
#: Columns the store keeps about a record, never given by a file or a form.
META = ("updated_utc", "version", "withdrawn_utc", "withdrawn_by", "withdrawn_reason")


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
    if kind in ("duty", "assessments"):
        return span(row["day"], row["day"])
    if kind == "category-scores":
        from rules import parse_period

        p = parse_period(row["period_key"])
        return span(p.start, p.end - timedelta(days=1))
    if kind == "rotas" and (row.get("start") or row.get("end")):
        # an open-ended rota: the months it names; the daemon re-evaluates the current one anyway
        a = row.get("start") or row["end"]
        return span(a, row.get("end") or a)
    return set()


#: What a new record gets for a column its file did not have.
DEFAULTS: dict[str, dict[str, object]] = {
    "roster": {"role": "staff", "active_from": None, "active_to": None, "exempt": False},
    "leaves": {"note": ""},
    "exemptions": {"reason": ""},
    "inspections": {"minutes": 0, "note": ""},
    "substitutions": {},
    "duty": {"window_code": None, "staff_no": None, "note": ""},
    "rotas": {
        "window_code": None,
        "staff": "",
        "weekdays": "",
        "day_kinds": "",
        "start": None,
        "end": None,
        "note": "",
    },
    "assessments": {
        "window_code": None,
        "staff_no": None,
        "item": "",
        "kind": "deduction",
        "evidence": "",
        "note": "",
        "recorded_by": "",
    },
    "category-scores": {"window_code": None, "staff_no": None, "note": ""},
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


def put_records(
    store: Store,
    kind: str,
    rows: Sequence[Mapping],
    *,
    now_utc: datetime,
    versions: Mapping[str, int] | None = None,
) -> Written:
    """Insert or update ``rows`` of ``kind`` by key, in one transaction: all or nothing.

    A row may leave out optional columns: a new record gets :data:`DEFAULTS` for them, a stored
    one keeps what it has (a roster of 工号, 姓名, 窗口 keeps each role and date). Keys are
    looked up and deleted in chunks of :data:`KEY_CHUNK`, so any number of rows works.
    ``versions``: key → the version the person editing it saw (the console's edit form); a
    record whose version moved since is refused (:class:`StaleEdit`), nothing stored. A
    withdrawn record is not written again (the importer refuses such rows first).
    """
    table, key = KIND_TABLES[kind]
    columns = [c.name for c in table.columns if c.name not in META]
    meta = [c for c in META if c in table.columns and c != "updated_utc"]
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
            for key_, seen in (versions or {}).items():
                old = stored.get(key_)
                if old is not None and old["version"] != seen:
                    raise StaleEdit(
                        f"{key_}: changed by someone else since you opened it (version {old['version']}, "
                        f"you saw {seen}); nothing was saved — reload and try again"
                    )
            for r in rows:
                old = stored.get(r[key])
                if old is None:
                    full = {**DEFAULTS[kind], **r, "version": 1}
                    new += 1
                else:
                    if old.get("withdrawn_utc") is not None:
                        raise StoreError(f"{kind} {r[key]}: withdrawn; a withdrawn record is not changed")
                    full = {c: old[c] for c in columns}
                    full.update(r)
                    if all(full[c] == old[c] for c in columns):
                        unchanged += 1
                        continue
                    full.update({c: old[c] for c in meta})
                    full["version"] = old["version"] + 1
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


def withdraw_record(
    store: Store,
    kind: str,
    key: str,
    *,
    reason: str,
    by: str,
    via: str,
    now_utc: datetime,
    version: int | None = None,
) -> dict:
    """Withdraw (撤销) one record of ``kind``: kept with who, when and why; it stops counting and its
    months are re-evaluated. UserError for the roster (a person leaves by 离职日期), an unknown
    key or one already withdrawn; :class:`StaleEdit` when ``version`` is not the stored one."""
    from ..errors import UserError
    from .changes import required

    if kind not in WITHDRAWABLE:
        raise UserError(f"{kind}: records of this kind are not withdrawn (a person leaves the roster by 离职日期)")
    reason = required(reason, "a withdrawal needs a reason")
    by = required(by, "a withdrawal needs the name of who withdraws it (--by)")
    table, column = KIND_TABLES[kind]
    try:
        with store.transaction() as conn:
            row = withdraw_row(
                conn,
                table,
                column,
                key,
                what=ONE[kind],
                actor=Actor(by, via, now_utc),
                reason=reason,
                action="record_withdraw",
                version=version,
                shown=tuple(c.name for c in table.columns if c.name not in META),
            )
            mark_dirty(conn, _months(kind, row) | ({now_utc.strftime("%Y-%m")} if kind == "rotas" else set()), now_utc)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot withdraw the {kind} record: {_reason(exc)}") from None
    return row


def withdrawn_keys(store: Store, kind: str) -> dict[str, str]:
    """Key → "by NAME on DATE" of every withdrawn record of ``kind`` (empty for the roster)."""
    if kind not in WITHDRAWABLE:
        return {}
    table, key = KIND_TABLES[kind]
    with store.reading() as conn:
        rows = conn.execute(
            select(table.c[key], table.c.withdrawn_by, table.c.withdrawn_utc).where(table.c.withdrawn_utc.is_not(None))
        ).all()
    return {k: f"by {who} on {at:%Y-%m-%d}" for k, who, at in rows}


def record(store: Store, kind: str, key: str) -> dict | None:
    """One record of ``kind`` by its key (withdrawn or not), or None."""
    table, column = KIND_TABLES[kind]
    with store.reading() as conn:
        row = conn.execute(select(table).where(table.c[column] == key)).mappings().first()
    return dict(row) if row is not None else None


def record_keys(store: Store, kind: str) -> set[str]:
    """Every stored key of ``kind`` (the roster's staff numbers, say)."""
    table, key = KIND_TABLES[kind]
    with store.reading() as conn:
        return {k for (k,) in conn.execute(select(table.c[key]))}


def list_records(store: Store, kind: str, *, active_only: bool = False) -> list[dict]:
    """Every record of ``kind`` by key; ``active_only``: without the withdrawn ones."""
    table, key = KIND_TABLES[kind]
    q = select(table).order_by(table.c[key])
    if active_only and kind in WITHDRAWABLE:
        q = q.where(table.c.withdrawn_utc.is_(None))
    with store.reading() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]
