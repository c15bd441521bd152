"""Time in attendd: one clock, one rule for UTC, one rule for the terminals' wall-clock time.

Two kinds of time meet in this program and must never be compared with each other:

* **Instants** — when we saw something, when a job ran, when a clerk recorded a leave. In
  Python they are always *aware* datetimes in UTC; they come from a :data:`Clock` (the real
  one is :func:`system_clock`; tests pass a fake) and are stored by :class:`UtcDateTime`
  columns (the ``*_utc`` columns of the store) as naive UTC, which every database can hold.
* **Wall-clock times** — what a terminal prints on a punch, a slot's 09:10. They are *naive*,
  in the site's time zone (SPEC §4.2), and stored as they are beside the zone's name.

:func:`site_time` turns an instant into the site's wall-clock time (to compare with punches);
:func:`utc_of` turns a wall-clock time or a site day into an instant. Nothing outside this module
reads ``datetime.now``; ruff's DTZ rules keep it so.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, tzinfo
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

__all__ = ["Clock", "UtcDateTime", "naive_utc", "site_time", "system_clock", "utc_of"]

#: Anything that tells the time: returns an aware datetime (UTC or any zone).
Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The real clock (aware, UTC). Everything else takes a :data:`Clock` as an argument."""
    return datetime.now(UTC)


def _aware(t: datetime) -> datetime:
    if t.tzinfo is None or t.utcoffset() is None:
        raise TypeError(f"a naive datetime ({t.isoformat()}) where an instant is needed: pass the clock's aware time")
    return t


def naive_utc(t: datetime) -> datetime:
    """An instant as naive UTC: for raw driver SQL and the scoring DB's columns (SPEC §4.4)."""
    return _aware(t).astimezone(UTC).replace(tzinfo=None)


def site_time(t: datetime, tz: tzinfo) -> datetime:
    """An instant as the site's naive wall-clock time, comparable with punch times."""
    return _aware(t).astimezone(tz).replace(tzinfo=None)


def utc_of(local: datetime | date, tz: tzinfo) -> datetime:
    """A site wall-clock time (or the start of a site day) as an aware UTC instant."""
    if not isinstance(local, datetime):
        local = datetime.combine(local, time())
    if local.tzinfo is not None:
        raise TypeError(f"utc_of() takes a site wall-clock time, not an aware one ({local.isoformat()})")
    return local.replace(tzinfo=tz).astimezone(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A column of instants: takes aware datetimes, stores naive UTC, gives aware UTC back.

    A naive value is refused when it is written (``TypeError``), so a wall-clock time can never
    be stored as an instant by mistake; what is read back compares safely with the clock.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else naive_utc(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # SQLite through a text() query: SQLAlchemy's own storage format
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
