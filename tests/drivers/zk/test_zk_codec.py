"""Byte-level tests of drivers.zk.codec, checked against pyzk 0.9 where pyzk is right
and showing where it is not (8-byte and 49-byte attendance records)."""

from __future__ import annotations

import random
import struct
from datetime import datetime

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from zk import ZK
from zk.base import make_commkey

from drivers import BadRecord, DeviceUser, Punch
from drivers.zk import codec, framer

# pyzk keeps these as private methods that never touch ``self``.
pyzk_checksum = ZK._ZK__create_checksum
pyzk_decode_time = ZK._ZK__decode_time
pyzk_encode_time = ZK._ZK__encode_time
pyzk_tcp_top = ZK._ZK__create_tcp_top

terminal_times = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31, 23, 59, 59)).map(
    lambda t: t.replace(microsecond=0)
)


def impossible_time(year: int, hour: int = 8, minute: int = 30) -> int:
    """Terminal time value of 31 February ``year``."""
    return ((year % 100) * 12 * 31 + 1 * 31 + 30) * 86400 + (hour * 60 + minute) * 60


# --- checksum, packets, TCP frames ---------------------------------------------------


@given(st.binary(max_size=600))
def test_checksum_matches_pyzk(data: bytes) -> None:
    assert struct.pack("<H", codec.checksum(data)) == pyzk_checksum(None, tuple(data))


@pytest.mark.parametrize(
    "data",
    [b"", b"\x00", b"\xff", b"\xff\xff", b"\xff\xff" * 3, b"\x00\x80\xff\x7f", b"\xfe\xff\x01", bytes(range(256)) * 4],
)
def test_checksum_edge_cases_match_pyzk(data: bytes) -> None:
    # sums of 0 and of exact multiples of 65535 are where folding goes wrong
    assert struct.pack("<H", codec.checksum(data)) == pyzk_checksum(None, tuple(data))


def test_checksum_of_a_full_tcp_chunk() -> None:
    """The big-integer shortcut equals the word-by-word fold on a 64 KiB DATA payload
    (pyzk's own loop is quadratic, too slow to compare at this size)."""
    data = random.Random(7).randbytes(codec.TCP_MAX_CHUNK + 17)
    total = 0
    for (word,) in struct.iter_unpack("<H", data[:-1]):
        total += word
        if total > 0xFFFF:
            total -= 0xFFFF
    total += data[-1]
    while total > 0xFFFF:
        total -= 0xFFFF
    assert codec.checksum(data) == (0xFFFF - 1 - total) % 0xFFFF


def test_encode_packet_header_and_checksum() -> None:
    packet = codec.encode_packet(codec.CMD_GET_TIME, 0x1234, 7, b"\x01\x02\x03")
    command, check, session, reply = struct.unpack_from("<4H", packet)
    assert (command, session, reply, packet[8:]) == (codec.CMD_GET_TIME, 0x1234, 7, b"\x01\x02\x03")
    unchecked = struct.pack("<4H", command, 0, session, reply) + packet[8:]
    assert check == codec.checksum(unchecked)
    decoded = codec.decode_packet(packet)
    assert decoded == codec.Packet(codec.CMD_GET_TIME, 0x1234, 7, b"\x01\x02\x03", check)


def test_decode_packet_rejects_short_data() -> None:
    with pytest.raises(ValueError):
        codec.decode_packet(b"\x00" * 7)


def test_tcp_top_header_matches_pyzk_and_the_wire() -> None:
    packet = codec.encode_packet(codec.CMD_CONNECT, 0, 0xFFFE)
    wrapped = framer.tcp_wrap(packet)
    assert wrapped == pyzk_tcp_top(None, packet)
    assert wrapped[:4] == b"PP\x82\x7d"  # 0x5050, 0x7D82 little-endian
    assert framer.tcp_length(wrapped) == len(packet) == 8


def test_tcp_length_rejects_bad_magic() -> None:
    with pytest.raises(ValueError):
        framer.tcp_length(b"PP\x82\x72\x08\x00\x00\x00")
    with pytest.raises(ValueError):
        framer.tcp_length(b"PP\x82")


# --- comm key -----------------------------------------------------------------------------


@given(st.integers(0, 999_999_999), st.integers(0, 0xFFFF), st.integers(0, 255))
def test_comm_key_matches_pyzk(key: int, session_id: int, ticks: int) -> None:
    try:
        expected = make_commkey(key, session_id, ticks)
    except struct.error:
        assume(False)  # pyzk overflows u32 when reversed key + session id >= 2**32
    assert codec.comm_key(key, session_id, ticks) == expected


@given(st.integers(0, 999_999), st.integers(1, 0xFFFF), st.integers(0, 255))
def test_check_comm_key(key: int, session_id: int, ticks: int) -> None:
    payload = codec.comm_key(key, session_id, ticks)
    assert codec.check_comm_key(payload, key, session_id)
    assert not codec.check_comm_key(payload, key + 1, session_id)
    # The scheme drops the low byte of (reversed key + session id) — the tick
    # byte travels in its place — so only sessions differing above it differ.
    assert codec.check_comm_key(payload, key, session_id ^ 0x01)  # keys below 2**24 reverse to a zero low byte
    assert not codec.check_comm_key(payload, key, (session_id + 0x100) & 0xFFFF)
    assert not codec.check_comm_key(payload[:3], key, session_id)


# --- time ----------------------------------------------------------------------------------


@given(terminal_times)
def test_time_round_trip_and_pyzk_agreement(t: datetime) -> None:
    value = codec.encode_time(t)
    assert value == pyzk_encode_time(None, t)
    assert codec.decode_time(value) == t == pyzk_decode_time(None, struct.pack("<I", value))


def test_decode_time_known_value() -> None:
    assert codec.decode_time(514321320) == datetime(2016, 1, 1, 19, 2)


def test_impossible_date_raises() -> None:
    value = impossible_time(2026)
    assert codec.split_time(value) == (2026, 2, 31, 8, 30, 0)
    with pytest.raises(ValueError):
        codec.decode_time(value)


# --- attendance records -------------------------------------------------------------------

ISSUE_99_RECORD = bytes.fromhex("07002800a8eba71e")  # pyzk issue #99, an 8-byte record


def test_8_byte_record_from_pyzk_issue_99() -> None:
    log = codec.decode_attendance(codec.with_size_prefix([ISSUE_99_RECORD]), 1)
    assert log.record_size == 8
    assert log.bad == []
    assert log.punches == [Punch("7", datetime(2016, 1, 1, 19, 2), state=2, verify=8)]
    mapped = codec.decode_attendance(codec.with_size_prefix([ISSUE_99_RECORD]), 1, {7: "1007"})
    assert mapped.punches[0].pin == "1007"


def test_pyzk_8_byte_unpack_gets_the_time_wrong() -> None:
    # pyzk 0.9 get_attendance: unpack('HB4sB', record) takes the time from bytes 3..6
    uid, status, timestamp, punch = struct.unpack("HB4sB", ISSUE_99_RECORD)
    assert (uid, status) == (7, 0x28)
    assert pyzk_decode_time(None, timestamp) == datetime(2087, 8, 26, 22, 24)  # not 2016-01-01 19:02
    assert punch == 0x1E  # the time's top byte, not a punch state


def test_8_byte_encode_matches_issue_99() -> None:
    punch = Punch("7", datetime(2016, 1, 1, 19, 2), state=2, verify=8)
    assert codec.encode_attendance_record(8, 7, punch) == ISSUE_99_RECORD


punches = st.builds(
    Punch,
    pin=st.integers(1, 99_999_999).map(str),
    timestamp=terminal_times,
    state=st.integers(0, 5),
    verify=st.integers(0, 15),
    work_code=st.integers(0, 0xFFFF),
)


@pytest.mark.parametrize("size", [16, 40, 49])
@given(records=st.lists(punches, min_size=1, max_size=20))
def test_attendance_round_trip(size: int, records: list[Punch]) -> None:
    buffer = codec.with_size_prefix(codec.encode_attendance_record(size, i + 1, p) for i, p in enumerate(records))
    assert len(buffer) == 4 + size * len(records)
    log = codec.decode_attendance(buffer, len(records))
    assert log.record_size == size
    assert log.bad == []
    # only the 16-byte layout carries a work code
    expected = records if size == 16 else [Punch(p.pin, p.timestamp, p.state, p.verify, 0) for p in records]
    assert log.punches == expected


@given(records=st.lists(punches, min_size=1, max_size=20))
def test_8_byte_round_trip_through_uid_map(records: list[Punch]) -> None:
    uid_to_pin = {i + 1: p.pin for i, p in enumerate(records)}
    buffer = codec.with_size_prefix(codec.encode_attendance_record(8, i + 1, p) for i, p in enumerate(records))
    log = codec.decode_attendance(buffer, len(records), uid_to_pin)
    assert log.punches == [Punch(p.pin, p.timestamp, p.state, p.verify, 0) for p in records]


THREE = [
    Punch("1001", datetime(2026, 3, 2, 8, 51, 7), state=0, verify=15),
    Punch("2", datetime(2026, 3, 2, 12, 1, 40), state=2, verify=1),
    Punch("31337", datetime(2026, 3, 2, 17, 9, 3), state=1, verify=2),
]


def test_49_byte_buffer_of_three_records() -> None:
    buffer = codec.with_size_prefix(codec.encode_attendance_record(49, i + 1, p) for i, p in enumerate(THREE))
    assert len(buffer) == 4 + 3 * 49
    log = codec.decode_attendance(buffer, 3)
    assert log.record_size == 49
    assert log.punches == THREE
    assert log.bad == []


def test_pyzk_40_byte_stride_misreads_49_byte_records() -> None:
    # pyzk 0.9 treats every size it does not know as 40 bytes and steps 40 at a time
    data = b"".join(codec.encode_attendance_record(49, i + 1, p) for i, p in enumerate(THREE))
    second = struct.unpack("<H24sB4sB8s", data[40:80])
    uid, user_id, _status, timestamp, _punch, _space = second
    assert uid == 0  # the first record's 9 trailing bytes
    assert user_id.split(b"\0")[0] == b""  # so the PIN is lost
    assert struct.unpack("<I", timestamp)[0] != codec.encode_time(THREE[1].timestamp)


def test_invalid_date_becomes_bad_record_and_the_rest_decode() -> None:
    records = [Punch(str(i), datetime(2026, 2, 27, 8, i), state=0, verify=1) for i in range(1, 6)]
    encoded = [
        codec.encode_attendance_record(40, i + 1, p, time_value=impossible_time(2026) if i == 2 else None)
        for i, p in enumerate(records)
    ]
    log = codec.decode_attendance(codec.with_size_prefix(encoded), 5)
    assert log.punches == records[:2] + records[3:]
    assert len(log.bad) == 1
    bad = log.bad[0]
    assert isinstance(bad, BadRecord)
    assert (bad.index, bad.raw, bad.pin) == (2, encoded[2], "3")
    assert "2026-02-31 08:30:00" in bad.reason


@pytest.mark.parametrize("size", [8, 16])
def test_invalid_date_in_short_layouts(size: int) -> None:
    punch = Punch("4", datetime(2026, 3, 2, 9, 0))
    encoded = [
        codec.encode_attendance_record(size, 4, punch),
        codec.encode_attendance_record(size, 4, punch, time_value=impossible_time(2026)),
    ]
    log = codec.decode_attendance(codec.with_size_prefix(encoded), 2)
    assert log.punches == [punch]
    assert [b.index for b in log.bad] == [1]


def test_empty_buffers() -> None:
    assert codec.decode_attendance(b"", 0).punches == []
    log = codec.decode_attendance(codec.with_size_prefix([]), 0)
    assert (log.punches, log.record_size, log.raw_bytes) == ([], 0, 4)


@pytest.mark.parametrize(
    ("total", "count", "size"),
    [(0, 0, 0), (8 * 3, 3, 8), (16 * 3, 3, 16), (40 * 3, 3, 40), (49 * 3, 3, 49), (49 * 8, 8, 49), (49 * 5, 0, 49)],
)
def test_record_size_detection(total: int, count: int, size: int) -> None:
    assert codec.record_size(total, count) == size


@pytest.mark.parametrize(
    ("total", "count"),
    [
        (80, 0),  # 10 x 8, 5 x 16 or 2 x 40: cannot tell without a count
        (120, 7),  # the count does not divide, and 8 and 40 both fit
        (100, 3),  # no layout fits at all
        (49 * 8, 0),  # 49 x 8 or 8 x 49
    ],
)
def test_record_size_detection_errors(total: int, count: int) -> None:
    with pytest.raises(ValueError):
        codec.record_size(total, count)


# --- users ------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [28, 72])
def test_users_round_trip_with_gbk_chinese_names(size: int) -> None:
    users = [
        DeviceUser(pin="1", name="王伟", uid=1),
        DeviceUser(pin="20", name="欧阳秀英", uid=2, privilege=14, card=12345678),
        DeviceUser(pin="300", name="Li Na", uid=3),
    ]
    buffer = codec.with_size_prefix(codec.encode_user(size, u, "gbk") for u in users)
    assert len(buffer) == 4 + size * len(users)
    assert codec.decode_users(buffer, len(users), "gbk") == users


def test_72_byte_user_layout_is_what_pyzk_reads() -> None:
    user = DeviceUser(pin="8", name="张三", uid=5, privilege=14, card=42)
    record = codec.encode_user(72, user, "gbk")
    uid, privilege, _password, name, card, _group, user_id = struct.unpack("<HB8s24sIx7sx24s", record)
    assert (uid, privilege, card) == (5, 14, 42)
    assert name.split(b"\0")[0].decode("gbk") == "张三"
    assert user_id.split(b"\0")[0] == b"8"


def test_user_size_detection_error() -> None:
    with pytest.raises(ValueError):
        codec.decode_users(codec.with_size_prefix([b"\0" * 50]), 1, "gbk")


def test_free_sizes_round_trip() -> None:
    payload = codec.encode_free_sizes(users=50, records=123_456, fingers=3)
    assert len(payload) == 92
    sizes = codec.decode_free_sizes(payload)
    assert (sizes.users, sizes.records, sizes.fingers) == (50, 123_456, 3)
    assert sizes.record_capacity >= 123_456
