"""Simulated device state: the fake terminal's attendance log, users, clock,
counters of the commands it received, and the :class:`Faults` to inject.

The bottom layer of the simulator (see :mod:`drivers.zk.simulator`): plain
state behind one lock, with the data sets encoded the way a terminal stages
them (:meth:`SimulatedTerminal.attendance_buffer`,
:meth:`SimulatedTerminal.user_buffer`). It knows nothing of sessions,
packets or sockets; :mod:`.handler` asks it for what a request needs.
"""

from __future__ import annotations

import collections
import random
import struct
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..._models import DeviceUser, Punch
from .. import codec
from .synthetic import make_users

__all__ = ["Faults", "SimulatedTerminal"]


@dataclass
class Faults:
    """Misbehaviour to inject; change the fields at any time, they are read per request."""

    #: Close the TCP connection (or stop answering over UDP) while serving the
    #: Nth CMD_READ_BUFFER chunk (1-based) of an attendance read: half of that
    #: chunk's reply reaches the client (PREPARE_DATA and part of the data), then
    #: nothing more. Counted again from 1 for every attendance read.
    drop_after_chunks: int | None = None
    #: Seconds to wait before every reply.
    reply_delay: float = 0.0
    #: Seconds between the PREPARE_DATA, DATA and ACK_OK packets of one chunk
    #: (clients that handle one packet per socket read need them apart).
    packet_pause: float = 0.0
    #: Indexes of attendance records sent with an impossible date (31 February).
    invalid_dates: frozenset[int] = frozenset()
    #: Demand CMD_AUTH (even without a comm key) and always refuse it.
    refuse_auth: bool = False
    #: Answer CMD_PREPARE_BUFFER for the attendance log with CMD_ACK_ERROR.
    fail_attendance_read: bool = False
    #: With ``drop_after_chunks``: end the TCP connection with a reset (RST)
    #: instead of an orderly close (FIN). pyzk 0.9 spins forever on a FIN in
    #: the middle of a chunk; a reset makes it raise ConnectionResetError.
    drop_with_reset: bool = False
    #: Punches recorded just after the attendance log is staged for a read (a staff member
    #: punching mid-pull, as on a terminal whose lock lapsed): the read does not carry them,
    #: the record count afterwards does. Used once, then emptied.
    punches_during_read: tuple[Punch, ...] = ()
    #: Hang up on CMD_CLEAR_ATTLOG without clearing (the connection drops between the
    #: store's commit and the clear).
    drop_on_clear: bool = False


def _impossible_time(t: datetime) -> int:
    """Terminal time value for 31 February of ``t``'s year, at ``t``'s time of day."""
    return ((t.year % 100) * 12 * 31 + 31 + 30) * 86400 + (t.hour * 60 + t.minute) * 60 + t.second


class SimulatedTerminal:
    """The state of one fake terminal; every public method is thread-safe.

    ``users=None`` enrols one user per distinct PIN in ``punches`` (see
    :func:`make_users`). ``record_size`` (8, 16, 40, 49) and ``user_size``
    (28, 72) pick the record layouts the terminal sends; names are encoded in
    ``encoding``. ``clock`` returns the base naive local time (default: the
    host's); :meth:`set_clock` and CMD_SET_TIME shift it.

    ``record_capacity`` and ``user_capacity`` are what CMD_GET_FREE_SIZES reports the
    terminal can hold; ``when_full`` is what a full log does with the next punch, as the
    firmware setting says (``"stop"``: it is refused, the default of most ZKTeco models;
    ``"overwrite"``: the oldest record goes; see docs/decisions.md).

    ``punches`` and ``users`` are plain lists: tests may change them directly
    between transfers (hold ``lock`` if a server is running). ``counters``
    counts every command received, e.g. ``counters[codec.CMD_ENABLEDEVICE]``,
    so a test can check that a client re-enabled the device. ``faults`` may
    be replaced or changed at any time.
    """

    def __init__(
        self,
        *,
        serial: str = "SIM00000001",
        punches: Iterable[Punch] = (),
        users: Iterable[DeviceUser] | None = None,
        comm_key: int = 0,
        record_size: int = 40,
        user_size: int = 72,
        encoding: str = "gbk",
        firmware: str = "Ver 6.60 Apr 28 2021",
        platform: str = "ZMM220_TFT",
        clock: Callable[[], datetime] | None = None,
        faults: Faults | None = None,
        record_capacity: int | None = None,
        user_capacity: int = 10_000,
        when_full: str = "stop",
    ) -> None:
        if record_size not in codec.RECORD_SIZES:
            raise ValueError(f"record_size must be one of {codec.RECORD_SIZES}")
        if user_size not in codec.USER_SIZES:
            raise ValueError(f"user_size must be one of {codec.USER_SIZES}")
        if when_full not in ("stop", "overwrite"):
            raise ValueError('when_full must be "stop" or "overwrite"')
        self.lock = threading.RLock()
        self.serial = serial
        self.punches: list[Punch] = list(punches)
        self.users: list[DeviceUser] = (
            list(users)
            if users is not None
            else make_users((p.pin for p in self.punches), encoding=encoding, user_size=user_size)
        )
        self.comm_key = comm_key
        self.record_size = record_size
        self.user_size = user_size
        self.encoding = encoding
        self.firmware = firmware
        self.platform = platform
        self.faults = faults if faults is not None else Faults()
        # by default room to spare: 200 000 records, or twice the log for a larger one
        self.record_capacity = max(record_capacity or 200_000, len(self.punches) * (1 if record_capacity else 2))
        self.user_capacity = max(user_capacity, len(self.users))
        self.when_full = when_full
        self.enabled = True
        self.clears: list[bool] = []
        self.counters: collections.Counter[int] = collections.Counter()
        #: CMD_OPTIONS_RRQ answers that override or extend the built-in ones.
        self.options: dict[str, str] = {}
        self._clock = clock or datetime.now
        self._offset = timedelta()
        self._last_session = random.Random(serial).randrange(0x100, 0xF000)

    # -- clock

    def clock_now(self) -> datetime:
        """The terminal's clock (naive local time, whole seconds)."""
        with self.lock:
            return (self._clock() + self._offset).replace(microsecond=0)

    def set_clock(self, when: datetime) -> None:
        """Make the clock run on from ``when`` (kept as an offset from the base clock)."""
        with self.lock:
            self._offset = when - self._clock()

    # -- log

    def add_punches(self, punches: Iterable[Punch]) -> int:
        """Append punches, as if staff clocked in; returns how many the terminal took.

        A full log (``record_capacity``) refuses the rest with ``when_full = "stop"`` and drops
        its oldest records for them with ``"overwrite"``.
        """
        with self.lock:
            taken = 0
            for p in punches:
                if len(self.punches) >= self.record_capacity:
                    if self.when_full == "stop":
                        continue
                    del self.punches[0]
                self.punches.append(p)
                taken += 1
            return taken

    def clear_log(self) -> None:
        """The admin cleared the attendance log: the record count drops to 0.

        ``clears`` keeps, for each clear, whether the terminal was locked (disabled) then.
        """
        with self.lock:
            self.clears.append(not self.enabled)
            self.punches.clear()

    # -- what the protocol handler asks for

    def option(self, name: str) -> str | None:
        """The value CMD_OPTIONS_RRQ returns for ``name``; None if the terminal has no such option."""
        with self.lock:
            if name in self.options:
                return self.options[name]
            mac = "00:17:61:" + ":".join(f"{b:02x}" for b in self.serial.encode()[-3:].rjust(3, b"\0"))
            return {
                "~SerialNumber": self.serial,
                "~Platform": self.platform,
                "~DeviceName": "SIM-" + self.platform.split("_")[0],
                "~ZKFPVersion": "10",
                "~ExtendFmt": "0",
                "~UserExtFmt": "1" if self.user_size == 72 else "0",
                "FaceFunOn": "0",
                "CompatOldFirmware": "0",
                "MAC": mac,
                "IPAddress": "192.168.1.201",
                "NetMask": "255.255.255.0",
                "GATEIPAddress": "192.168.1.1",
            }.get(name)

    def new_session_id(self) -> int:
        """A fresh session id for CMD_CONNECT (never 0)."""
        with self.lock:
            self._last_session = self._last_session % 0xFFFF + 1
            return self._last_session

    def count(self, command: int) -> None:
        """Record that ``command`` was received."""
        with self.lock:
            self.counters[command] += 1

    def free_sizes(self) -> bytes:
        """The CMD_GET_FREE_SIZES answer: user and record counts, capacities."""
        with self.lock:
            reply = bytearray(codec.encode_free_sizes(len(self.users), len(self.punches)))
            users, records = len(self.users), len(self.punches)
            # fields 15, 16: user and record capacity; 18, 19: what is left of them (i32 each)
            room = (
                self.user_capacity,
                self.record_capacity,
                self.user_capacity - users,
                self.record_capacity - records,
            )
            for index, value in zip((15, 16, 18, 19), room, strict=True):
                struct.pack_into("<i", reply, index * 4, value)
            return bytes(reply)

    def attendance_buffer(self) -> bytes:
        """The attendance log as staged for a buffered read: u32 size, then records."""
        with self.lock:
            punches = list(self.punches)
            arriving, self.faults.punches_during_read = self.faults.punches_during_read, ()
            self.punches.extend(arriving)  # recorded after the log was staged: not in this read
            invalid = self.faults.invalid_dates
            size = self.record_size
            uid_of = {u.pin: u.uid for u in self.users}
        encode = codec.encode_attendance_record
        records: list[bytes] = []
        append = records.append
        for i, p in enumerate(punches):
            uid = uid_of.get(p.pin)
            if uid is None:
                uid = int(p.pin) & 0xFFFF if p.pin.isascii() and p.pin.isdigit() else 0
            bad = _impossible_time(p.timestamp) if invalid and i in invalid else None
            append(encode(size, uid, p, time_value=bad))
        return codec.with_size_prefix(records)

    def user_buffer(self) -> bytes:
        """The user table as staged for a buffered read."""
        with self.lock:
            users = list(self.users)
            size, encoding = self.user_size, self.encoding
        return codec.with_size_prefix(codec.encode_user(size, u, encoding) for u in users)
