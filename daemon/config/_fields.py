"""Value types of the config's fields: checked, annotated types (``ClockTime``, ``MonthDay``,
``Name``, ``Text``, ``DbUrl``) and the checks behind them, each raising its own error type
(listed in :data:`daemon.config._problems._OWN_MESSAGES`) with a finished message."""

from __future__ import annotations

import codecs
import os
import re
import urllib.parse
from collections.abc import Mapping
from datetime import date, time
from pathlib import Path
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
        url = make_url(value)
    except ArgumentError:
        raise PydanticCustomError(
            "db_url",
            "expected a SQLAlchemy database URL such as postgresql+psycopg://user@host/db "
            "or sqlite:////var/lib/attendd/attendd.db, got {got}",
            {"got": mask_url_password(_show(value))},
        ) from None
    if url.get_backend_name() == "sqlite" and _sqlite_in_memory(url.database, url.query):
        raise PydanticCustomError(
            "db_url",
            "an in-memory SQLite database keeps nothing once attendd exits; name a file, "
            "e.g. sqlite:////var/lib/attendd/attendd.db (absolute) or sqlite:///attendd.db "
            "(next to the config file), got {got}",
            {"got": mask_url_password(_show(value))},
        )
    return value


def _sqlite_in_memory(database: str | None, query: Mapping[str, object]) -> bool:
    """Whether a SQLite URL's database lives only in memory: none given (``sqlite://``,
    ``sqlite:///``), ``:memory:``, or a ``file:`` URI with ``mode=memory`` or ``:memory:``."""
    if not database or database == ":memory:":
        return True
    if database.startswith("file:"):
        uri = urllib.parse.urlsplit(database)
        modes = urllib.parse.parse_qs(uri.query).get("mode", []) + [str(query.get("mode", ""))]
        return uri.path in ("", ":memory:") or "memory" in modes
    return False


def _sqlite_beside(url: str, base: Path) -> str:
    """A SQLite URL whose relative database path is taken relative to ``base`` (the config
    file's folder), as ``daemon.state_dir`` is, instead of the daemon's working directory.
    Other URLs, absolute paths and ``file:`` URIs come back unchanged."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database.startswith("file:"):
        return url
    if Path(database).is_absolute():
        return url
    resolved = Path(os.path.abspath(Path(base) / database)).as_posix()
    return parsed.set(database=resolved).render_as_string(hide_password=False)


#: A SQLAlchemy database URL; its password is masked in repr and dumps.
DbUrl = Annotated[str, Field(min_length=1), AfterValidator(_check_db_url)]


def _url_password(url: str | None) -> list[str]:
    """The password of a database URL, in its userinfo or as a ``?password=`` query
    parameter, as written and decoded (both may be logged)."""
    if not url:
        return []
    from sqlalchemy.engine import make_url

    try:
        split = urllib.parse.urlsplit(url)
        as_written = [split.password]  # percent-encoded, as in the file
        as_written += [v for k, v in re.findall(r"[?&]([^=&#]+)=([^&#]*)", url) if k.lower() in _QUERY_KEYS]
    except ValueError:
        as_written = []
    parsed = make_url(url)
    decoded: list[object] = [parsed.password]
    for key, value in parsed.query.items():
        if key.lower() in _QUERY_KEYS:
            decoded += [value] if isinstance(value, str) else list(value)
    return sorted({p for p in as_written + decoded if isinstance(p, str) and p})


#: Query parameters in which database drivers take a password (``?password=…``).
_QUERY_KEYS = ("password", "passwd", "pwd")
