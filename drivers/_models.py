"""Records every driver yields: punches, device facts, enrolled users.

All timestamps are the terminal's naive local wall-clock time; the site
timezone is attached by the daemon when it stores them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

#: What the store holds of a punch, so that every driver can check a record before it
#: reaches the store: a PIN of at most this many printable characters, and state,
#: verify and work code as non-negative 32-bit integers (the store's columns).
PIN_MAX_LEN = 32
INT_FIELD_MAX = 2**31 - 1


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


@dataclass(slots=True)
class AttendanceLog:
    """The whole attendance log read in one transfer."""

    punches: list[Punch] = field(default_factory=list)
    bad: list[BadRecord] = field(default_factory=list)
    record_size: int = 0
    raw_bytes: int = 0
