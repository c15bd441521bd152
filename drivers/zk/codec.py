"""The ZKTeco binary protocol as pure functions: packets, checksum, comm key,
time, and the attendance / user record layouts.

Nothing here does I/O; every function is tested byte for byte
(``tests/drivers/zk/test_zk_codec.py``). The client uses the decoders on buffers pyzk
transferred; the simulator uses the encoders to answer like a terminal.

Layout of one packet (UDP payload, or TCP after an 8-byte top header)::

    u16 command | u16 checksum | u16 session id | u16 reply id | payload

TCP wraps every packet in ``u16 0x5050 | u16 0x7D82 | u32 length``: that
framing lives in :mod:`.framer` (``tcp_wrap``, ``tcp_length``, ``TcpFramer``).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from .._models import AttendanceLog, BadRecord, DeviceUser, Punch

# --- commands -------------------------------------------------------------

CMD_DB_RRQ = 7
CMD_USERTEMP_RRQ = 9
CMD_OPTIONS_RRQ = 11
CMD_OPTIONS_WRQ = 12
CMD_ATTLOG_RRQ = 13
CMD_CLEAR_DATA = 14
CMD_CLEAR_ATTLOG = 15
CMD_GET_FREE_SIZES = 50
CMD_GET_PINWIDTH = 69
CMD_GET_TIME = 201
CMD_SET_TIME = 202
CMD_REG_EVENT = 500
CMD_CONNECT = 1000
CMD_EXIT = 1001
CMD_ENABLEDEVICE = 1002
CMD_DISABLEDEVICE = 1003
CMD_RESTART = 1004
CMD_REFRESHDATA = 1013
CMD_GET_VERSION = 1100
CMD_AUTH = 1102
CMD_PREPARE_DATA = 1500
CMD_DATA = 1501
CMD_FREE_DATA = 1502
CMD_PREPARE_BUFFER = 1503  # "read with buffer": ask the terminal to stage a data set
CMD_READ_BUFFER = 1504  # read one chunk of the staged data set

CMD_ACK_OK = 2000
CMD_ACK_ERROR = 2001
CMD_ACK_DATA = 2002
CMD_ACK_UNAUTH = 2005
CMD_ACK_UNKNOWN = 0xFFFF

FCT_ATTLOG = 1
FCT_USER = 5

USHRT_MAX = 0xFFFF
HEADER = struct.Struct("<4H")

#: Largest chunk a TCP client asks for in one CMD_READ_BUFFER (pyzk's choice too).
TCP_MAX_CHUNK = 0xFFC0
#: Largest chunk over UDP, sent as 1024-byte DATA packets.
UDP_MAX_CHUNK = 16 * 1024
UDP_DATA_PACKET = 1024

# --- checksum and packets ---------------------------------------------------


def checksum(data: bytes) -> int:
    """The 16-bit checksum the protocol puts in every header.

    Sum of little-endian 16-bit words (a lone last byte added as is), folded
    with end-around carry, then complemented. Because 65536 ≡ 1 (mod 65535)
    the word sum can be taken from one big integer, which keeps 64 KiB data
    packets cheap.
    """
    if len(data) % 2:
        total = int.from_bytes(data[:-1], "little") + data[-1]
    else:
        total = int.from_bytes(data, "little")
    if total == 0:
        folded = 0
    else:
        folded = total % USHRT_MAX or USHRT_MAX
    value = ~folded
    while value < 0:
        value += USHRT_MAX
    return value


@dataclass(frozen=True, slots=True)
class Packet:
    """One protocol packet, without the TCP top header."""

    command: int
    session_id: int
    reply_id: int
    payload: bytes = b""
    checksum: int = 0


def encode_packet(command: int, session_id: int, reply_id: int, payload: bytes = b"") -> bytes:
    """Header with a correct checksum, then the payload."""
    body = HEADER.pack(command, 0, session_id, reply_id) + payload
    return HEADER.pack(command, checksum(body), session_id, reply_id) + payload


def decode_packet(data: bytes) -> Packet:
    """Split a packet into header fields and payload."""
    if len(data) < HEADER.size:
        raise ValueError(f"packet of {len(data)} bytes is shorter than the 8-byte header")
    command, check, session_id, reply_id = HEADER.unpack_from(data)
    return Packet(command, session_id, reply_id, bytes(data[HEADER.size :]), check)


# --- comm key --------------------------------------------------------------


def comm_key(key: int, session_id: int, ticks: int = 50) -> bytes:
    """The 4-byte CMD_AUTH payload proving we know the terminal's comm key.

    The key's 32 bits are reversed, the session id added, the bytes XORed
    with "ZKSO", the two halves swapped, and the result XORed with a tick
    byte that travels in clear in byte 2.
    """
    reversed_bits = int(f"{key & 0xFFFFFFFF:032b}"[::-1], 2)
    k = (reversed_bits + session_id) & 0xFFFFFFFF
    b = bytearray(k.to_bytes(4, "little"))
    for i, c in enumerate(b"ZKSO"):
        b[i] ^= c
    b = b[2:4] + b[0:2]
    t = ticks & 0xFF
    return bytes((b[0] ^ t, b[1] ^ t, t, b[3] ^ t))


def check_comm_key(payload: bytes, key: int, session_id: int) -> bool:
    """True when a CMD_AUTH payload was made from ``key`` for this session."""
    if len(payload) < 4:
        return False
    return payload[:4] == comm_key(key, session_id, payload[2])


# --- time ------------------------------------------------------------------


def encode_time(t: datetime) -> int:
    """Terminal time: seconds in a calendar of 31-day months from 2000."""
    return (
        ((t.year % 100) * 12 * 31 + (t.month - 1) * 31 + t.day - 1) * 86400 + (t.hour * 60 + t.minute) * 60 + t.second
    )


def split_time(value: int) -> tuple[int, int, int, int, int, int]:
    """(year, month, day, hour, minute, second) of a terminal time, unchecked."""
    value, second = divmod(value, 60)
    value, minute = divmod(value, 60)
    value, hour = divmod(value, 24)
    value, day = divmod(value, 31)
    year, month = divmod(value, 12)
    return year + 2000, month + 1, day + 1, hour, minute, second


def decode_time(value: int) -> datetime:
    """A naive datetime; ValueError for a date that does not exist (31 Feb)."""
    return datetime(*split_time(value))  # noqa: DTZ001 - terminals keep naive local wall-clock time


# --- attendance records ----------------------------------------------------

#: Attendance record layouts by size in bytes.
#:  8: u16 uid, u8 verify (low nibble) | state (high nibble), u8 reserved, u32 time
#:     (pyzk 0.9 reads the time one byte early and gets nonsense dates)
#: 16: u32 user id, u32 time, u8 verify, u8 state, 2 reserved, u32 work code
#: 40: u16 uid, 24s user id, u8 verify, u32 time, u8 state, 8 reserved
#: 49: the 40-byte layout followed by 9 more bytes (2022+ firmware, e.g. MB560-VL;
#:     pyzk 0.9 steps through it 40 bytes at a time and reads garbage after the first)
RECORD_SIZES = (8, 16, 40, 49)
_REC8 = struct.Struct("<HBBI")
_REC16 = struct.Struct("<IIBB2sI")
_REC40 = struct.Struct("<H24sBIB8s")
_REC49 = struct.Struct("<H24sBIB8s9x")


def record_size(total_size: int, record_count: int) -> int:
    """The record layout in use, from the buffer size and the announced count.

    A buffer a few bytes longer than ``count`` whole records (a truncated last
    record) still tells its layout; the leftover becomes a BadRecord.
    """
    if total_size == 0:
        return 0
    if record_count > 0:
        size = total_size // record_count
        if size in RECORD_SIZES and total_size - size * record_count < size:
            return size
    fits = [s for s in RECORD_SIZES if total_size % s == 0]
    if len(fits) == 1:
        return fits[0]
    raise ValueError(f"cannot tell the record size: {total_size} bytes for {record_count} records")


_UNSEEN = object()


class _TimeDecoder:
    """Terminal time value → naive datetime, or None for an impossible date.

    A log spans a few hundred days, so the date part is decoded once per day
    and the time of day added from a table of 86,400 timedeltas: three times
    faster than building every datetime from its six fields.
    """

    _seconds: list[timedelta] = []

    def __init__(self) -> None:
        if not _TimeDecoder._seconds:
            _TimeDecoder._seconds = [timedelta(seconds=s) for s in range(86400)]
        self.seconds = _TimeDecoder._seconds
        self.days: dict[int, datetime | None] = {}

    def __call__(self, value: int) -> datetime | None:
        day, rem = divmod(value, 86400)
        try:
            base = self.days[day]
        except KeyError:
            try:
                base = decode_time(day * 86400)
            except ValueError:
                base = None
            self.days[day] = base
        return None if base is None else base + self.seconds[rem]


def _text(raw: bytes, encoding: str) -> str:
    return raw.split(b"\x00", 1)[0].decode(encoding, errors="replace").strip()


def decode_attendance(
    buffer: bytes,
    record_count: int,
    uid_to_pin: Mapping[int, str] | None = None,
) -> AttendanceLog:
    """Decode an attendance buffer (u32 total size, then records) in one pass.

    One record with an impossible date becomes a :class:`BadRecord`; the rest
    of the log is still decoded. ``uid_to_pin`` maps the terminal's internal
    user number to the PIN for the 8-byte layout, which carries only the uid.
    """
    if len(buffer) < 4:
        return AttendanceLog(raw_bytes=len(buffer))
    (total,) = struct.unpack_from("<I", buffer)
    data = memoryview(buffer)[4 : 4 + total]
    size = record_size(len(data), record_count)
    log = AttendanceLog(record_size=size, raw_bytes=len(buffer))
    if size == 0:
        return log
    whole = len(data) - len(data) % size
    punches = log.punches
    uid_to_pin = uid_to_pin or {}
    decoder = _TimeDecoder()
    days, seconds, when = decoder.days, decoder.seconds, decoder
    # The loops below are the hot path of a pull (200,000 records): one
    # struct call per record, no slicing, and the time of a day already
    # seen computed inline (a method call per record costs a tenth of a pull).
    if size == 8:
        for i, (uid, flags, _res, tv) in enumerate(_REC8.iter_unpack(data[:whole])):
            t = when(tv)
            pin = uid_to_pin.get(uid) or str(uid)
            if t is None:
                log.bad.append(_bad(i, data, size, tv, pin))
                continue
            punches.append(Punch(pin, t, flags >> 4, flags & 0x0F, 0))
    elif size == 16:
        for i, (user_id, tv, verify, state, _res, work) in enumerate(_REC16.iter_unpack(data[:whole])):
            t = when(tv)
            pin = str(user_id)
            if t is None:
                log.bad.append(_bad(i, data, size, tv, pin))
                continue
            punches.append(Punch(pin, t, state, verify, work))
    else:
        rec = _REC40 if size == 40 else _REC49
        pins: dict[tuple[int, bytes], str] = {}  # a log has few PINs: decode each once
        for i, (uid, user_id, verify, tv, state, _res) in enumerate(rec.iter_unpack(data[:whole])):
            base = days.get(tv // 86400, _UNSEEN)
            t = when(tv) if base is _UNSEEN or base is None else base + seconds[tv % 86400]
            try:
                pin = pins[(uid, user_id)]
            except KeyError:
                pin = _text(user_id, "ascii") or uid_to_pin.get(uid) or str(uid)
                pins[(uid, user_id)] = pin
            if t is None:
                log.bad.append(_bad(i, data, size, tv, pin))
                continue
            punches.append(Punch(pin, t, state, verify, 0))
    if whole != len(data):
        log.bad.append(BadRecord(whole // size, bytes(data[whole:]), f"truncated record of {len(data) - whole} bytes"))
    return log


def _bad(index: int, data: memoryview, size: int, value: int, pin: str) -> BadRecord:
    y, mo, d, h, mi, s = split_time(value)
    return BadRecord(
        index,
        bytes(data[index * size : (index + 1) * size]),
        f"invalid timestamp {y:04d}-{mo:02d}-{d:02d} {h:02d}:{mi:02d}:{s:02d}",
        pin,
    )


def encode_attendance_record(size: int, uid: int, punch: Punch, *, time_value: int | None = None) -> bytes:
    """One record in the given layout (for the simulator and tests).

    ``time_value`` overrides the encoded time, to produce impossible dates.
    """
    tv = encode_time(punch.timestamp) if time_value is None else time_value
    if size == 8:
        return _REC8.pack(uid, ((punch.state & 0x0F) << 4) | (punch.verify & 0x0F), 0, tv)
    if size == 16:
        return _REC16.pack(int(punch.pin), tv, punch.verify, punch.state, b"\0\0", punch.work_code)
    if size in (40, 49):
        rec = _REC40.pack(uid, punch.pin.encode("ascii"), punch.verify, tv, punch.state, b"\0" * 8)
        return rec + b"\0" * (size - 40)
    raise ValueError(f"unknown record size {size}")


def with_size_prefix(records: Iterable[bytes]) -> bytes:
    """A data set as the terminal stages it: u32 total size, then the records."""
    body = b"".join(records)
    return struct.pack("<I", len(body)) + body


# --- users -----------------------------------------------------------------

#: 28 bytes (older firmware): u16 uid, u8 privilege, 5s password, 8s name,
#: u32 card, pad, u8 group, i16 timezone, u32 user id
_USER28 = struct.Struct("<HB5s8sIxBhI")
#: 72 bytes: u16 uid, u8 privilege, 8s password, 24s name, u32 card, pad,
#: 7s group, pad, 24s user id
_USER72 = struct.Struct("<HB8s24sIx7sx24s")
USER_SIZES = (28, 72)


def decode_users(buffer: bytes, user_count: int, encoding: str) -> list[DeviceUser]:
    """Decode a user buffer (u32 total size, then records); names in ``encoding``."""
    if len(buffer) < 4 or user_count <= 0:
        return []
    (total,) = struct.unpack_from("<I", buffer)
    data = memoryview(buffer)[4 : 4 + total]
    size = len(data) // user_count if len(data) % user_count == 0 else 0
    if size not in USER_SIZES:
        fits = [s for s in USER_SIZES if len(data) % s == 0]
        if len(fits) != 1:
            raise ValueError(f"cannot tell the user record size: {len(data)} bytes for {user_count} users")
        size = fits[0]
    users = []
    whole = len(data) - len(data) % size
    if size == 28:
        for uid, priv, _pw, name, card, _grp, _tz, user_id in _USER28.iter_unpack(data[:whole]):
            users.append(DeviceUser(str(user_id), _text(name, encoding), uid, priv, card))
    else:
        for uid, priv, _pw, name, card, _grp, user_id in _USER72.iter_unpack(data[:whole]):
            pin = _text(user_id, encoding) or str(uid)
            users.append(DeviceUser(pin, _text(name, encoding), uid, priv, card))
    return users


def encode_user(size: int, user: DeviceUser, encoding: str) -> bytes:
    """One user record in the given layout (for the simulator and tests)."""
    name = user.name.encode(encoding, errors="replace")
    if size == 28:
        return _USER28.pack(user.uid, user.privilege, b"", name[:8], user.card, 1, 0, int(user.pin))
    if size == 72:
        return _USER72.pack(user.uid, user.privilege, b"", name[:24], user.card, b"1", user.pin.encode(encoding))
    raise ValueError(f"unknown user record size {size}")


# --- free sizes --------------------------------------------------------------

_SIZES = struct.Struct("<20i")
_FACES = struct.Struct("<3i")


def encode_free_sizes(users: int, records: int, *, fingers: int = 0, faces: int = 0) -> bytes:
    """CMD_GET_FREE_SIZES answer: 20 counters, then 3 face counters."""
    fields = [0] * 20
    fields[4], fields[6], fields[8] = users, fingers, records
    fields[14], fields[15], fields[16] = 3000, 10000, 200000 if records < 200000 else records * 2
    fields[17], fields[18], fields[19] = 3000 - fingers, 10000 - users, fields[16] - records
    return _SIZES.pack(*fields) + _FACES.pack(faces, 0, 1200)


@dataclass(frozen=True, slots=True)
class FreeSizes:
    users: int
    fingers: int
    records: int
    record_capacity: int


def decode_free_sizes(payload: bytes) -> FreeSizes:
    if len(payload) < _SIZES.size:
        raise ValueError(f"free-sizes answer of {len(payload)} bytes, expected at least 80")
    f = _SIZES.unpack_from(payload)
    return FreeSizes(users=f[4], fingers=f[6], records=f[8], record_capacity=f[16])
