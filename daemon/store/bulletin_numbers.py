"""发文字号: the number each DOCX bulletin is issued under, counted per year and never reused.

A period receives its number the first time its bulletin is written as an official document
(DOCX), and keeps it: writing the same period again, or republishing it after a reopen, prints the
same number, so the paper the clerk signed and a later copy agree. ``n`` counts the numbers issued
in the issue year (1, 2, …); the year is the year of issue, not the period's (December's bulletin
issued in January is a number of the new year).

Two writers (the daemon's month close and a clerk's ``attendd bulletin`` at the same moment) are
safe: the table's key is (year, n), so the second to insert the same ``n`` fails, and its retry
finds the period already numbered, or takes the next ``n``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from .models import bulletin_number_table

if TYPE_CHECKING:
    from .store import Store

__all__ = ["IssuedNumber", "issue_number", "last_issued", "number_of"]

#: How often a writer retries after losing the race for an ``n`` (each loss means another writer won).
_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class IssuedNumber:
    """One issued 发文字号: ``number`` as printed, ``n`` its count in ``year``."""

    year: int
    n: int
    period_key: str
    number: str
    issued_utc: datetime
    by: str


def _row(r) -> IssuedNumber:
    return IssuedNumber(r.year, r.n, r.period_key, r.number, r.issued_utc, r.by)


def number_of(store: Store, period_key: str) -> IssuedNumber | None:
    """The number ``period_key`` was issued under, if any."""
    t = bulletin_number_table
    with store.reading() as conn:
        r = conn.execute(select(t).where(t.c.period_key == period_key).order_by(t.c.year, t.c.n)).first()
    return _row(r) if r else None


def issue_number(
    store: Store, period_key: str, *, year: int, number_format: str, by: str, now_utc: datetime
) -> IssuedNumber:
    """``period_key``'s number: the one it already has, else the next ``n`` of ``year``.

    ``number_format`` is ``[bulletin] number_format`` (``{year}``, ``{n}``); it is applied once,
    when the number is issued: the stored text is what every later copy prints.
    """
    t = bulletin_number_table
    for attempt in range(_ATTEMPTS):
        try:
            with store.transaction() as conn:
                have = conn.execute(select(t).where(t.c.period_key == period_key).order_by(t.c.year, t.c.n)).first()
                if have is not None:
                    return _row(have)
                n = (conn.scalar(select(func.max(t.c.n)).where(t.c.year == year)) or 0) + 1
                row = IssuedNumber(year, n, period_key, number_format.format(year=year, n=n), now_utc, by)
                conn.execute(
                    insert(t).values(
                        year=year, n=n, period_key=period_key, number=row.number, issued_utc=now_utc, by=by
                    )
                )
                return row
        except IntegrityError:  # another writer took this n first: look again
            if attempt == _ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def last_issued(store: Store, year: int) -> IssuedNumber | None:
    """The latest number issued in ``year`` (what ``attendd status`` shows), or None."""
    t = bulletin_number_table
    with store.reading() as conn:
        r = conn.execute(select(t).where(t.c.year == year).order_by(t.c.n.desc()).limit(1)).first()
    return _row(r) if r else None
