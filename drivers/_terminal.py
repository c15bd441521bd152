"""The one interface the daemon uses to talk to any terminal."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol, runtime_checkable

from ._models import AttendanceLog, DeviceInfo, DeviceUser


@runtime_checkable
class Terminal(Protocol):
    """A connected session with one terminal.

    Use as a context manager: ``with driver.open() as t: ...``. Every method
    raises only :class:`drivers.TerminalError` subclasses.
    """

    def device_info(self) -> DeviceInfo:
        """Serial, firmware, record / user counts and the terminal's clock."""

    def read_attendance(self) -> AttendanceLog:
        """The whole attendance log; the terminal is locked while it is read."""

    def locked(self) -> AbstractContextManager[None]:
        """Keep the terminal locked (no punches taken) for the whole ``with`` block, unlocked
        after whatever happened; :meth:`read_attendance` inside it neither locks nor unlocks.
        What clearing the log safely needs: the lock held from the read to the clear."""

    def record_count(self) -> int:
        """How many attendance records the terminal holds now."""

    def clear_attendance(self) -> None:
        """Delete every attendance record on the terminal (only ever under :meth:`locked`)."""

    def read_users(self) -> list[DeviceUser]:
        """Users enrolled on the terminal."""

    def read_clock(self) -> datetime:
        """The terminal's clock (naive local time)."""

    def set_clock(self, when: datetime) -> None:
        """Set the terminal's clock (naive local time)."""

    def close(self) -> None:
        """End the session; safe to call twice."""

    def __enter__(self) -> Terminal: ...

    def __exit__(self, *exc: object) -> None: ...
