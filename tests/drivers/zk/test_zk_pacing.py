"""Issue 16 (7, 8): the simulator paces its replies as firmware does, and keeps the site's time.

Byte level, with a client like the public ones that read one packet per ``recv`` (and give up
when a read returns two packets coalesced): every packet of a multi-packet reply is its own
write, ``packet_pause`` apart; UDP DATA datagrams arrive one per ``recvfrom``, paced; a data set
of at most 1,016 bytes is answered at once with CMD_DATA, and the daemon's client still pulls it.
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from helpers import assert_clean_failure, free_port, run_cli, spawn, wait_for, write_centre

from drivers.zk import ZKTerminal, codec, framer
from drivers.zk.simulator import SimulatedTerminal, SimulatorServer, synthetic_punches
from drivers.zk.simulator.cli import wall_clock
from drivers.zk.simulator.handler import SMALL_DATA

HOST = "127.0.0.1"
PAUSE = 0.04  # long enough to be told from scheduling noise on a loaded 2-core machine
#: Linux's SO_TIMESTAMP (Python names it on no platform): each datagram comes with the time the
#: kernel queued it, so the UDP gaps measured do not depend on when this process got to read.
SO_TIMESTAMP = 29
ATTLOG = struct.pack("<bhii", 1, codec.CMD_ATTLOG_RRQ, 0, 0)
USERS = struct.pack("<bhii", 1, codec.CMD_USERTEMP_RRQ, codec.FCT_USER, 0)


class Coalesced(AssertionError):
    """One ``recv`` returned more than one packet: a one-packet-per-read client stalls here."""


class OnePacketPerRecv:
    """A TCP client as simple as some public ones: one ``recv`` is one packet.

    A packet split over reads is completed (asking only for its missing bytes); a read that
    carries bytes of the next packet raises :class:`Coalesced`. Records when each packet arrived.
    """

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection((HOST, port), timeout=5)
        self.session = self.reply_id = 0
        self.arrived: list[float] = []

    def send(self, command: int, payload: bytes = b"") -> None:
        self.reply_id += 1
        self.sock.sendall(framer.tcp_wrap(codec.encode_packet(command, self.session, self.reply_id, payload)))

    def read(self) -> codec.Packet:
        data = self.sock.recv(1 << 20)
        self.arrived.append(time.monotonic())
        if not data:
            raise EOFError("the simulator closed the connection")
        while len(data) < 8 or len(data) < 8 + framer.tcp_length(data[:8]):
            missing = 8 - len(data) if len(data) < 8 else 8 + framer.tcp_length(data[:8]) - len(data)
            data += self.sock.recv(missing)
        length = framer.tcp_length(data[:8])
        if len(data) > 8 + length:
            raise Coalesced(f"one recv returned {len(data)} bytes: a packet of {8 + length} and more")
        return codec.decode_packet(data[8:])

    def __enter__(self) -> OnePacketPerRecv:
        """Connected (CMD_CONNECT answered, its session id kept)."""
        self.send(codec.CMD_CONNECT)
        reply = self.read()
        assert reply.command == codec.CMD_ACK_OK
        self.session = reply.session_id
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()


@contextmanager
def simulator(terminal: SimulatedTerminal, **pacing: float) -> Iterator[SimulatorServer]:
    with SimulatorServer(terminal, host=HOST, **pacing) as server:
        yield server


def one_packet_client(server: SimulatorServer) -> OnePacketPerRecv:
    return OnePacketPerRecv(server.port)


def gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in zip(times, times[1:], strict=False)]


def test_each_packet_of_a_chunk_is_its_own_read_and_the_pause_apart() -> None:
    terminal = SimulatedTerminal(punches=synthetic_punches(2000))
    with simulator(terminal, packet_pause=PAUSE) as server, one_packet_client(server) as client:
        client.send(codec.CMD_PREPARE_BUFFER, ATTLOG)
        staged = client.read()
        assert staged.command == codec.CMD_ACK_OK and staged.payload[1:5] == struct.pack("<I", 4 + 40 * 2000)
        for start in (0, 4096):  # two chunks, read one packet per recv each
            client.send(codec.CMD_READ_BUFFER, struct.pack("<ii", start, 4096))
            client.arrived.clear()
            packets = [client.read() for _ in range(3)]
            assert [p.command for p in packets] == [codec.CMD_PREPARE_DATA, codec.CMD_DATA, codec.CMD_ACK_OK]
            assert packets[1].payload == terminal.attendance_buffer()[start : start + 4096]
            # a reader late on one packet sees a shorter gap to the next: half the pause is the bound
            assert all(g >= PAUSE * 0.5 for g in gaps(client.arrived)), gaps(client.arrived)


def test_the_client_gives_up_on_packets_sent_back_to_back_to_a_late_reader() -> None:
    """The check above can fail: with no pause, a reader that comes late finds the chunk's
    three packets in one read."""
    terminal = SimulatedTerminal(punches=synthetic_punches(200))
    with simulator(terminal, packet_pause=0) as server, one_packet_client(server) as client:
        client.send(codec.CMD_PREPARE_BUFFER, ATTLOG)
        assert client.read().command == codec.CMD_ACK_OK
        client.send(codec.CMD_READ_BUFFER, struct.pack("<ii", 0, 2048))
        time.sleep(0.1)
        with pytest.raises(Coalesced):
            client.read()


def test_reply_delay_comes_before_every_reply() -> None:
    with simulator(SimulatedTerminal(), reply_delay=0.05) as server, one_packet_client(server) as client:
        asked = time.monotonic()
        client.send(codec.CMD_GET_TIME)
        assert client.read().command == codec.CMD_ACK_OK
        assert client.arrived[-1] - asked >= 0.05 * 0.9


def test_udp_data_datagrams_come_one_per_recvfrom_and_paced() -> None:
    terminal = SimulatedTerminal(punches=synthetic_punches(2000))
    with simulator(terminal, packet_pause=PAUSE, data_pause=PAUSE / 2) as server:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMP, 1)
        sock.settimeout(5)
        rid = 0

        def send(command: int, session: int, payload: bytes = b"") -> None:
            nonlocal rid
            rid += 1
            sock.sendto(codec.encode_packet(command, session, rid, payload), (HOST, server.port))

        try:
            send(codec.CMD_CONNECT, 0)
            session = codec.decode_packet(sock.recv(65535)).session_id
            send(codec.CMD_PREPARE_BUFFER, session, ATTLOG)
            assert codec.decode_packet(sock.recv(65535)).command == codec.CMD_ACK_OK
            send(codec.CMD_READ_BUFFER, session, struct.pack("<ii", 0, 4 * 1024 + 100))
            packets, arrived = [], []
            while not packets or packets[-1].command != codec.CMD_ACK_OK:
                datagram, ancillary, _flags, _address = sock.recvmsg(65535, socket.CMSG_SPACE(16))
                stamps = [data for level, kind, data in ancillary if (level, kind) == (socket.SOL_SOCKET, SO_TIMESTAMP)]
                assert stamps, "no receive time from the kernel (SO_TIMESTAMP is Linux's)"
                seconds, micros = struct.unpack("qq", stamps[0][:16])
                arrived.append(seconds + micros / 1e6)
                packets.append(codec.decode_packet(datagram))
        finally:
            sock.close()
    commands = [p.command for p in packets]
    assert commands == [codec.CMD_PREPARE_DATA] + [codec.CMD_DATA] * 5 + [codec.CMD_ACK_OK]
    assert [len(p.payload) for p in packets[1:-1]] == [1024] * 4 + [100]
    between = gaps(arrived)
    assert between[0] >= PAUSE * 0.8 and between[-1] >= PAUSE * 0.8, between  # PREPARE_DATA | DATA… | ACK_OK
    assert all(g >= PAUSE / 2 * 0.7 for g in between[1:-1]), between  # the DATA datagrams, paced
    assert b"".join(p.payload for p in packets[1:-1]) == terminal.attendance_buffer()[: 4 * 1024 + 100]


@pytest.mark.parametrize("udp", [False, True], ids=["tcp", "udp"])
def test_a_small_data_set_is_answered_at_once_with_cmd_data(udp: bool) -> None:
    """≤ 1,016 bytes: CMD_DATA straight away, as firmware does; one byte more is staged."""
    fits = (SMALL_DATA - 4) // 40  # 25 records of 40 bytes, behind the u32 size
    terminal = SimulatedTerminal(punches=synthetic_punches(fits, pins=3))
    with simulator(terminal, packet_pause=PAUSE) as server:
        if udp:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.connect((HOST, server.port))
        else:
            sock = socket.create_connection((HOST, server.port))
        sock.settimeout(5)

        def call(command: int, session: int, payload: bytes = b"") -> codec.Packet:
            packet = codec.encode_packet(command, session, 1, payload)
            sock.sendall(packet if udp else framer.tcp_wrap(packet))
            data = sock.recv(65535)
            return codec.decode_packet(data if udp else data[8:])

        try:
            session = call(codec.CMD_CONNECT, 0).session_id
            small = call(codec.CMD_PREPARE_BUFFER, session, ATTLOG)
            assert (small.command, small.payload) == (codec.CMD_DATA, terminal.attendance_buffer())
            assert call(codec.CMD_READ_BUFFER, session, struct.pack("<ii", 0, 100)).command == codec.CMD_ACK_ERROR
            users = call(codec.CMD_PREPARE_BUFFER, session, USERS)  # 3 users of 72 bytes
            assert (users.command, users.payload) == (codec.CMD_DATA, terminal.user_buffer())
            terminal.add_punches(synthetic_punches(1, pins=3))  # 1,044 bytes: staged, read in chunks
            big = call(codec.CMD_PREPARE_BUFFER, session, ATTLOG)
            assert big.command == codec.CMD_ACK_OK and big.payload[1:5] == struct.pack("<I", 4 + 40 * (fits + 1))
        finally:
            sock.close()


@pytest.mark.parametrize("protocol", ["tcp", "udp"])
@pytest.mark.parametrize("records", [10, 26], ids=["small", "staged"])
def test_the_daemons_client_pulls_small_and_staged_data_sets(protocol: str, records: int) -> None:
    punches = synthetic_punches(records, pins=4)
    terminal = SimulatedTerminal(punches=punches)
    with simulator(terminal) as server, ZKTerminal(HOST, server.port, protocol=protocol, timeout=5) as zk:
        assert [u.pin for u in zk.read_users()] == [u.pin for u in terminal.users]
        log = zk.read_attendance()
    assert log.punches == punches and log.bad == []
    assert terminal.enabled
    staged = terminal.counters[codec.CMD_READ_BUFFER]
    assert staged == (0 if records == 10 else 1)  # the small log came with its CMD_PREPARE_BUFFER


def test_wall_clock_shows_the_zones_time_naive() -> None:
    shanghai = wall_clock("Asia/Shanghai")()
    assert shanghai.tzinfo is None
    expected = datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)
    assert abs(shanghai - expected) < timedelta(seconds=2)
    utc = wall_clock("UTC")()
    assert abs(shanghai - utc - timedelta(hours=8)) < timedelta(seconds=2)


def test_simulate_device_keeps_the_sites_zone_so_a_pull_sees_no_drift(tmp_path) -> None:
    """On any host (CI runs in UTC), the simulated terminal shows the config's zone: the
    daemon's client reads the site's time from it, not an 8-hour drift."""
    cfg = write_centre(tmp_path, timezone="Asia/Urumqi")
    port = free_port()
    proc = spawn("simulate-device", "--port", str(port), "--records", "5", config=cfg, env={"TZ": "UTC"})
    try:
        line = wait_for(lambda: proc.stdout.readline(), "the simulator's line", proc=proc, timeout=30)
        assert f"listening on 127.0.0.1:{port}" in line and "clock Asia/Urumqi" in line, line
        with ZKTerminal(HOST, port, timeout=5) as zk:
            clock = zk.read_clock()
        site_now = datetime.now(ZoneInfo("Asia/Urumqi")).replace(tzinfo=None)
        assert abs(clock - site_now) < timedelta(seconds=5)
    finally:
        proc.terminate()
        proc.wait(10)
    assert proc.returncode == 0


def test_simulate_device_refuses_an_unknown_zone_or_a_negative_pause_in_one_line() -> None:
    for args, expected in (
        (("--tz", "Mars/Olympus"), "attendd: --tz: unknown time zone 'Mars/Olympus' (expected an IANA name"),
        (("--packet-pause", "-1"), "argument --packet-pause: expected 0 to 10 seconds, got -1"),
        (("--reply-delay", "nan"), "argument --reply-delay: expected 0 to 60 seconds, got nan"),
    ):
        proc = run_cli("simulate-device", "--port", "4370", *args)
        assert_clean_failure(proc, 2)
        assert len(proc.stderr.strip().splitlines()) == 1 and expected in proc.stderr, proc.stderr
