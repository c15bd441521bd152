"""Message handling: the simulator's protocol logic, pure.

One request packet (without TCP top header) in, one :class:`Reply` (a list
of reply packets plus timing) out. One :class:`MessageHandler` per TCP
connection or per UDP client address; it holds that client's session (id,
authentication, staged data set) and reads and changes the
:class:`~.device.SimulatedTerminal` behind it. No sockets: the transport
(:mod:`.transport`) applies a reply's timing and hang-up to the wire.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field

from .. import codec
from .device import SimulatedTerminal

__all__ = ["MessageHandler", "Reply"]


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
#: A data set this small (u32 size prefix included) is answered to CMD_PREPARE_BUFFER at once,
#: as one CMD_DATA packet, as firmware does for "less than about 1 KB" (nothing is staged, no
#: CMD_READ_BUFFER follows). 1016: the packet (8-byte header + data) then fits the 1,024 bytes
#: pyzk reads that answer with over UDP.
SMALL_DATA = codec.UDP_DATA_PACKET - codec.HEADER.size


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
        if self.terminal.faults.drop_on_clear:  # the connection drops before the terminal clears
            self.silenced = self.udp
            return Reply(hang_up=True)
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
        """Stage the data set asked for and say its size (ACK_OK), or send a small one at once
        (CMD_DATA, see :data:`SMALL_DATA`)."""
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
        if size <= SMALL_DATA:
            data = self.staged
            self._drop_staged()
            return self._answer(request, codec.CMD_DATA, data)
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
