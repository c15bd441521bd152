"""The simulated terminal against pyzk 0.9 and against a raw socket client.

Everything runs on 127.0.0.1. Tests marked ``slow`` transfer 100,000 records
through pyzk's own decoder, which copies the remaining buffer for every
record and so takes seconds; deselect them with ``-m "not slow"``.
"""

from __future__ import annotations

import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from zk import ZK
from zk.exception import ZKErrorResponse

from drivers import DeviceUser, Punch
from drivers.attlog import parse_attlog_lines
from drivers.zk import codec, framer
from drivers.zk.simulator import (
    Faults,
    MessageHandler,
    SimulatedTerminal,
    SimulatorServer,
    TcpFramer,
    make_users,
    synthetic_punches,
)

HOST = "127.0.0.1"
KEY = 123456
FIXED_NOW = datetime(2026, 3, 4, 10, 11, 12)
TRANSPORTS = pytest.mark.parametrize("udp", [False, True], ids=["tcp", "udp"])


@contextmanager
def serving(terminal: SimulatedTerminal) -> Iterator[SimulatorServer]:
    with SimulatorServer(terminal, host=HOST) as server:
        yield server


@contextmanager
def pyzk(server: SimulatorServer, *, udp: bool = False, password: int = 0, timeout: float = 5) -> Iterator[ZK]:
    """A connected pyzk client; disconnects at the end."""
    client = ZK(
        HOST, port=server.port, ommit_ping=True, force_udp=udp, password=password, timeout=timeout, encoding="gbk"
    )
    conn = client.connect()
    try:
        yield conn
    finally:
        if conn.is_connect:
            conn.disconnect()


def assert_same_log(attendances: list, punches: list[Punch], users: list[DeviceUser]) -> None:
    """pyzk's Attendance(user_id, timestamp, status=verify, punch=state, uid) against our punches."""
    uid_of = {u.pin: u.uid for u in users}
    assert len(attendances) == len(punches)
    for att, punch in zip(attendances, punches, strict=True):
        assert (att.user_id, att.timestamp, att.status, att.punch, att.uid) == (
            punch.pin,
            punch.timestamp,
            punch.verify,
            punch.state,
            uid_of[punch.pin],
        )


# --- a raw client: a few lines of codec ----------------------------------------------------


class RawClient:
    """What the raw TCP and UDP clients share: a request and its reply, connecting, closing."""

    sock: socket.socket
    session: int

    def call(self, command: int, payload: bytes = b"") -> codec.Packet:
        self.send(command, payload)
        return self.read()

    def connect(self) -> codec.Packet:
        reply = self.call(codec.CMD_CONNECT)
        self.session = reply.session_id
        return reply

    def close(self) -> None:
        self.sock.close()


class RawTcp(RawClient):
    """Hand-written TCP client: sends framed requests, reads framed replies."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection((HOST, port), timeout=5)
        self.session = 0
        self.reply_id = 0

    def send(self, command: int, payload: bytes = b"") -> None:
        self.reply_id += 1
        self.sock.sendall(framer.tcp_wrap(codec.encode_packet(command, self.session, self.reply_id, payload)))

    def recv_exact(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            more = self.sock.recv(n - len(data))
            if not more:
                raise EOFError(f"connection closed after {len(data)} of {n} bytes")
            data += more
        return data

    def read(self) -> codec.Packet:
        top = self.recv_exact(8)
        return codec.decode_packet(self.recv_exact(framer.tcp_length(top)))

    def nothing_pending(self, wait: float = 0.3) -> bool:
        self.sock.settimeout(wait)
        try:
            return self.sock.recv(1) == b""  # b"" would mean closed, which is also "nothing"
        except TimeoutError:
            return True
        finally:
            self.sock.settimeout(5)


@contextmanager
def raw_session(server: SimulatorServer, kind: type[RawTcp] | type[RawUdp]) -> Iterator[RawTcp | RawUdp]:
    """A raw client of ``kind`` on ``server``, connected (CMD_CONNECT); closed at the end."""
    client = kind(server.port)
    try:
        client.connect()
        yield client
    finally:
        client.close()


class RawUdp(RawClient):
    def __init__(self, port: int) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.settimeout(5)
        self.address = (HOST, port)
        self.session = 0
        self.reply_id = 0

    def send(self, command: int, payload: bytes = b"") -> None:
        self.reply_id += 1
        self.sock.sendto(codec.encode_packet(command, self.session, self.reply_id, payload), self.address)

    def read(self) -> codec.Packet:
        return codec.decode_packet(self.sock.recv(65535))


ATTLOG_REQUEST = struct.pack("<bhii", 1, codec.CMD_ATTLOG_RRQ, 0, 0)


def read_chunk(client: RawTcp | RawUdp, start: int, size: int) -> tuple[list[codec.Packet], bytes]:
    """One CMD_READ_BUFFER: the reply packets up to ACK_OK, and the data they carried."""
    client.send(codec.CMD_READ_BUFFER, struct.pack("<ii", start, size))
    packets = [client.read()]
    while packets[-1].command != codec.CMD_ACK_OK:
        packets.append(client.read())
    data = b"".join(p.payload for p in packets if p.command == codec.CMD_DATA)
    return packets, data


def raw_attendance_buffer(client: RawTcp | RawUdp, chunk: int) -> bytes:
    staged = client.call(codec.CMD_PREPARE_BUFFER, ATTLOG_REQUEST)
    assert staged.command == codec.CMD_ACK_OK
    size = struct.unpack_from("<I", staged.payload, 1)[0]
    buffer = b"".join(read_chunk(client, start, min(chunk, size - start))[1] for start in range(0, size, chunk))
    assert client.call(codec.CMD_FREE_DATA).command == codec.CMD_ACK_OK
    return buffer


# --- pyzk: device facts --------------------------------------------------------------------


@TRANSPORTS
@pytest.mark.parametrize("password", [0, KEY], ids=["no-key", "key"])
def test_pyzk_reads_device_facts(udp: bool, password: int) -> None:
    terminal = SimulatedTerminal(
        serial="CQZ7231260123", punches=synthetic_punches(300, pins=20), comm_key=password, clock=lambda: FIXED_NOW
    )
    with serving(terminal) as server, pyzk(server, udp=udp, password=password) as conn:
        assert conn.get_serialnumber() == "CQZ7231260123"
        assert conn.get_firmware_version() == "Ver 6.60 Apr 28 2021"
        assert conn.get_platform() == "ZMM220_TFT"
        assert conn.get_time() == FIXED_NOW
        assert conn.get_pin_width() == 9
        assert conn.get_extend_fmt() == 0
        assert conn.get_face_version() is None  # unknown option: ACK_ERROR, then pyzk's _clear_error
        assert conn.get_serialnumber() == "CQZ7231260123"  # ... which left the session usable
        conn.read_sizes()
        assert (conn.users, conn.records) == (20, 300)


@TRANSPORTS
@pytest.mark.parametrize("user_size", [28, 72])
def test_pyzk_reads_chinese_names(udp: bool, user_size: int) -> None:
    terminal = SimulatedTerminal(punches=synthetic_punches(500, pins=40), user_size=user_size)
    assert len({u.name for u in terminal.users}) == 40
    with serving(terminal) as server, pyzk(server, udp=udp) as conn:
        users = conn.get_users()
    assert [(u.uid, u.user_id, u.name) for u in users] == [(u.uid, u.pin, u.name) for u in terminal.users]
    assert all("\u4e00" <= u.name[0] <= "\u9fff" for u in users)


# --- pyzk: attendance ----------------------------------------------------------------------


@TRANSPORTS
@pytest.mark.parametrize("password", [0, KEY], ids=["no-key", "key"])
@pytest.mark.parametrize("record_size", [16, 40])
def test_pyzk_reads_attendance(udp: bool, password: int, record_size: int) -> None:
    punches = synthetic_punches(3000, pins=30)
    terminal = SimulatedTerminal(punches=punches, comm_key=password, record_size=record_size)
    with serving(terminal) as server, pyzk(server, udp=udp, password=password) as conn:
        attendances = conn.get_attendance()
    assert_same_log(attendances, punches, terminal.users)


@pytest.mark.slow
@pytest.mark.parametrize(("udp", "password"), [(False, KEY), (True, 0)], ids=["tcp-key", "udp-no-key"])
def test_pyzk_reads_a_large_log(udp: bool, password: int) -> None:
    """pyzk's own reader over a log that needs many chunks. 20,000 records: pyzk decodes
    quadratically, so 100,000 took 17 s each here — that scale is bench/bench_pull.py's (pyzk
    against our codec); the transfer of 100,000 is tested below, decoded by codec."""
    punches = synthetic_punches(20_000)
    terminal = SimulatedTerminal(punches=punches, comm_key=password)
    with serving(terminal) as server, pyzk(server, udp=udp, password=password) as conn:
        attendances = conn.get_attendance()
    assert len(attendances) == 20_000
    for i in (0, 1, 4_999, 10_000, 19_998, 19_999):
        att, punch = attendances[i], punches[i]
        assert (att.user_id, att.timestamp, att.status, att.punch) == (
            punch.pin,
            punch.timestamp,
            punch.verify,
            punch.state,
        )


@TRANSPORTS
@pytest.mark.parametrize("password", [0, KEY], ids=["no-key", "key"])
def test_pyzk_transfers_100k_records_and_codec_decodes_them(udp: bool, password: int) -> None:
    """pyzk's buffered transfer of 100,000 records, decoded by codec, over TCP and UDP, with and without a key."""
    punches = synthetic_punches(100_000)
    terminal = SimulatedTerminal(punches=punches, comm_key=password)
    with serving(terminal) as server, pyzk(server, udp=udp, password=password) as conn:
        conn.read_sizes()
        buffer, size = conn.read_with_buffer(codec.CMD_ATTLOG_RRQ)
    assert size == len(buffer) == 4 + 40 * 100_000
    log = codec.decode_attendance(buffer, conn.records)
    assert log.bad == []
    assert log.punches == [Punch(p.pin, p.timestamp, p.state, p.verify) for p in punches]


def test_pyzk_misreads_the_8_byte_layout_that_codec_reads() -> None:
    punches = synthetic_punches(40, pins=5)
    terminal = SimulatedTerminal(punches=punches, record_size=8)
    with serving(terminal) as server, pyzk(server, udp=True) as conn:
        try:
            wrong = [a.timestamp for a in conn.get_attendance()]
        except ValueError:  # some misread times are not dates at all
            wrong = []
        conn.read_sizes()
        buffer, _size = conn.read_with_buffer(codec.CMD_ATTLOG_RRQ)
    assert wrong != [p.timestamp for p in punches]
    uid_to_pin = {u.uid: u.pin for u in terminal.users}
    assert codec.decode_attendance(buffer, len(punches), uid_to_pin).punches == punches


# --- pyzk: authentication ------------------------------------------------------------------


@TRANSPORTS
def test_pyzk_wrong_comm_key_is_refused(udp: bool) -> None:
    terminal = SimulatedTerminal(comm_key=KEY)
    with serving(terminal) as server:
        client = ZK(HOST, port=server.port, ommit_ping=True, force_udp=udp, password=KEY + 1, timeout=5)
        with pytest.raises(ZKErrorResponse, match="Unauthenticated"):
            client.connect()
        client = ZK(HOST, port=server.port, ommit_ping=True, force_udp=udp, password=0, timeout=5)
        with pytest.raises(ZKErrorResponse, match="Unauthenticated"):
            client.connect()


@TRANSPORTS
@pytest.mark.parametrize("key", [0, KEY])
def test_refuse_auth_fault(udp: bool, key: int) -> None:
    terminal = SimulatedTerminal(comm_key=key, faults=Faults(refuse_auth=True))
    with serving(terminal) as server:
        client = ZK(HOST, port=server.port, ommit_ping=True, force_udp=udp, password=key, timeout=5)
        with pytest.raises(ZKErrorResponse, match="Unauthenticated"):
            client.connect()
        terminal.faults.refuse_auth = False
        with pyzk(server, udp=udp, password=key) as conn:
            assert conn.get_serialnumber() == "SIM00000001"


@TRANSPORTS
def test_commands_before_connect_or_auth_are_unauthorised(udp: bool) -> None:
    terminal = SimulatedTerminal(comm_key=KEY)
    with serving(terminal) as server:
        client = RawUdp(server.port) if udp else RawTcp(server.port)
        try:
            assert client.call(codec.CMD_GET_TIME).command == codec.CMD_ACK_UNAUTH
            assert client.connect().command == codec.CMD_ACK_UNAUTH
            assert client.call(codec.CMD_GET_TIME).command == codec.CMD_ACK_UNAUTH
            good = codec.comm_key(KEY, client.session)
            assert client.call(codec.CMD_AUTH, good).command == codec.CMD_ACK_OK
            assert client.call(codec.CMD_GET_TIME).command == codec.CMD_ACK_OK
            assert client.call(codec.CMD_EXIT).command == codec.CMD_ACK_OK
            assert client.call(codec.CMD_GET_TIME).command == codec.CMD_ACK_UNAUTH
        finally:
            client.close()


# --- pyzk: device state ---------------------------------------------------------------------


@TRANSPORTS
def test_disable_and_enable_are_counted(udp: bool) -> None:
    terminal = SimulatedTerminal()
    with serving(terminal) as server, pyzk(server, udp=udp) as conn:
        conn.disable_device()
        assert terminal.enabled is False
        conn.enable_device()
        assert terminal.enabled is True
    assert terminal.counters[codec.CMD_DISABLEDEVICE] == 1
    assert terminal.counters[codec.CMD_ENABLEDEVICE] == 1
    assert terminal.counters[codec.CMD_EXIT] == 1


@TRANSPORTS
def test_set_time_then_get_time(udp: bool) -> None:
    terminal = SimulatedTerminal()
    target = datetime(2027, 1, 31, 23, 59, 30)
    with serving(terminal) as server, pyzk(server, udp=udp) as conn:
        conn.set_time(target)
        read_back = conn.get_time()
    assert timedelta(0) <= read_back - target <= timedelta(seconds=2)
    assert timedelta(0) <= terminal.clock_now() - target <= timedelta(seconds=2)


def test_set_clock_runs_on_from_the_given_time() -> None:
    now = [datetime(2026, 3, 2, 8, 0, 0, 500_000)]
    terminal = SimulatedTerminal(clock=lambda: now[0])
    assert terminal.clock_now() == datetime(2026, 3, 2, 8, 0, 0)
    terminal.set_clock(datetime(2026, 1, 1, 0, 0, 0, 500_000))
    now[0] += timedelta(seconds=90)
    assert terminal.clock_now() == datetime(2026, 1, 1, 0, 1, 30)


@TRANSPORTS
def test_clear_log_makes_read_sizes_report_zero(udp: bool) -> None:
    terminal = SimulatedTerminal(punches=synthetic_punches(500))
    with serving(terminal) as server, pyzk(server, udp=udp) as conn:
        conn.read_sizes()
        assert conn.records == 500
        terminal.clear_log()
        conn.read_sizes()
        assert conn.records == 0
        assert conn.get_attendance() == []
        terminal.add_punches(synthetic_punches(3))
        assert len(conn.get_attendance()) == 3


def test_clear_attlog_command_empties_the_log() -> None:
    terminal = SimulatedTerminal(punches=synthetic_punches(10))
    with serving(terminal) as server, pyzk(server) as conn:
        conn.clear_attendance()
    assert terminal.punches == []


@TRANSPORTS
def test_fail_attendance_read_fault(udp: bool) -> None:
    terminal = SimulatedTerminal(punches=synthetic_punches(100), faults=Faults(fail_attendance_read=True))
    with serving(terminal) as server, pyzk(server, udp=udp) as conn:
        assert len(conn.get_users()) == 50  # only the attendance log fails
        with pytest.raises(ZKErrorResponse):
            conn.get_attendance()


def test_reply_delay_fault() -> None:
    terminal = SimulatedTerminal(faults=Faults(reply_delay=0.2))
    with serving(terminal) as server, pyzk(server) as conn:
        started = time.monotonic()
        conn.get_time()
        assert time.monotonic() - started >= 0.2


def test_udp_sessions_are_kept_per_client_address() -> None:
    punches = synthetic_punches(2000)
    terminal = SimulatedTerminal(punches=punches, comm_key=KEY)
    with (
        serving(terminal) as server,
        pyzk(server, udp=True, password=KEY) as one,
        pyzk(server, udp=True, password=KEY) as two,
    ):
        one.read_sizes()
        two.read_sizes()
        first = one.read_with_buffer(codec.CMD_ATTLOG_RRQ)[0]
        one.disable_device()
        second = two.read_with_buffer(codec.CMD_ATTLOG_RRQ)[0]
        one.enable_device()
    assert first == second
    assert len(codec.decode_attendance(first, 2000).punches) == 2000


def test_several_tcp_clients_at_once() -> None:
    punches = synthetic_punches(20_000)
    terminal = SimulatedTerminal(punches=punches)
    results: list[int] = []

    def pull() -> None:
        with pyzk(server) as conn:
            conn.read_sizes()
            results.append(
                len(codec.decode_attendance(conn.read_with_buffer(codec.CMD_ATTLOG_RRQ)[0], conn.records).punches)
            )

    with serving(terminal) as server:
        threads = [threading.Thread(target=pull) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert results == [20_000] * 4


# --- the wire, seen by a raw client ----------------------------------------------------------


def test_header_only_reply_is_exactly_16_bytes_over_tcp() -> None:
    with serving(SimulatedTerminal()) as server:
        with raw_session(server, RawTcp) as client:
            client.send(codec.CMD_ENABLEDEVICE)
            wire = client.recv_exact(16)
            assert framer.tcp_length(wire) == 8
            reply = codec.decode_packet(wire[8:])
            assert (reply.command, reply.session_id, reply.reply_id, reply.payload) == (
                codec.CMD_ACK_OK,
                client.session,
                client.reply_id,
                b"",
            )
            assert reply.checksum == codec.checksum(
                struct.pack("<4H", reply.command, 0, reply.session_id, reply.reply_id)
            )
            assert client.nothing_pending()


def test_tcp_requests_are_framed_across_and_within_recvs() -> None:
    with serving(SimulatedTerminal()) as server:
        with raw_session(server, RawTcp) as client:
            two = b"".join(
                framer.tcp_wrap(codec.encode_packet(cmd, client.session, rid, b""))
                for cmd, rid in ((codec.CMD_GET_TIME, 10), (codec.CMD_GET_VERSION, 11))
            )
            client.sock.sendall(two)  # two requests in one segment
            assert [(p.command, p.reply_id) for p in (client.read(), client.read())] == [
                (codec.CMD_ACK_OK, 10),
                (codec.CMD_ACK_OK, 11),
            ]
            one = framer.tcp_wrap(codec.encode_packet(codec.CMD_DISABLEDEVICE, client.session, 12, b""))
            for byte in one:  # one request split into single bytes
                client.sock.sendall(bytes([byte]))
                time.sleep(0.002)
            assert client.read().reply_id == 12


def test_tcp_chunk_is_prepare_data_then_ack_with_packet_pause() -> None:
    pause = 0.15
    terminal = SimulatedTerminal(punches=synthetic_punches(5000), faults=Faults(packet_pause=pause))
    with serving(terminal) as server:
        with raw_session(server, RawTcp) as client:
            staged = client.call(codec.CMD_PREPARE_BUFFER, ATTLOG_REQUEST)
            assert staged.payload[:5] == struct.pack("<BI", 0, 4 + 40 * 5000)
            client.send(codec.CMD_READ_BUFFER, struct.pack("<ii", 0, codec.TCP_MAX_CHUNK))
            packets, arrived = [], []
            for _ in range(3):
                packets.append(client.read())
                arrived.append(time.monotonic())
            assert [p.command for p in packets] == [codec.CMD_PREPARE_DATA, codec.CMD_DATA, codec.CMD_ACK_OK]
            assert {p.reply_id for p in packets} == {client.reply_id}
            assert packets[0].payload == struct.pack("<II", codec.TCP_MAX_CHUNK, 0)
            assert len(packets[1].payload) == codec.TCP_MAX_CHUNK
            assert packets[2].payload == b""
            assert arrived[1] - arrived[0] >= pause * 0.8
            assert arrived[2] - arrived[1] >= pause * 0.8
            assert client.nothing_pending(0.1)


def test_udp_chunk_is_sent_as_1024_byte_data_packets() -> None:
    terminal = SimulatedTerminal(punches=synthetic_punches(1000))
    with serving(terminal) as server:
        with raw_session(server, RawUdp) as client:
            client.call(codec.CMD_PREPARE_BUFFER, ATTLOG_REQUEST)
            packets, data = read_chunk(client, 0, codec.UDP_MAX_CHUNK + 100)
            assert packets[0].command == codec.CMD_PREPARE_DATA
            sizes = [len(p.payload) for p in packets if p.command == codec.CMD_DATA]
            assert sizes == [1024] * 16 + [100]
            assert data == terminal.attendance_buffer()[: codec.UDP_MAX_CHUNK + 100]


@TRANSPORTS
def test_invalid_dates_fault_reaches_the_decoder_as_bad_records(udp: bool) -> None:
    punches = synthetic_punches(3000)
    terminal = SimulatedTerminal(punches=punches, faults=Faults(invalid_dates=frozenset({0, 1234, 2999})))
    with serving(terminal) as server:
        client = RawUdp(server.port) if udp else RawTcp(server.port)
        try:
            client.connect()
            buffer = raw_attendance_buffer(client, codec.UDP_MAX_CHUNK if udp else codec.TCP_MAX_CHUNK)
        finally:
            client.close()
    log = codec.decode_attendance(buffer, len(punches))
    assert [b.index for b in log.bad] == [0, 1234, 2999]
    assert [b.pin for b in log.bad] == [punches[i].pin for i in (0, 1234, 2999)]
    assert all("-02-31 " in b.reason for b in log.bad)
    assert len(log.punches) == 2997


def test_drop_after_chunks_closes_tcp_inside_the_data() -> None:
    terminal = SimulatedTerminal(punches=synthetic_punches(10_000), faults=Faults(drop_after_chunks=3))
    with serving(terminal) as server:
        with raw_session(server, RawTcp) as client:
            client.call(codec.CMD_PREPARE_BUFFER, ATTLOG_REQUEST)
            for n in range(2):
                read_chunk(client, n * codec.TCP_MAX_CHUNK, codec.TCP_MAX_CHUNK)
            client.send(codec.CMD_READ_BUFFER, struct.pack("<ii", 2 * codec.TCP_MAX_CHUNK, codec.TCP_MAX_CHUNK))
            assert client.read().command == codec.CMD_PREPARE_DATA
            top = client.recv_exact(8)
            assert framer.tcp_length(top) == 8 + codec.TCP_MAX_CHUNK
            with pytest.raises(EOFError):
                client.recv_exact(8 + codec.TCP_MAX_CHUNK)
        # every attendance read breaks at chunk 3 until the fault is cleared
        terminal.faults.drop_after_chunks = None
        with raw_session(server, RawTcp) as client:
            assert len(raw_attendance_buffer(client, codec.TCP_MAX_CHUNK)) == 4 + 40 * 10_000


def test_drop_with_reset_makes_pyzk_raise_instead_of_spinning() -> None:
    # With an orderly close (FIN) in the middle of a chunk, pyzk 0.9 loops for
    # ever in __recieve_raw_data (recv() returns b"" and it retries); a reset
    # surfaces as ConnectionResetError.
    terminal = SimulatedTerminal(
        punches=synthetic_punches(10_000), faults=Faults(drop_after_chunks=2, drop_with_reset=True)
    )
    with serving(terminal) as server:
        conn = ZK(HOST, port=server.port, ommit_ping=True, timeout=5).connect()
        conn.read_sizes()
        with pytest.raises(ConnectionResetError):
            conn.read_with_buffer(codec.CMD_ATTLOG_RRQ)


def test_drop_after_chunks_silences_a_udp_client_until_it_reconnects() -> None:
    terminal = SimulatedTerminal(punches=synthetic_punches(10_000), faults=Faults(drop_after_chunks=1))
    with serving(terminal) as server:
        with raw_session(server, RawUdp) as client:
            client.call(codec.CMD_PREPARE_BUFFER, ATTLOG_REQUEST)
            client.send(codec.CMD_READ_BUFFER, struct.pack("<ii", 0, codec.UDP_MAX_CHUNK))
            client.sock.settimeout(0.3)
            received = []
            with pytest.raises(socket.timeout):
                while True:
                    received.append(client.read().command)
            assert received[0] == codec.CMD_PREPARE_DATA
            assert 0 < received.count(codec.CMD_DATA) < 16
            assert codec.CMD_ACK_OK not in received
            client.send(codec.CMD_GET_TIME)
            with pytest.raises(socket.timeout):
                client.read()
            client.sock.settimeout(5)
            assert client.connect().command == codec.CMD_ACK_OK
            assert client.call(codec.CMD_GET_TIME).command == codec.CMD_ACK_OK


def test_unknown_commands_and_bad_streams() -> None:
    with serving(SimulatedTerminal()) as server:
        with raw_session(server, RawTcp) as client:
            assert client.call(4242).command == codec.CMD_ACK_UNKNOWN
            assert client.call(codec.CMD_OPTIONS_RRQ, b"NoSuchOption\0").command == codec.CMD_ACK_ERROR
            assert client.call(codec.CMD_READ_BUFFER, struct.pack("<ii", 0, 10)).command == codec.CMD_ACK_ERROR
            client.sock.sendall(b"GET / HTTP/1.0\r\n\r\n")  # not the protocol: the terminal hangs up
            with pytest.raises(EOFError):
                client.read()
        with pyzk(server) as conn:  # and still serves others
            assert conn.get_serialnumber() == "SIM00000001"


# --- the pure layers -------------------------------------------------------------------------


def test_message_handler_without_sockets() -> None:
    terminal = SimulatedTerminal(punches=synthetic_punches(10), clock=lambda: FIXED_NOW)
    handler = MessageHandler(terminal)
    connect = handler.handle(codec.encode_packet(codec.CMD_CONNECT, 0, 65534))
    (packet,) = connect.packets
    reply = codec.decode_packet(packet)
    assert (reply.command, reply.reply_id) == (codec.CMD_ACK_OK, 65534)
    get_time = handler.handle(codec.encode_packet(codec.CMD_GET_TIME, reply.session_id, 65535))
    (packet,) = get_time.packets
    assert codec.decode_time(struct.unpack("<I", codec.decode_packet(packet).payload)[0]) == FIXED_NOW
    assert handler.handle(b"short").packets == []


def test_tcp_framer() -> None:
    framer = TcpFramer()
    a, b = codec.encode_packet(1, 2, 3, b"xyz"), codec.encode_packet(4, 5, 6)
    wire = TcpFramer.frame(a) + TcpFramer.frame(b)
    assert framer.feed(wire[:5]) == []
    assert framer.feed(wire[5:20]) == [a]
    assert framer.feed(wire[20:]) == [b]
    with pytest.raises(ValueError):
        TcpFramer().feed(b"\x00" * 16)


# --- synthetic data, users, the command-line entry ------------------------------------------


def test_synthetic_punches_are_realistic_and_deterministic() -> None:
    punches = synthetic_punches(2003, pins=20, seed=5)
    assert len(punches) == 2003
    assert punches == synthetic_punches(2003, pins=20, seed=5)
    assert punches != synthetic_punches(2003, pins=20, seed=6)
    assert len({p.key() for p in punches}) == 2003
    assert {p.pin for p in punches} == {str(i) for i in range(1, 21)}
    assert all(p.timestamp.weekday() < 5 for p in punches)
    assert [p.timestamp for p in punches] == sorted(p.timestamp for p in punches)
    assert punches[0].timestamp.date() == datetime(2026, 3, 2).date()
    days: dict[tuple[str, object], list[Punch]] = {}
    for p in punches[:2000]:  # whole days
        days.setdefault((p.pin, p.timestamp.date()), []).append(p)
    for day in days.values():
        assert [p.state for p in day] == [0, 2, 3, 1]
        hours = [p.timestamp.hour + p.timestamp.minute / 60 for p in day]
        assert 8.6 <= hours[0] <= 9.0 and 11.9 <= hours[1] <= 12.2
        assert 12.8 <= hours[2] <= 13.0 and 16.7 <= hours[3] <= 17.4
    assert synthetic_punches(0) == []


def test_synthetic_punches_and_staging_at_200k() -> None:
    """The simulator must carry at least 200,000 records (timings: bench/bench_pull.py)."""
    punches = synthetic_punches(200_000)
    assert len(punches) == 200_000
    assert len({(p.pin, p.timestamp) for p in punches}) == 200_000
    buffer = SimulatedTerminal(punches=punches).attendance_buffer()
    assert len(buffer) == 4 + 40 * 200_000


def test_default_users_have_encodable_chinese_names() -> None:
    users = make_users([str(i) for i in range(300, 0, -1)])
    assert [u.pin for u in users] == [str(i) for i in range(1, 301)]
    assert [u.uid for u in users] == list(range(1, 301))
    assert len({u.name for u in users}) == 300
    for user in users:
        assert 2 <= len(user.name.encode("gbk")) <= 8
    assert make_users(["7"], encoding="ascii")[0].name == "User 7"


def test_run_simulator_serves_until_sigterm(tmp_path: Path) -> None:
    export = tmp_path / "1_attlog.dat"
    export.write_bytes(
        b"        1\t2026-03-02 08:51:02\t1\t0\t1\t0\r\n"
        b"\r\n"
        b"       23\t2026-03-02 08:52:40\t1\t0\t15\t0\r\n"
        b"        1\t2026-03-02 17:05:11\t1\t1\t1\t0\r\n"
    )
    code = (
        "from pathlib import Path; from drivers.zk.simulator import run_simulator; "
        f"run_simulator(0, attlog=Path({str(export)!r}), comm_key={KEY})"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[3]
    )
    try:
        line = proc.stdout.readline()
        assert "3 records" in line and "2 users" in line and str(KEY) not in line
        port = int(line.split(f"{HOST}:")[1].split()[0])
        conn = ZK(HOST, port=port, ommit_ping=True, password=KEY, timeout=5, encoding="gbk").connect()
        attendances = conn.get_attendance()
        conn.disconnect()
        assert [(a.user_id, a.timestamp, a.status) for a in attendances] == [
            ("1", datetime(2026, 3, 2, 8, 51, 2), 1),
            ("23", datetime(2026, 3, 2, 8, 52, 40), 15),
            ("1", datetime(2026, 3, 2, 17, 5, 11), 1),
        ]
        proc.terminate()
        assert proc.wait(timeout=5) == 0
    finally:
        proc.kill()
        proc.stdout.close()


def test_attlog_lines_report_errors_with_line_numbers() -> None:
    lines = [
        "      5\t2026-03-02 08:00:00\t1\t0\t1\t0\n",
        "\n",
        "      5\t2026-02-31 08:00:00\t1\t0\t1\t0\n",
        "5 2026-03-02\n",
    ]
    parsed = list(parse_attlog_lines(lines))
    assert parsed[0] == (1, Punch("5", datetime(2026, 3, 2, 8), state=0, verify=1))
    assert [n for n, _ in parsed[1:]] == [3, 4]
    assert all(isinstance(item, str) for _, item in parsed[1:])
