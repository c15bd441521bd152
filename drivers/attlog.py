"""Read the attendance log a ZKTeco terminal exports to a USB stick (``1_attlog.dat``).

One punch per line, tab-separated::

    <PIN, space-padded>\\t<YYYY-MM-DD HH:MM:SS>\\t<device id>\\t<state>\\t<verify>\\t<work code>

with LF or CRLF line ends. Times are the terminal's naive local time, as in
the network protocol. The trailing numeric columns default to 0 when a line
stops early; columns after the sixth are ignored.

Some firmware frames the log (SPEC §4.3). :func:`scan_attlog` accounts for
every line of a file as exactly one of:

``punch``
    a good record.
``bad``
    shaped like a record but its time is not a real date or time
    (``2026-02-31 08:00:00``, ``25:00:00``), or its state, verify or work
    code is beyond what the store holds (0..2³¹−1): a BadRecord to
    quarantine, never a punch and never a rejection. (Whether its PIN is one a
    terminal enrols is judged for every input path alike, by
    :func:`drivers.punch_problem` before the store.)
``header``
    the serial-number line: the *first non-blank line* of the file when it
    has no tab and is one token of 6–64 ASCII letters and digits with at
    least one letter (ZKTeco serials such as ``OGT2060012345``). A PIN on its
    own is all digits, so it is never taken for a serial.
``trailer``
    the checksum line: the *last non-blank line* of the file (not the
    header) when it has no tab, does not start with whitespace, and is one
    token of 4–128 characters from ``A-Z a-z 0-9 + / = : _ -`` (hex, base64,
    ``CRC:1A2B``). The checksum is not verified: its algorithm is not
    documented. A lone padded PIN starts with spaces and is rejected instead.
``blank``
    empty or whitespace only.
``rejected``
    anything else, with a reason (no tab, empty PIN, time not
    ``YYYY-MM-DD HH:MM:SS``, non-numeric column, binary data).

:func:`read_attlog_file` refuses a file that is not a text attendance log at
all (an encrypted or binary export) with :class:`AttlogNotText`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from os import PathLike
from typing import Literal, NamedTuple

from ._models import INT_FIELD_MAX, BadRecord, Punch

__all__ = [
    "AttlogLine",
    "AttlogNotText",
    "AttlogScan",
    "parse_attlog_lines",
    "read_attlog",
    "read_attlog_file",
    "scan_attlog_bytes",
    "scan_attlog",
    "split_lines",
]

_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", re.ASCII)
_NUMBER_COLUMNS = ("device id", "state", "verify", "work code")
_INT_DIGITS = len(str(INT_FIELD_MAX))
_SERIAL = re.compile(r"(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{6,64}", re.ASCII)
_CHECKSUM = re.compile(r"[A-Za-z0-9+/=:_-]{4,128}", re.ASCII)
# Control characters other than tab (and the line ends already stripped), and
# U+FFFD, which stands for bytes that were not text.
_BINARY = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ufffd]")

Kind = Literal["punch", "bad", "header", "trailer", "blank", "rejected"]


class AttlogLine(NamedTuple):
    """What one line of an export is (see the module docstring for the kinds)."""

    number: int
    kind: Kind
    text: str
    punch: Punch | None = None
    reason: str | None = None
    pin: str | None = None

    def bad_record(self) -> BadRecord:
        """A ``bad`` line as the BadRecord every driver yields."""
        return BadRecord(self.number, self.text.encode("utf-8", "replace"), self.reason or "bad record", self.pin)


class AttlogNotText(ValueError):
    """The file is not a readable attendance log (encrypted or binary export)."""


def _strip(line: str, number: int) -> str:
    text = line.rstrip("\r\n")
    if number == 1:
        text = text.lstrip("\ufeff")
    return text


def _record(number: int, text: str) -> AttlogLine:
    """Classify a line as punch, bad or rejected."""
    if _BINARY.search(text):
        return AttlogLine(number, "rejected", text, reason="binary data, not text")
    fields = text.split("\t")
    if len(fields) < 2:
        return AttlogLine(number, "rejected", text, reason="expected a tab between PIN and time")
    pin = fields[0].strip()
    if not pin:
        return AttlogLine(number, "rejected", text, reason="empty PIN")
    stamp = fields[1].strip()
    if not _TIMESTAMP.fullmatch(stamp):
        return AttlogLine(number, "rejected", text, reason=f"time {stamp!r} is not YYYY-MM-DD HH:MM:SS", pin=pin)
    numbers = [raw.strip() for raw in fields[2:6]]
    # strict=False: a line may stop before its last numeric columns (they default to 0)
    bad = [(name, raw) for name, raw in zip(_NUMBER_COLUMNS, numbers, strict=False) if raw and not _is_number(raw)]
    if bad:
        return AttlogLine(number, "rejected", text, reason=f"{bad[0][0]} {bad[0][1]!r} is not a number", pin=pin)
    try:
        timestamp = datetime.fromisoformat(stamp)
    except ValueError:
        return AttlogLine(number, "bad", text, reason=f"impossible time {stamp!r}", pin=pin)
    # The device id (first) is not kept, so never converted: a digit string of any length is fine.
    numbers += [""] * (len(_NUMBER_COLUMNS) - len(numbers))
    values = []
    for name, raw in zip(_NUMBER_COLUMNS[1:], numbers[1:], strict=True):
        digits = raw.lstrip("0")
        if len(digits) > _INT_DIGITS or (digits and int(digits) > INT_FIELD_MAX):
            return AttlogLine(
                number, "bad", text, reason=f"{name} {raw[:20]} is out of range 0..{INT_FIELD_MAX}", pin=pin
            )
        values.append(int(digits) if digits else 0)
    state, verify, work_code = values
    return AttlogLine(number, "punch", text, punch=Punch(pin, timestamp, state, verify, work_code), pin=pin)


def scan_attlog(lines: Iterable[str]) -> Iterator[AttlogLine]:
    """Yield one :class:`AttlogLine` per input line, in order, numbered from 1.

    Never raises for any text. A trailer candidate (and the blank lines after
    it) is held back until the next non-blank line or the end shows whether
    it really is the last line.
    """
    seen_content = False
    held: list[tuple[int, str]] = []  # a trailer candidate, then blank lines
    for number, line in enumerate(lines, 1):
        text = _strip(line, number)
        if not text.strip():
            if held:
                held.append((number, text))
            else:
                yield AttlogLine(number, "blank", text)
            continue
        if held:
            first_no, first_text = held[0]
            yield _record(first_no, first_text)
            for n, t in held[1:]:
                yield AttlogLine(n, "blank", t)
            held = []
        first = not seen_content
        seen_content = True
        if "\t" not in text:
            if first and _SERIAL.fullmatch(text.rstrip()):
                yield AttlogLine(number, "header", text)
                continue
            if not first and _CHECKSUM.fullmatch(text.rstrip()):
                held.append((number, text))
                continue
        yield _record(number, text)
    if held:
        yield AttlogLine(held[0][0], "trailer", held[0][1])
        for n, t in held[1:]:
            yield AttlogLine(n, "blank", t)


def parse_attlog_lines(lines: Iterable[str]) -> Iterator[tuple[int, Punch | str]]:
    """Yield ``(line number, Punch)`` per good line, ``(line number, error message)`` per bad one.

    Line numbers start at 1; blank lines, a serial-number first line and a
    checksum last line are skipped; a UTF-8 byte-order mark on the first line
    is ignored. Lines that are records with an impossible time are errors
    here (use :func:`scan_attlog` to tell them from malformed lines).
    """
    for item in scan_attlog(lines):
        if item.kind == "punch":
            yield item.number, item.punch  # type: ignore[misc]
        elif item.kind in ("bad", "rejected"):
            yield item.number, item.reason or "bad line"


def _is_number(raw: str) -> bool:
    return raw.isascii() and raw.isdigit()


class AttlogScan(NamedTuple):
    """Every line of one export file, classified."""

    lines: list[AttlogLine]

    @property
    def serial(self) -> str | None:
        """The serial number on the header line, if the file has one."""
        for item in self.lines:
            if item.kind == "header":
                return item.text.strip()
        return None

    def of(self, kind: Kind) -> list[AttlogLine]:
        return [item for item in self.lines if item.kind == kind]


#: A text export has no control bytes besides tab, CR and LF; allow a few
#: stray ones (a damaged line is rejected on its own) before calling the
#: whole file binary.
_MAX_CONTROL_SHARE = 0.01
_CONTROL_BYTES = bytes([*range(0x01, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])


def split_lines(text: str) -> list[str]:
    """The lines of a file's text as ``wc -l`` sees them, plus an unterminated last one.

    Only LF ends a line (CRLF is LF with a CR before it, stripped later); unlike
    :meth:`str.splitlines`, form feeds and Unicode separators do not.
    """
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def read_attlog_file(path: str | PathLike[str]) -> AttlogScan:
    """Classify every line of an export file (UTF-8, optional BOM, LF or CRLF).

    Raises :class:`AttlogNotText` when the file is not a text attendance log:
    it contains NUL bytes, more than 1% control bytes, more than 1% bytes that
    are not UTF-8, or not one line of it is a record (punch or bad) although it
    has lines that are neither blank, header nor trailer — what an encrypted
    export looks like. OSError when it cannot be read.
    """
    with open(path, "rb") as f:
        return scan_attlog_bytes(f.read(), name=str(path))


def scan_attlog_bytes(data: bytes, *, name: str) -> AttlogScan:
    """:func:`read_attlog_file` for bytes already read; ``name`` is the file's name in messages."""
    refuse = (
        f"{name}: not a readable attendance log (binary or encrypted export?); "
        "export it again from the terminal's USB menu without encryption"
    )
    if b"\x00" in data:
        raise AttlogNotText(refuse)
    control = len(data) - len(data.translate(None, _CONTROL_BYTES))
    text = data.decode("utf-8", errors="replace")
    undecodable = text.count("\ufffd") - data.decode("utf-8", errors="ignore").count("\ufffd")
    if data and control + undecodable > _MAX_CONTROL_SHARE * len(data):
        raise AttlogNotText(refuse)
    if text.startswith("\ufeff"):
        text = text[1:]
    scan = AttlogScan(list(scan_attlog(split_lines(text))))
    kinds = {item.kind for item in scan.lines}
    if "rejected" in kinds and not kinds & {"punch", "bad"}:
        raise AttlogNotText(refuse)
    return scan


def read_attlog(path: str | PathLike[str]) -> list[Punch]:
    """All punches of an export file; ValueError naming the first bad line."""
    punches = []
    with open(path, encoding="utf-8-sig", errors="replace") as lines:
        for number, item in parse_attlog_lines(lines):
            if isinstance(item, str):
                raise ValueError(f"{path}:{number}: {item}")
            punches.append(item)
    return punches
