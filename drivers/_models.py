"""Records every driver yields: punches, device facts, enrolled users.

All timestamps are the terminal's naive local wall-clock time; the site
timezone is attached by the daemon when it stores them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

#: What the store holds of a punch, so that every driver can check a record before it
#: reaches the store: a PIN of at most this many characters, and state, verify and work
#: code as non-negative 32-bit integers (the store's columns, the same on every backend).
PIN_MAX_LEN = 32
INT_FIELD_MAX = 2**31 - 1

#: A PIN a terminal can enrol: digits. ZKTeco firmware numbers its users with digits (1 to 9 of
#: them on most models; up to 24 in the 40-byte record of newer ones); none offers punctuation,
#: spaces or control characters on its keypad, so a PIN with any of those is a damaged record (a
#: corrupted export, line noise), never a member of staff. Letters too (``ZZ``) are what a
#: corrupted export shows; a terminal whose firmware enrols letters says so in its config
#: (``[[devices]] pin_letters = true``) and then ASCII letters pass (docs/decisions.md).
_ENROLABLE_PIN = re.compile(r"[0-9]+", re.ASCII)
_ENROLABLE_PIN_LETTERS = re.compile(r"[A-Za-z0-9]+", re.ASCII)
#: The numeric fields of a punch, by the names messages use.
_INT_FIELDS = ("state", "verify", "work code")


def pin_problem(pin: str, *, letters: bool = False) -> str | None:
    """Why ``pin`` cannot be a PIN a terminal enrolled, or None when it can.

    1 to :data:`PIN_MAX_LEN` digits, or with ``letters`` ASCII letters and digits (see
    ``_ENROLABLE_PIN``); the parsers have already stripped the padding around it. The
    reason shows the PIN with every non-ASCII or control character escaped (``ascii()``),
    so it is plain text on every backend.
    """
    if len(pin) > PIN_MAX_LEN:
        return f"PIN of {len(pin)} characters (at most {PIN_MAX_LEN}): {_shown(pin)}"
    if not pin:
        return "empty PIN"
    if (_ENROLABLE_PIN_LETTERS if letters else _ENROLABLE_PIN).fullmatch(pin) is None:
        allowed = "ASCII letters and digits" if letters else "digits; pin_letters = true for firmware with letters"
        return f"PIN {_shown(pin)} is not one a terminal enrols ({allowed} only)"
    return None


def _shown(text: str, limit: int = 48) -> str:
    """``text`` quoted with non-ASCII and control characters escaped, at most ``limit`` characters."""
    quoted = ascii(text[:limit])
    return quoted if len(quoted) <= limit and len(text) <= limit else quoted[: limit - 1] + "…"


def int_field_problem(name: str, value: int) -> str | None:
    """Why ``value`` does not fit the store's column for field ``name``, or None when it does."""
    if 0 <= value <= INT_FIELD_MAX:
        return None
    shown = str(value) if abs(value) < 10**20 else f"a {value.bit_length()}-bit number"
    return f"{name} {shown} is out of range 0..{INT_FIELD_MAX}"


def punch_problem(punch: Punch, *, pin_letters: bool = False) -> str | None:
    """Why ``punch`` cannot be stored as it is (its PIN, a numeric field), or None.

    The one check every input path's punches pass before the store
    (:func:`daemon.ingest.sort_punches`), so a record is bounded the same way on
    SQLite, PostgreSQL and MariaDB: never truncated, clamped or a driver error.
    Its time is judged elsewhere (plausibility is the daemon's business).
    """
    why = pin_problem(punch.pin, letters=pin_letters)
    if why is not None:
        return why
    for name, value in zip(_INT_FIELDS, (punch.state, punch.verify, punch.work_code), strict=True):
        if not 0 <= value <= INT_FIELD_MAX:
            return int_field_problem(name, value)
    return None


class Punch(NamedTuple):
    """One raw clock-in record as the terminal stored it.

    A NamedTuple rather than a dataclass: immutable like one, and a pull
    builds hundreds of thousands of them, where a tuple is twice as cheap.

    ``state`` is the punch state the staff chose or the terminal inferred
    (0 check-in, 1 check-out, 2 break-out, 3 break-in, 4 overtime-in,
    5 overtime-out); ``verify`` is how they were recognised (0 password,
    1 fingerprint, 2 card, 15 face, ... as the firmware numbers them).
    """

    pin: str
    timestamp: datetime
    state: int = 0
    verify: int = 0
    work_code: int = 0

    def key(self) -> tuple[str, datetime]:
        """The part of the store's natural key that comes from the record."""
        return (self.pin, self.timestamp)


@dataclass(frozen=True, slots=True)
class BadRecord:
    """A record the terminal sent that cannot be a punch (e.g. 31 February).

    Kept, not dropped: the store quarantines it with ``reason`` and the raw
    bytes (hex) so an admin can look at it.
    """

    index: int
    raw: bytes
    reason: str
    pin: str | None = None


@dataclass(frozen=True, slots=True)
class DeviceUser:
    """A user enrolled on a terminal: the PIN staff punch with, and a name."""

    pin: str
    name: str
    uid: int = 0
    privilege: int = 0
    card: int = 0


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """What a terminal says about itself at the start of a pull."""

    serial: str
    firmware: str = ""
    platform: str = ""
    record_count: int = 0
    user_count: int = 0
    clock: datetime | None = None
    #: How many attendance records and users the terminal says it can hold (ZKTeco: the
    #: capacities of CMD_GET_FREE_SIZES); None when it does not say.
    record_capacity: int | None = None
    user_capacity: int | None = None


@dataclass(slots=True)
class AttendanceLog:
    """The whole attendance log read in one transfer."""

    punches: list[Punch] = field(default_factory=list)
    bad: list[BadRecord] = field(default_factory=list)
    record_size: int = 0
    raw_bytes: int = 0
    #: The record count the terminal reported at the start of the transfer, while it was
    #: locked (None when the driver does not say): what a clear of the log is checked against.
    record_count: int | None = None
