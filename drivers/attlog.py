"""Read the attendance log a ZKTeco terminal exports to a USB stick (``1_attlog.dat``).

One punch per line, tab-separated::

    <PIN, space-padded>\\t<YYYY-MM-DD HH:MM:SS>\\t<device id>\\t<state>\\t<verify>\\t<work code>

with LF or CRLF line ends. Times are the terminal's naive local time, as in
the network protocol. The trailing numeric columns default to 0 when a line
stops early; columns after the sixth are ignored.
"""

from __future__ import annotations

import re
from datetime import datetime
from os import PathLike
from typing import Iterable, Iterator

from ._records import Punch

__all__ = ["parse_attlog_lines", "read_attlog"]

_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", re.ASCII)
_NUMBER_COLUMNS = ("device id", "state", "verify", "work code")


def parse_attlog_lines(lines: Iterable[str]) -> Iterator[tuple[int, Punch | str]]:
    """Yield ``(line number, Punch)`` per good line, ``(line number, error message)`` per bad one.

    Line numbers start at 1; blank lines are skipped; a UTF-8 byte-order mark
    on the first line is ignored.
    """
    for number, line in enumerate(lines, 1):
        text = line.rstrip("\r\n")
        if number == 1:
            text = text.lstrip("\ufeff")
        if not text.strip():
            continue
        fields = text.split("\t")
        if len(fields) < 2:
            yield number, "expected a tab between PIN and time"
            continue
        pin = fields[0].strip()
        if not pin:
            yield number, "empty PIN"
            continue
        stamp = fields[1].strip()
        if not _TIMESTAMP.fullmatch(stamp):
            yield number, f"time {stamp!r} is not YYYY-MM-DD HH:MM:SS"
            continue
        try:
            timestamp = datetime.fromisoformat(stamp)
        except ValueError:
            yield number, f"impossible time {stamp!r}"
            continue
        numbers = [raw.strip() for raw in fields[2:6]]
        bad = [(name, raw) for name, raw in zip(_NUMBER_COLUMNS, numbers) if raw and not _is_number(raw)]
        if bad:
            yield number, f"{bad[0][0]} {bad[0][1]!r} is not a number"
            continue
        values = [int(raw) if raw else 0 for raw in numbers]
        values += [0] * (len(_NUMBER_COLUMNS) - len(values))
        _device, state, verify, work_code = values
        yield number, Punch(pin, timestamp, state, verify, work_code)


def _is_number(raw: str) -> bool:
    return raw.isascii() and raw.isdigit()


def read_attlog(path: str | PathLike[str]) -> list[Punch]:
    """All punches of an export file; ValueError naming the first bad line."""
    punches = []
    with open(path, encoding="utf-8-sig", errors="replace") as lines:
        for number, item in parse_attlog_lines(lines):
            if isinstance(item, str):
                raise ValueError(f"{path}:{number}: {item}")
            punches.append(item)
    return punches
