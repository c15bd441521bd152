"""Record formats: one framed line → a :class:`Punch` or a :class:`BadRecord`.

ZKTeco does not publish what its terminals send on RS232/RS485, and
terminals from other makers (or a serial server's own firmware) send lines
of their own. So a format is data, not code: a regular expression with
named groups

``pin``
    the staff number (surrounding spaces are stripped, as in a USB export);
``time``
    the punch time, read with the format's ``time_formats`` (``strptime``);
    or ``date`` and ``time``, joined with a space before reading;
``state``, ``verify``, ``work_code``
    optional numbers (missing or empty: 0), meaning what they mean on a
    :class:`Punch`.

The pattern must match the whole line (trailing spaces and tabs aside).
Presets cut loosely and :meth:`RecordFormat.parse` checks strictly, so a bad
line is rejected with a precise reason ("state 'x' is not a number") rather
than "does not match". A zero-padded PIN keeps its digits after the zeros
when the pattern says so outside the group (``0*(?P<pin>\\d+)``, as
``compact`` does); otherwise the PIN is taken as written, like
:mod:`drivers.attlog` and the network drivers do.

The presets (:data:`PRESETS`) are *assumptions* about common line formats,
documented one by one below; a site whose terminal sends something else
writes a ``pattern`` in the config.
"""

from __future__ import annotations

import codecs
import re
from datetime import datetime

from .._models import INT_FIELD_MAX, PIN_MAX_LEN, BadRecord, Punch
from ..attlog import _BINARY

__all__ = [
    "DEFAULT_TIME_FORMAT",
    "PRESETS",
    "RecordFormat",
    "check_pattern",
    "check_time_format",
    "resolve_format",
]

DEFAULT_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

#: The longest PIN stored (the store's column width).
PIN_MAX = PIN_MAX_LEN
#: The largest state / verify / work code stored (a 32-bit column).
NUMBER_MAX = INT_FIELD_MAX
_NUMBER_DIGITS = len(str(NUMBER_MAX))  # more digits than this is out of range (and int() of
# a few thousand digits would raise)

_NUMBERS = ("state", "verify", "work_code")
_SAMPLE_TIME = datetime(2026, 3, 2, 8, 55, 1)  # noqa: DTZ001 - a terminal's naive local wall-clock time


def check_time_format(fmt: str) -> str:
    """``fmt`` if it reads back a date with hour and minute; ValueError saying why not."""
    if "%z" in fmt or "%Z" in fmt:
        raise ValueError("terminals keep local wall-clock time: a time format cannot contain %z or %Z")
    try:
        back = datetime.strptime(_SAMPLE_TIME.strftime(fmt), fmt)  # noqa: DTZ007 - naive, as terminals print it
    except ValueError as exc:
        raise ValueError(f"time format {fmt!r} cannot be read back: {exc}") from None
    if back.replace(second=0) != _SAMPLE_TIME.replace(second=0):
        raise ValueError(
            f"time format {fmt!r} must contain the year, month, day, hour and minute (e.g. {DEFAULT_TIME_FORMAT})"
        )
    return fmt


def check_pattern(pattern: str | re.Pattern[str]) -> re.Pattern[str]:
    """The compiled pattern; ValueError when it does not compile or lacks ``pin`` / ``time``."""
    if isinstance(pattern, re.Pattern):
        compiled = pattern
    else:
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from None
    missing = [g for g in ("pin", "time") if g not in compiled.groupindex]
    if missing:
        names = " and ".join(f"(?P<{g}>…)" for g in missing)
        raise ValueError(f"the pattern needs the named group{'s' if len(missing) > 1 else ''} {names}")
    return compiled


class RecordFormat:
    """A line format: a pattern, how to read its times, the text encoding.

    ``layout`` is a short human description used in rejection reasons; the
    constructor validates everything and raises ValueError with a message
    fit for ``file: key.path: message``.
    """

    __slots__ = ("name", "pattern", "time_formats", "encoding", "layout", "description", "example")

    def __init__(
        self,
        name: str,
        pattern: str | re.Pattern[str],
        *,
        time_formats: tuple[str, ...] | str = DEFAULT_TIME_FORMAT,
        encoding: str = "utf-8",
        layout: str = "",
        description: str = "",
        example: str = "",
    ) -> None:
        self.name = name
        self.pattern = check_pattern(pattern)
        formats = (time_formats,) if isinstance(time_formats, str) else tuple(time_formats)
        if not formats:
            raise ValueError("needs at least one time format")
        self.time_formats = tuple(check_time_format(f) for f in formats)
        try:
            self.encoding = codecs.lookup(encoding).name
        except LookupError:
            raise ValueError(f"unknown text encoding {encoding!r}") from None
        self.layout = layout or self.pattern.pattern
        self.description = description
        self.example = example

    def __repr__(self) -> str:
        return f"RecordFormat({self.name!r}, time_formats={self.time_formats!r}, encoding={self.encoding!r})"

    def with_options(self, *, time_format: str | None = None, encoding: str | None = None) -> RecordFormat:
        """This format read with another time format or encoding."""
        return RecordFormat(
            self.name,
            self.pattern,
            time_formats=time_format or self.time_formats,
            encoding=encoding or self.encoding,
            layout=self.layout,
            description=self.description,
            example=self.example,
        )

    def parse(self, frame: bytes, line_no: int) -> Punch | BadRecord:
        """The punch on one line, or why it is not one (never raises).

        ``line_no`` numbers the line in the stream; a BadRecord carries it
        as ``index`` and its reason starts with ``line N:``.
        """
        pin: str | None = None

        def bad(why: str) -> BadRecord:
            return BadRecord(line_no, bytes(frame), f"line {line_no}: {why}", pin)

        try:
            text = frame.decode(self.encoding)
        except UnicodeDecodeError:
            return bad(f"not {self.encoding} text")
        text = text.rstrip(" \t")
        if _BINARY.search(text):
            return bad("binary data, not text")
        m = self.pattern.fullmatch(text)
        if m is None:
            return bad(f"does not match the {self.name} format ({self.layout})")
        groups = m.groupdict()
        candidate = (groups["pin"] or "").strip()
        if not candidate:
            return bad("empty PIN")
        if len(candidate) > PIN_MAX or not candidate.isprintable():
            return bad(f"PIN {candidate[:40]!r} is not printable text of at most {PIN_MAX} characters")
        pin = candidate
        when = (groups["time"] or "").strip()
        if groups.get("date") is not None:
            when = f"{groups['date'].strip()} {when}"
        ts = self._read_time(when)
        if ts is None:
            return bad(f"time {when[:40]!r} is not a real time in the form {' or '.join(self.time_formats)}")
        values = []
        for key in _NUMBERS:
            raw = (groups.get(key) or "").strip()
            if not raw:
                values.append(0)
            elif raw.isascii() and raw.isdigit() and len(raw.lstrip("0")) <= _NUMBER_DIGITS and int(raw) <= NUMBER_MAX:
                values.append(int(raw))
            else:
                return bad(f"{key.replace('_', ' ')} {raw[:20]!r} is not a number")
        return Punch(pin, ts, *values)

    def _read_time(self, text: str) -> datetime | None:
        for fmt in self.time_formats:
            try:
                return datetime.strptime(text, fmt)  # noqa: DTZ007 - the terminal's naive local time
            except ValueError:
                continue
        return None


def _columns(sep: str, names: list[str]) -> str:
    """``pin SEP time [SEP a [SEP b …]] [SEP anything]``, each field loose (no ``sep`` inside)."""
    field = f"[^{re.escape(sep)}]*"
    tail = f"(?:{re.escape(sep)}.*)?"
    for name in reversed(names):
        group = f"(?P<{name}>{field})" if name else field
        tail = f"(?:{re.escape(sep)}{group}{tail})?"
    return f"(?P<pin>{field}){re.escape(sep)}(?P<time>{field}){tail}"


_KV = r"(?:^|.*\t)"  # a key at the start of the line or after a tab


def _kv(keys: str, group: str) -> str:
    return rf"(?:(?={_KV}(?:{keys})=(?P<{group}>[^\t]*)))?"


#: The built-in formats by name. Every one is an assumption about a terminal
#: we could not inspect, chosen to match what ZKTeco-style firmware prints
#: elsewhere (USB exports, ADMS uploads, access-control event logs).
PRESETS: dict[str, RecordFormat] = {
    f.name: f
    for f in (
        RecordFormat(
            "attlog",
            _columns("\t", ["", "state", "verify", "work_code"]),
            layout="PIN<TAB>YYYY-MM-DD HH:MM:SS<TAB>device id<TAB>state<TAB>verify<TAB>work code",
            description="a line of a USB attlog export (1_attlog.dat), the third column being the "
            "device id, which is ignored; the trailing columns may be missing",
            example="     1001\t2026-03-02 08:55:01\t1\t0\t15\t0",
        ),
        RecordFormat(
            "adms",
            _columns("\t", ["state", "verify", "work_code"]),
            layout="PIN<TAB>YYYY-MM-DD HH:MM:SS<TAB>state<TAB>verify<TAB>work code",
            description="a line of an ADMS/PUSH ATTLOG upload: no device id column; extra columns ignored",
            example="1001\t2026-03-02 08:55:01\t0\t15\t0\t0\t0",
        ),
        RecordFormat(
            "csv",
            _columns(",", ["state", "verify", "work_code"]),
            layout="PIN,YYYY-MM-DD HH:MM:SS[,state[,verify[,work code]]]",
            description="comma-separated, no quoting; spaces around fields are ignored",
            example="1001,2026-03-02 08:55:01,0,15",
        ),
        RecordFormat(
            "rtlog",
            rf"(?i)(?={_KV}pin=(?P<pin>[^\t]*))(?={_KV}time=(?P<time>[^\t]*))"
            + _kv("inoutstatus|status|state", "state")
            + _kv("verifytype|verify", "verify")
            + _kv("workcode|work_code", "work_code")
            + r"[^\t=]+=.*",
            layout="key=value fields separated by tabs, with pin= and time=",
            description="a real-time event line of tab-separated key=value fields in any order, keys in any "
            "case, in the style of ZKTeco's access-control rtlog: pin and time required; state from "
            "inoutstatus / status, verify from verifytype / verify, work code from workcode; other keys "
            "(cardno, eventaddr, event, index …) ignored",
            example="time=2026-03-02 08:55:01\tpin=1001\tcardno=0\teventaddr=1\tevent=0\tinoutstatus=0\tverifytype=15",
        ),
        RecordFormat(
            "compact",
            r" *0*(?P<pin>\d+) +(?P<time>\d{14})(?: +(?P<state>\d+)(?: +(?P<verify>\d+)(?: +(?P<work_code>\d+))?)?)? *",
            time_formats="%Y%m%d%H%M%S",
            layout="PIN YYYYMMDDHHMMSS [state [verify [work code]]], PIN zero-padded",
            description="fixed-width digits separated by spaces, as small printers and RS485 "
            "concentrators emit; the PIN's leading zeros are padding and dropped (0000001001 is PIN 1001)",
            example="0000001001 20260302085501 0 15",
        ),
    )
}


def resolve_format(
    format: str = "attlog",  # noqa: A002 - the config key's name
    *,
    pattern: str | None = None,
    time_format: str | None = None,
    encoding: str | None = None,
) -> RecordFormat:
    """The format a device's config describes: a custom ``pattern`` (which wins),
    else the preset named ``format``; ValueError naming the problem."""
    if pattern:
        return RecordFormat(
            "custom",
            pattern,
            time_formats=time_format or DEFAULT_TIME_FORMAT,
            encoding=encoding or "utf-8",
            layout="the configured pattern",
        )
    try:
        preset = PRESETS[format]
    except KeyError:
        raise ValueError(f"unknown format {format!r}; presets: {', '.join(PRESETS)}") from None
    return preset.with_options(time_format=time_format, encoding=encoding)
