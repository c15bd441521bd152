"""A fake ZKTeco terminal on 127.0.0.1, for tests, benchmarks and
``attendd simulate-device``.

Layered like pymodbus' simulator, so each layer can be tested on its own:

* :class:`SimulatedTerminal` — the device: attendance log, users, clock,
  counters of the commands it received, and :class:`Faults` to inject.
* :class:`MessageHandler` — pure protocol logic: one request packet in, one
  :class:`Reply` (a list of reply packets plus timing) out. One handler per
  TCP connection or per UDP client address; it holds that client's session
  (id, authentication, staged data set). No sockets.
* :class:`TcpFramer` — cuts a TCP byte stream into packets using the 8-byte
  top header (several packets per ``recv`` and packets split across ``recv``
  calls both happen). Over UDP one datagram is one packet.
* :class:`SimulatorServer` — one TCP and one UDP server on the same port,
  each on its own thread (plus one thread per TCP connection), applying the
  handler's timing and hang-ups to the wire.

Replies follow what real terminals do as far as public clients depend on it:
pyzk reads each reply with one ``recv`` of a fixed size, so a reply never
carries bytes the client does not expect (header-only replies are exactly 16
bytes over TCP); node-zklib pipelines its chunk requests and sums the payloads
of PREPARE_DATA (8 bytes) and DATA, so those sizes are exact too. Incoming
checksums are not verified: pyzk and node-zklib both compute the checksum
before they bump the reply id in the header, so their requests never carry a
matching one, and terminals answer them anyway.
"""

from __future__ import annotations

import collections
import random
import select
import socket
import struct
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from .._foreground import until_stopped
from .._records import DeviceUser, Punch
from . import codec

__all__ = [
    "Faults",
    "MessageHandler",
    "Reply",
    "SimulatedTerminal",
    "SimulatorServer",
    "TcpFramer",
    "make_users",
    "run_simulator",
    "synthetic_punches",
]


# --- device state -------------------------------------------------------------


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


_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹"
_GIVEN_NAMES = (
    "伟 芳 娜 秀英 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀兰 霞 平 刚 桂英 建华 文 华 红 玉兰 志强 海燕"
).split()
_NAME_FIELD = {28: 8, 72: 24}


def _pin_order(pin: str) -> tuple[int, int, str]:
    return (0, int(pin), "") if pin.isascii() and pin.isdigit() else (1, 0, pin)


def make_users(pins: Iterable[str], *, encoding: str = "gbk", user_size: int = 72) -> list[DeviceUser]:
    """One user per distinct PIN (numeric PINs in numeric order), uid 1, 2, ...

    Names are Chinese (common surname + given name, distinct for the first
    900 users). A name that cannot be encoded in ``encoding`` or does not fit
    the name field of ``user_size`` becomes ``"User <pin>"``.
    """
    limit = _NAME_FIELD.get(user_size, 24)
    users = []
    for i, pin in enumerate(sorted(set(pins), key=_pin_order)):
        a, b = i % len(_SURNAMES), i // len(_SURNAMES)
        name = _SURNAMES[a] + _GIVEN_NAMES[(b + 7 * a) % len(_GIVEN_NAMES)]
        try:
            fits = len(name.encode(encoding)) <= limit
        except UnicodeEncodeError:
            fits = False
        if not fits:
            name = f"User {pin}"[:limit]
        users.append(DeviceUser(pin=pin, name=name, uid=i + 1))
    return users


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
    ) -> None:
        if record_size not in codec.RECORD_SIZES:
            raise ValueError(f"record_size must be one of {codec.RECORD_SIZES}")
        if user_size not in codec.USER_SIZES:
            raise ValueError(f"user_size must be one of {codec.USER_SIZES}")
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
        self.enabled = True
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

    def add_punches(self, punches: Iterable[Punch]) -> None:
        """Append punches, as if staff clocked in."""
        with self.lock:
            self.punches.extend(punches)

    def clear_log(self) -> None:
        """The admin cleared the attendance log: the record count drops to 0."""
        with self.lock:
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
            return codec.encode_free_sizes(len(self.users), len(self.punches))

    def attendance_buffer(self) -> bytes:
        """The attendance log as staged for a buffered read: u32 size, then records."""
        with self.lock:
            punches = list(self.punches)
            invalid = self.faults.invalid_dates
            size = self.record_size
            uid_of = {u.pin: u.uid for u in self.users}
        encode = codec.encode_attendance_record
        records = []
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


# --- protocol handler (pure) -------------------------------------------------


@dataclass
class Reply:
    """What to send back for one request; the transport applies the timing."""

    #: Encoded packets (header + payload, no TCP top header), in order.
    packets: list[bytes] = field(default_factory=list)
    #: Seconds to wait before the first packet.
    delay: float = 0.0
    #: Seconds to wait between packets.
    pause: float = 0.0
    #: Send only the first half of this reply's bytes (TCP) or packets (UDP),
    #: then stop serving the client: close the TCP connection, ignore the UDP
    #: client until it connects again.
    hang_up: bool = False


_PREPARE_BUFFER = struct.Struct("<bhii")  # 1, data-set command, fct, ext
_READ_BUFFER = struct.Struct("<ii")  # start, size
_STAGED = struct.Struct("<BIII")  # 0, size, size again, unknown (looks like a checksum on real terminals)
_PREPARE_DATA = struct.Struct("<II")  # chunk size, 0
_U32 = struct.Struct("<I")
_PIN_WIDTH = 9


class MessageHandler:
    """One client's session with a :class:`SimulatedTerminal`: request packets in,
    :class:`Reply` objects out, no I/O.

    Every reply echoes the request's reply id and carries this session's id
    (pyzk, for one, continues counting from the reply id it got back).
    Before CMD_CONNECT, and before CMD_AUTH when the terminal demands it,
    every other command is answered CMD_ACK_UNAUTH.
    """

    def __init__(self, terminal: SimulatedTerminal, *, udp: bool = False) -> None:
        self.terminal = terminal
        self.udp = udp
        self.session_id = 0
        self.connected = False
        self.authenticated = False
        #: True after a UDP hang-up: nothing is answered until CMD_CONNECT.
        self.silenced = False
        self.staged: bytes | None = None
        self._staged_attlog = False
        self._chunks_served = 0
        self._dispatch: dict[int, Callable[[codec.Packet], Reply]] = {
            codec.CMD_EXIT: self._exit,
            codec.CMD_ENABLEDEVICE: self._enable,
            codec.CMD_DISABLEDEVICE: self._disable,
            codec.CMD_GET_VERSION: self._version,
            codec.CMD_OPTIONS_RRQ: self._options,
            codec.CMD_GET_FREE_SIZES: self._free_sizes,
            codec.CMD_GET_TIME: self._get_time,
            codec.CMD_SET_TIME: self._set_time,
            codec.CMD_CLEAR_ATTLOG: self._clear_attlog,
            codec.CMD_FREE_DATA: self._free_data,
            codec.CMD_REFRESHDATA: self._ok,
            codec.CMD_REG_EVENT: self._ok,
            codec.CMD_GET_PINWIDTH: self._pin_width,
            codec.CMD_PREPARE_BUFFER: self._prepare_buffer,
            codec.CMD_READ_BUFFER: self._read_buffer,
            # pyzk's _clear_error sends these reply codes as commands.
            codec.CMD_ACK_ERROR: self._ok,
            codec.CMD_ACK_UNKNOWN: self._ok,
        }

    def handle(self, data: bytes) -> Reply:
        """Answer one request packet (without TCP top header)."""
        try:
            request = codec.decode_packet(data)
        except ValueError:
            return Reply()
        terminal = self.terminal
        terminal.count(request.command)
        if request.command == codec.CMD_CONNECT:
            reply = self._connect(request)
        elif self.silenced:
            return Reply()
        elif request.command == codec.CMD_AUTH:
            reply = self._auth(request)
        elif not self.authenticated:
            reply = self._answer(request, codec.CMD_ACK_UNAUTH)
        else:
            method = self._dispatch.get(request.command)
            reply = method(request) if method else self._answer(request, codec.CMD_ACK_UNKNOWN)
        reply.delay = terminal.faults.reply_delay
        return reply

    # -- helpers

    def _packet(self, request: codec.Packet, command: int, payload: bytes = b"") -> bytes:
        return codec.encode_packet(command, self.session_id, request.reply_id, payload)

    def _answer(self, request: codec.Packet, command: int, payload: bytes = b"") -> Reply:
        return Reply([self._packet(request, command, payload)])

    def _ok(self, request: codec.Packet, payload: bytes = b"") -> Reply:
        return self._answer(request, codec.CMD_ACK_OK, payload)

    def _error(self, request: codec.Packet) -> Reply:
        return self._answer(request, codec.CMD_ACK_ERROR)

    def _drop_staged(self) -> None:
        self.staged = None
        self._staged_attlog = False

    # -- session

    def _connect(self, request: codec.Packet) -> Reply:
        terminal = self.terminal
        self.session_id = terminal.new_session_id()
        self.connected = True
        self.silenced = False
        self._drop_staged()
        needs_auth = terminal.comm_key != 0 or terminal.faults.refuse_auth
        self.authenticated = not needs_auth
        return self._answer(request, codec.CMD_ACK_UNAUTH if needs_auth else codec.CMD_ACK_OK)

    def _auth(self, request: codec.Packet) -> Reply:
        terminal = self.terminal
        if (
            self.connected
            and not terminal.faults.refuse_auth
            and codec.check_comm_key(request.payload, terminal.comm_key, self.session_id)
        ):
            self.authenticated = True
            return self._ok(request)
        return self._answer(request, codec.CMD_ACK_UNAUTH)

    def _exit(self, request: codec.Packet) -> Reply:
        reply = self._ok(request)
        self.connected = self.authenticated = False
        self._drop_staged()
        return reply

    # -- device

    def _enable(self, request: codec.Packet) -> Reply:
        with self.terminal.lock:
            self.terminal.enabled = True
        return self._ok(request)

    def _disable(self, request: codec.Packet) -> Reply:
        with self.terminal.lock:
            self.terminal.enabled = False
        return self._ok(request)

    def _version(self, request: codec.Packet) -> Reply:
        return self._ok(request, self.terminal.firmware.encode("ascii", "replace") + b"\0")

    def _options(self, request: codec.Packet) -> Reply:
        name = request.payload.split(b"\0", 1)[0].decode("ascii", "replace")
        value = self.terminal.option(name)
        if value is None:
            return self._error(request)
        return self._ok(request, f"{name}={value}".encode("ascii", "replace") + b"\0")

    def _free_sizes(self, request: codec.Packet) -> Reply:
        return self._ok(request, self.terminal.free_sizes())

    def _get_time(self, request: codec.Packet) -> Reply:
        return self._ok(request, _U32.pack(codec.encode_time(self.terminal.clock_now())))

    def _set_time(self, request: codec.Packet) -> Reply:
        if len(request.payload) < 4:
            return self._error(request)
        try:
            when = codec.decode_time(_U32.unpack_from(request.payload)[0])
        except ValueError:
            return self._error(request)
        self.terminal.set_clock(when)
        return self._ok(request)

    def _clear_attlog(self, request: codec.Packet) -> Reply:
        self.terminal.clear_log()
        return self._ok(request)

    def _pin_width(self, request: codec.Packet) -> Reply:
        # pyzk reads this reply with room for exactly one payload byte.
        return self._ok(request, bytes([_PIN_WIDTH]))

    # -- buffered reads

    def _free_data(self, request: codec.Packet) -> Reply:
        self._drop_staged()
        return self._ok(request)

    def _prepare_buffer(self, request: codec.Packet) -> Reply:
        if len(request.payload) < _PREPARE_BUFFER.size:
            return self._error(request)
        _one, command, fct, _ext = _PREPARE_BUFFER.unpack_from(request.payload)
        terminal = self.terminal
        if command == codec.CMD_ATTLOG_RRQ:
            if terminal.faults.fail_attendance_read:
                return self._error(request)
            self.staged = terminal.attendance_buffer()
            self._staged_attlog = True
            self._chunks_served = 0
        elif command == codec.CMD_USERTEMP_RRQ and fct == codec.FCT_USER:
            self.staged = terminal.user_buffer()
            self._staged_attlog = False
        else:
            return self._error(request)
        size = len(self.staged)
        return self._ok(request, _STAGED.pack(0, size, size, 0))

    def _read_buffer(self, request: codec.Packet) -> Reply:
        staged = self.staged
        if staged is None or len(request.payload) < _READ_BUFFER.size:
            return self._error(request)
        start, size = _READ_BUFFER.unpack_from(request.payload)
        if start < 0 or size < 0 or start > len(staged):
            return self._error(request)
        chunk = staged[start : start + size]
        packets = [self._packet(request, codec.CMD_PREPARE_DATA, _PREPARE_DATA.pack(len(chunk), 0))]
        if self.udp:
            step = codec.UDP_DATA_PACKET
            packets.extend(
                self._packet(request, codec.CMD_DATA, chunk[i : i + step]) for i in range(0, len(chunk), step)
            )
        else:
            packets.append(self._packet(request, codec.CMD_DATA, chunk))
        packets.append(self._packet(request, codec.CMD_ACK_OK))
        reply = Reply(packets, pause=self.terminal.faults.packet_pause)
        if self._staged_attlog:
            self._chunks_served += 1
            if self._chunks_served == self.terminal.faults.drop_after_chunks:
                reply.hang_up = True
                self.silenced = self.udp
        return reply


# --- framing -------------------------------------------------------------------


class TcpFramer:
    """Reassembles packets from a TCP byte stream using the 8-byte top header."""

    #: Requests are small; a longer announced length means the stream is garbage.
    MAX_PACKET = 1 << 20

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        """Add received bytes; return the packets now complete (ValueError on garbage)."""
        buffer = self._buffer
        buffer += data
        packets = []
        while len(buffer) >= codec.TCP_TOP.size:
            length = codec.tcp_length(buffer[: codec.TCP_TOP.size])
            if length > self.MAX_PACKET:
                raise ValueError(f"TCP packet of {length} bytes announced")
            end = codec.TCP_TOP.size + length
            if len(buffer) < end:
                break
            packets.append(bytes(buffer[codec.TCP_TOP.size : end]))
            del buffer[:end]
        return packets

    @staticmethod
    def frame(packet: bytes) -> bytes:
        """Wrap one packet for the TCP stream."""
        return codec.tcp_wrap(packet)


# --- transports ----------------------------------------------------------------


class SimulatorServer:
    """Serves one :class:`SimulatedTerminal` over TCP and UDP on the same port.

    ``port=0`` picks a free port (the same for both protocols); read it from
    :attr:`port` after :meth:`start`. Use as a context manager.
    """

    #: UDP sessions kept at most (each pyzk client uses a new source port).
    MAX_UDP_CLIENTS = 1024

    def __init__(self, terminal: SimulatedTerminal, host: str = "127.0.0.1", port: int = 0) -> None:
        self.terminal = terminal
        self.host = host
        self.port = port
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._connections: dict[socket.socket, threading.Thread] = {}
        self._lock = threading.Lock()
        self._tcp: socket.socket | None = None
        self._udp: socket.socket | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> SimulatorServer:
        """Bind both sockets and start serving in background threads."""
        if self._tcp is not None:
            return self
        self._stop.clear()
        self._tcp, self._udp = self._bind()
        self.port = self._tcp.getsockname()[1]
        self._wake_r, self._wake_w = socket.socketpair()
        for target, name in ((self._accept_loop, "tcp"), (self._udp_loop, "udp")):
            thread = threading.Thread(target=target, name=f"zk-sim-{name}-{self.port}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stop serving, close every connection and wait for the threads."""
        if self._tcp is None:
            return
        self._stop.set()
        assert self._wake_w is not None
        self._wake_w.send(b"x")
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()
        with self._lock:
            connections = list(self._connections.items())
        for conn, _thread in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for _conn, thread in connections:
            thread.join(timeout=5)
        for sock in (self._tcp, self._udp, self._wake_r, self._wake_w):
            if sock is not None:
                sock.close()
        self._tcp = self._udp = self._wake_r = self._wake_w = None

    def _bind(self) -> tuple[socket.socket, socket.socket]:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        for _attempt in range(100):
            tcp = socket.socket(family, socket.SOCK_STREAM)
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            udp = socket.socket(family, socket.SOCK_DGRAM)
            try:
                tcp.bind((self.host, self.port))
                udp.bind((self.host, tcp.getsockname()[1]))
            except OSError:
                tcp.close()
                udp.close()
                if self.port:
                    raise
                continue  # the free TCP port is taken for UDP: pick another
            tcp.listen(16)
            return tcp, udp
        raise OSError("no port free for both TCP and UDP")

    def _wait_readable(self, sock: socket.socket) -> bool:
        """Block until ``sock`` is readable; False once the server is stopping."""
        assert self._wake_r is not None
        readable, _, _ = select.select([sock, self._wake_r], [], [])
        return not self._stop.is_set() and sock in readable

    # -- TCP

    def _accept_loop(self) -> None:
        assert self._tcp is not None
        while self._wait_readable(self._tcp):
            try:
                conn, _addr = self._tcp.accept()
            except OSError:
                continue
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            thread = threading.Thread(target=self._serve_connection, args=(conn,), daemon=True)
            with self._lock:
                self._connections[conn] = thread
            thread.start()

    def _serve_connection(self, conn: socket.socket) -> None:
        handler = MessageHandler(self.terminal, udp=False)
        framer = TcpFramer()
        try:
            while not self._stop.is_set():
                data = conn.recv(65536)
                if not data:
                    break
                for packet in framer.feed(data):
                    if not self._send_tcp(conn, handler.handle(packet)):
                        return
        except (OSError, ValueError):
            pass
        finally:
            with self._lock:
                self._connections.pop(conn, None)
            conn.close()

    def _send_tcp(self, conn: socket.socket, reply: Reply) -> bool:
        """Send one reply; False when the connection must end (hang-up)."""
        if reply.delay and self._stop.wait(reply.delay):
            return False
        wires = [TcpFramer.frame(p) for p in reply.packets]
        if reply.hang_up:
            budget = sum(map(len, wires)) // 2
            for i, wire in enumerate(wires):
                if i and reply.pause and self._stop.wait(reply.pause):
                    break
                conn.sendall(wire[:budget])
                budget -= len(wire)
                if budget <= 0:
                    break
            if self.terminal.faults.drop_with_reset:
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return False
        if reply.pause:
            for i, wire in enumerate(wires):
                if i and self._stop.wait(reply.pause):
                    return False
                conn.sendall(wire)
        else:
            conn.sendall(b"".join(wires))
        return True

    # -- UDP

    def _udp_loop(self) -> None:
        udp = self._udp
        assert udp is not None
        handlers: dict[object, MessageHandler] = {}
        while self._wait_readable(udp):
            try:
                data, address = udp.recvfrom(65535)
            except OSError:  # e.g. an ICMP "port unreachable" from a client that left
                continue
            handler = handlers.get(address)
            if handler is None:
                if len(handlers) >= self.MAX_UDP_CLIENTS:
                    del handlers[next(iter(handlers))]  # the oldest
                handler = handlers[address] = MessageHandler(self.terminal, udp=True)
            reply = handler.handle(data)
            if not handler.connected and not handler.silenced:
                del handlers[address]  # after CMD_EXIT, or a stray datagram: nothing to keep
            packets = reply.packets[: len(reply.packets) // 2] if reply.hang_up else reply.packets
            if reply.delay and self._stop.wait(reply.delay):
                return
            for i, packet in enumerate(packets):
                if i and reply.pause and self._stop.wait(reply.pause):
                    return
                try:
                    udp.sendto(packet, address)
                except OSError:
                    break


# --- synthetic data ----------------------------------------------------------------

#: (seconds after midnight, spread in seconds, punch state) of a four-punch day.
#: The windows do not overlap, so one person's punches of a day are distinct.
_DAY_SLOTS = (
    (8 * 3600 + 50 * 60, 600, 0),  # 08:50 check-in
    (12 * 3600 + 2 * 60, 300, 2),  # 12:02 break-out
    (12 * 3600 + 55 * 60, 300, 3),  # 12:55 break-in
    (17 * 3600 + 3 * 60, 900, 1),  # 17:03 check-out
)
_VERIFY_MODES = (1, 1, 15, 15, 15, 2)  # fingerprint, face, card


def synthetic_punches(n: int, *, pins: int = 50, start: datetime = datetime(2026, 3, 2), seed: int = 1) -> list[Punch]:
    """Exactly ``n`` punches of ``pins`` people working four-punch days.

    Monday to Friday from ``start`` on, each person punches around 08:50,
    12:02, 12:55 and 17:03 (triangular jitter of up to 10, 5, 5 and 15
    minutes) with their own verify mode; records are in time order as a
    terminal stores them, (pin, timestamp) pairs are distinct, and the same
    arguments always give the same list. The last day is cut off at ``n``.
    """
    if n < 0 or pins < 1:
        raise ValueError("need n >= 0 and pins >= 1")
    rng = random.Random(seed)
    rand = rng.random
    pin_names = [str(i) for i in range(1, pins + 1)]
    verify_of = [rng.choice(_VERIFY_MODES) for _ in pin_names]
    seconds = [timedelta(seconds=s) for s in range(86400)]
    out: list[Punch] = []
    day = datetime(start.year, start.month, start.day)
    one_day = timedelta(days=1)
    while len(out) < n:
        if day.weekday() < 5:
            today = []
            for index in range(pins):
                for centre, spread, state in _DAY_SLOTS:
                    today.append((centre + int((rand() + rand() - 1.0) * spread), index, state))
            today.sort()
            for offset, index, state in today[: n - len(out)]:
                out.append(Punch(pin_names[index], day + seconds[offset], state, verify_of[index]))
        day += one_day
    return out


# --- command line ----------------------------------------------------------------------

DEFAULT_RECORDS = 1000


def run_simulator(
    port: int,
    *,
    records: int | None = None,
    attlog: Path | None = None,
    comm_key: int = 0,
    users: int | None = None,
    serial: str = "SIM00000001",
    host: str = "127.0.0.1",
    record_size: int = 40,
    encoding: str = "gbk",
) -> None:
    """Serve a simulated terminal until Ctrl-C or SIGTERM (``attendd simulate-device``).

    The log comes from ``attlog`` (a USB export, see :mod:`drivers.attlog`) or
    is ``records`` synthetic punches (default 1,000); not both. ``users=N``
    enrols PINs 1..N (and synthetic punches use those N people); otherwise one
    user per PIN in the log. Prints one line saying where it listens.
    """
    if attlog is not None and records is not None:
        raise ValueError("give either records or attlog, not both")
    if attlog is not None:
        from ..attlog import read_attlog

        punches = read_attlog(attlog)
    else:
        punches = synthetic_punches(DEFAULT_RECORDS if records is None else records, pins=users or 50)
    user_list = None
    if users is not None:
        user_list = make_users((str(i) for i in range(1, users + 1)), encoding=encoding)
    terminal = SimulatedTerminal(
        serial=serial,
        punches=punches,
        users=user_list,
        comm_key=comm_key,
        record_size=record_size,
        encoding=encoding,
    )
    with until_stopped() as stopping, SimulatorServer(terminal, host=host, port=port) as server:
        print(
            f"Simulated ZKTeco terminal {serial} listening on {host}:{server.port} (TCP and UDP): "
            f"{len(terminal.punches)} records ({record_size}-byte layout), {len(terminal.users)} users, "
            f"comm key {'required' if comm_key else 'none'}",
            flush=True,
        )
        while not stopping.wait(0.5):
            pass
