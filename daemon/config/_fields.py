"""Value types of the config's fields: checked, annotated types (``ClockTime``, ``MonthDay``,
``Name``, ``Text``, ``DbUrl``) and the checks behind them, each raising its own error type
(listed in :data:`daemon.config._problems._OWN_MESSAGES`) with a finished message."""

from __future__ import annotations

import codecs
import re
import urllib.parse
from datetime import date, time
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, PlainSerializer
from pydantic_core import PydanticCustomError

from ..logging import mask_url_password
from ._utils import _show

_HHMM = re.compile(r"^(\d{1,2}):(\d{2})$")


def _parse_clock(value: object) -> time:
    """``"HH:MM"`` (or a TOML local time with zero seconds) → :class:`datetime.time`."""
    if isinstance(value, time) and value.tzinfo is None and not value.second and not value.microsecond:
        return value
    if isinstance(value, str) and (m := _HHMM.match(value)):
        hour, minute = int(m[1]), int(m[2])
        if hour < 24 and minute < 60:
            return time(hour, minute)
    raise PydanticCustomError("clock_time", 'expected "HH:MM", got {got}', {"got": _show(value)})


#: A wall-clock time of day written ``"HH:MM"``; dumps back to ``"HH:MM"``.
ClockTime = Annotated[time, BeforeValidator(_parse_clock), PlainSerializer(lambda t: t.strftime("%H:%M"))]

_MMDD = re.compile(r"^(\d{2})-(\d{2})$")


def _check_month_day(value: object) -> str:
    """``"MM-DD"`` naming a real day of a leap year (``02-29`` allowed)."""
    if isinstance(value, str) and (m := _MMDD.match(value)):
        try:
            date(2024, int(m[1]), int(m[2]))
        except ValueError:
            pass
        else:
            return value
    raise PydanticCustomError("month_day", 'expected "MM-DD", got {got}', {"got": _show(value)})


#: A day of the year written ``"MM-DD"`` (seasonal timetables).
MonthDay = Annotated[str, BeforeValidator(_check_month_day)]

_NAME = re.compile(r"^[\w.\-]+$")


def _check_name(value: str) -> str:
    if not _NAME.match(value):
        raise PydanticCustomError(
            "name", 'expected letters, digits, "_", "-" or ".", no spaces, got {got}', {"got": _show(value)}
        )
    return value


#: A name other keys refer to (device, timetable, policy, window code, slot).
Name = Annotated[str, Field(min_length=1), AfterValidator(_check_name)]

#: Free text that must not be empty (display names).
Text = Annotated[str, Field(min_length=1)]


def _check_encoding(value: str) -> str:
    try:
        codecs.lookup(value)
    except LookupError:
        raise PydanticCustomError("encoding", "unknown text encoding {got}", {"got": _show(value)}) from None
    return value


def _check_db_url(value: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        make_url(value)
    except ArgumentError:
        raise PydanticCustomError(
            "db_url",
            "expected a SQLAlchemy database URL such as postgresql+psycopg://user@host/db "
            "or sqlite:////var/lib/attendd/attendd.db, got {got}",
            {"got": mask_url_password(_show(value))},
        ) from None
    return value


#: A SQLAlchemy database URL; its password is masked in repr and dumps.
DbUrl = Annotated[str, Field(min_length=1), AfterValidator(_check_db_url)]


def _url_password(url: str | None) -> list[str]:
    """The password of a database URL, as written and decoded (both may be logged)."""
    if not url:
        return []
    from sqlalchemy.engine import make_url

    try:
        as_written = urllib.parse.urlsplit(url).password  # percent-encoded, as in the file
    except ValueError:
        as_written = None
    return sorted(p for p in {make_url(url).password, as_written} if p)
