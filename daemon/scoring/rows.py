"""A period slice: its rows column by column, checked, and the digest of its content.

A year for a thousand staff is a quarter of a million staff-day rows, so this
is where a push spends its Python time, and why rows are handled a column at
a time: pulling a column out of the dicts (``map(itemgetter(name), rows)``),
checking it (``set(map(type, column))``, ``min`` / ``max``) and later
rendering it run in C, where a loop over rows would run in Python.

:func:`prepare` checks the rows (unknown columns, rows of another period,
days outside the slice) and returns each table's columns in table order,
``site_code``, ``computed_at`` and ``rules_version`` (the columns a push fills in itself)
included where the table has them; :func:`for_writing` encodes
the JSON columns to text when the slice is actually written (an identical
re-push never pays for JSON). :func:`digest` is the SHA-256 of everything
the push would write:
the slice's identity (site, period, dates, ``include_days``), ``rules_version``,
``computed_at``, the migration head, each table's column names and every
column's values (serialised with :mod:`pickle`, memoisation off: a faithful
value-by-value encoding, so equal digests mean equal tables). A caller that
already holds a digest of the content (the outbox keeps one per snapshot) may
pass it instead; then nothing is prepared unless the slice is written.
"""

from __future__ import annotations

import hashlib
import io
import json.encoder
import pickle
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from json.encoder import encode_basestring
from operator import itemgetter
from typing import Any

from sqlalchemy import Table

from .errors import RowError
from .tables import ASSESSMENT_TABLES, SLICE_TABLES, _EncodedJSON, encode_json, staff_day

STAMP = ("site_code", "computed_at", "rules_version")
"""The columns a push fills in itself, the same on every row: the caller's rows never give them."""

# the C encoder behind json.dumps, built once instead of once per call (None without the C
# accelerator; typeshed does not declare it, hence getattr)
_c_make_encoder = getattr(json.encoder, "c_make_encoder", None)

if _c_make_encoder is not None:
    _c_encode = _c_make_encoder(None, str, encode_basestring, None, ":", ",", False, False, True)

    def fast_json(value: Any) -> str:
        """Compact JSON, keys in the order given, non-ASCII kept (Chinese stays readable)."""
        return "".join(_c_encode(value, 0))
else:  # pragma: no cover - CPython has it

    def fast_json(value: Any) -> str:
        """The same JSON, through :mod:`json`'s Python encoder."""
        return encode_json(value)


Columns = list[list[Any]]
"""One table's rows column by column, in table column order (stamp included)."""


def data_columns(table: Table) -> tuple[str, ...]:
    """The columns a caller's row dict gives: all but ``site_code`` / ``computed_at`` / ``rules_version``."""
    return tuple(c.name for c in table.columns if c.name not in STAMP)


@dataclass(frozen=True)
class Slice:
    """What one push replaces (its site's rows of the period), and the rows it was given."""

    site: str  # site_code: the slice is this site's rows only
    period_kind: str
    period_key: str
    start: date
    end: date  # exclusive
    include_days: bool
    rules_version: str
    computed_at: datetime  # naive UTC
    given: dict[str, Sequence[dict]]  # table name -> rows; no att_staff_day without include_days

    def tables(self) -> list[Table]:
        return [t for t in SLICE_TABLES if t.name in self.given]

    def count(self, table: str | None = None) -> int:
        if table is not None:
            return len(self.given[table])
        return sum(len(v) for v in self.given.values())


def make_slice(
    *,
    site: str,
    period_kind: str,
    period_key: str,
    start: date,
    end: date,
    staff_days: Sequence[dict],
    staff_periods: Sequence[dict],
    window_periods: Sequence[dict],
    deductions: Sequence[dict],
    rules_version: str,
    computed_at: datetime,
    include_days: bool,
    assessment: Mapping[str, Sequence[dict]] | None = None,
) -> Slice:
    """``assessment``: the whole assessment's rows (``category_scores``, ``assessment_totals``,
    ``notices``) when the centre computes it; None leaves those tables alone."""
    if not start < end:
        raise RowError(f"empty period {period_key}: {start} .. {end}")
    given: dict[str, Sequence[dict]] = {}
    if include_days:
        given["att_staff_day"] = staff_days
    given["att_staff_period"] = staff_periods
    given["att_window_period"] = window_periods
    given["att_deduction"] = deductions
    if assessment is not None:
        for name, table in ASSESSMENT_TABLES.items():
            given[table.name] = assessment.get(name, ())
    return Slice(site, period_kind, period_key, start, end, include_days, rules_version, computed_at, given)


# --- prepare -----------------------------------------------------------------------------


def _extract(table: Table, rows: Sequence[dict], defaults: dict[str, Any]) -> Columns:
    cols = data_columns(table)
    if not rows:
        return [[] for _ in cols]
    if set(map(len, rows)) == {len(cols)}:
        try:  # every row has exactly the table's columns: the fast path
            return [list(map(itemgetter(c), rows)) for c in cols]
        except KeyError:
            pass
    colset = frozenset(cols)
    for r in rows:
        unknown = r.keys() - colset
        if unknown:
            raise RowError(f"{table.name} has no column(s) {', '.join(sorted(unknown))}")
    return [[r.get(c, defaults.get(c)) for r in rows] for c in cols]


def _encode_json(column: list) -> list:
    if str not in set(map(type, column)) and None not in column:
        return list(map(fast_json, column))
    return [v if v is None or isinstance(v, str) else fast_json(v) for v in column]


def _check_period(table: Table, columns: Columns, kind: str, key: str) -> None:
    cols = data_columns(table)
    for name, want in (("period_kind", kind), ("period_key", key)):
        other = set(columns[cols.index(name)]) - {want}
        if other:
            raise RowError(
                f"{table.name}: rows of {name} {', '.join(sorted(map(str, other)))} in the push of {kind} {key}"
            )


def _check_days(columns: Columns, start: date, end: date) -> None:
    days = columns[data_columns(staff_day).index("work_date")]
    if not days:
        return
    if set(map(type, days)) != {date}:
        odd = next(d for d in days if type(d) is not date)
        raise RowError(f"att_staff_day: work_date {odd!r} is not a date")
    lo, hi = min(days), max(days)
    if lo < start or hi >= end:
        raise RowError(
            f"att_staff_day: work_date {lo if lo < start else hi} is outside the pushed period {start} .. {end}"
        )


def prepare(sl: Slice) -> dict[str, Columns]:
    """Check the slice's rows and lay them out column by column; raises :class:`RowError`."""
    # columns a later revision added: rows written for the older contract still push
    defaults = {"period_kind": sl.period_kind, "period_key": sl.period_key, "excused_punches": 0, "ranking_group": ""}
    out: dict[str, Columns] = {}
    for table in sl.tables():
        rows = sl.given[table.name]
        columns = _extract(table, rows, defaults)
        if table is staff_day:
            _check_days(columns, sl.start, sl.end)
        else:
            _check_period(table, columns, sl.period_kind, sl.period_key)
        n = len(rows)
        stamp: dict[str, list[Any]] = {
            "site_code": [sl.site] * n,
            "computed_at": [sl.computed_at] * n,
            "rules_version": [sl.rules_version] * n,
        }
        data = iter(columns)
        # in table order: the stamp sits where the table has it (columns a later migration
        # added come after it, as ALTER TABLE appends them)
        out[table.name] = [stamp[c.name] if c.name in stamp else next(data) for c in table.columns]
    return out


def for_writing(table: Table, columns: Columns) -> Columns:
    """The columns with JSON values (``detail``, ``disqualify_reasons``) encoded to text."""
    out = list(columns)
    for i, c in enumerate(table.columns):
        if isinstance(c.type, _EncodedJSON):
            out[i] = _encode_json(out[i])
    return out


# --- digest -------------------------------------------------------------------------------


def _pickled(value: Any) -> bytes:
    buf = io.BytesIO()
    p = pickle.Pickler(buf, protocol=5)
    try:
        p.fast = True  # no memo: the bytes depend on values only, not on which objects are shared
    except AttributeError:  # pragma: no cover - still faithful; at worst digests differ needlessly
        pass
    p.dump(value)
    return buf.getvalue()


_DATE_ONLY = {date}
_TIME_ONLY = {datetime}
_DATES = ({date, type(None)}, {datetime, type(None)})


def _column_bytes(column: list) -> bytes:
    """A column's values as bytes, faithfully: equal bytes mean equal values.

    Dates go as day numbers and times as their ISO form (``"None"`` cannot
    be mistaken for one): both cheaper than pickling the objects, and tagged
    so they cannot equal a column of numbers or strings.
    """
    types = set(map(type, column))
    if types == _DATE_ONLY:
        return b"days:" + _pickled(list(map(date.toordinal, column)))
    if types == _TIME_ONLY:
        return b"times:" + _pickled(list(map(datetime.isoformat, column)))
    if types in _DATES:
        return b"times:" + _pickled(list(map(str, column)))
    try:
        return _pickled(column)
    except (pickle.PicklingError, TypeError, AttributeError):  # an odd object in a JSON value
        return b"json:" + _pickled(_encode_json(column))


def digest(sl: Slice, head: str, prepared: dict[str, Columns] | None = None, content_hash: str | None = None) -> str:
    """SHA-256 of what the slice writes: its prepared columns, or the caller's ``content_hash``."""
    if prepared is None and content_hash is None:
        raise ValueError("digest needs the prepared columns or the caller's content hash")
    columns = prepared if content_hash is None else None  # the caller's digest stands for the columns
    h = hashlib.sha256()
    h.update(
        _pickled(
            (
                head,
                sl.site,
                sl.period_kind,
                sl.period_key,
                sl.start,
                sl.end,
                sl.include_days,
                sl.rules_version,
                sl.computed_at,
            )
        )
    )
    for table in sl.tables():
        h.update(_pickled((table.name, [c.name for c in table.columns], sl.count(table.name))))
        if columns is not None:
            for c, column in zip(table.columns, columns[table.name], strict=True):
                if c.name not in STAMP:  # the stamp is in the header
                    h.update(_column_bytes(column))
    if content_hash is not None:
        h.update(b"caller digest:" + content_hash.encode())
    return h.hexdigest()


__all__ = ["Columns", "Slice", "data_columns", "digest", "fast_json", "for_writing", "make_slice", "prepare"]
