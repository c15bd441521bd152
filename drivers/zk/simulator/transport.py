"""Transport: the simulator on the wire, one TCP and one UDP server on the same port.

Each server runs on its own thread (plus one thread per TCP connection).
TCP bytes are cut into packets by :class:`~drivers.zk.framer.TcpFramer`;
over UDP one datagram is one packet. Every packet goes to the client's
:class:`~.handler.MessageHandler`, and its :class:`~.handler.Reply` is
sent back with the reply's delay, pauses between packets and hang-up
(half the reply, then a close, a reset or silence).

Pacing, as firmware does it: every packet of a multi-packet reply
(PREPARE_DATA, DATA, ACK_OK) is its own write, ``packet_pause`` apart, so a
client that reads one packet per ``recv`` never gets two in one read (pyzk
copes with coalesced packets, some public clients stall on them). Over UDP
the 1 KB DATA datagrams of one chunk are ``data_pause`` apart: UDP never
coalesces, the pause only spreads the burst at about the speed of a
terminal's 100 Mbit port. The pause is paid between the packets of one reply
only, never inside the DATA packet of a TCP chunk (64 KB), so a 200,000-record
pull pays it twice per chunk (~250 times).
"""

from __future__ import annotations

import select
import socket
import struct
import threading
import time
from collections.abc import Iterator

from .. import codec
from ..framer import TcpFramer
from .device import SimulatedTerminal
from .handler import MessageHandler, Reply

__all__ = ["DEFAULT_DATA_PAUSE", "DEFAULT_PACKET_PAUSE", "SimulatorServer"]

#: Seconds between the packets of one reply (PREPARE_DATA, DATA, ACK_OK): long enough for a
#: client that reads one packet per ``recv`` on an idle machine, short enough that a
#: 200,000-record TCP pull pays about a quarter of a second for it (bench/README.md).
DEFAULT_PACKET_PAUSE = 0.001
#: Seconds between two UDP DATA datagrams (1 KB each) of one chunk: about 100 Mbit/s.
DEFAULT_DATA_PAUSE = 0.0001
_COMMAND = struct.Struct("<H")


class SimulatorServer:
    """Serves one :class:`SimulatedTerminal` over TCP and UDP on the same port.

    ``port=0`` picks a free port (the same for both protocols); read it from
    :attr:`port` after :meth:`start`. Use as a context manager.

    ``packet_pause``: seconds between the packets of one reply (see the module's docstring);
    ``data_pause``: between two UDP DATA datagrams of one chunk; ``reply_delay``: before
    every reply. The terminal's :class:`~.device.Faults` ``packet_pause`` and ``reply_delay``,
    when larger, win (they are injected misbehaviour: a slow terminal). 0 sends a reply's
    packets back to back, still one write each.
    """

    #: UDP sessions kept at most (each pyzk client uses a new source port).
    MAX_UDP_CLIENTS = 1024
    #: A pause between UDP DATA datagrams shorter than this is not slept on its own: the
    #: datagrams keep to their rate on average, sleeping once every few (a sleep costs ~0.1 ms).
    MIN_SLEEP = 0.0005

    def __init__(
        self,
        terminal: SimulatedTerminal,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        packet_pause: float = DEFAULT_PACKET_PAUSE,
        data_pause: float = DEFAULT_DATA_PAUSE,
        reply_delay: float = 0.0,
    ) -> None:
        if min(packet_pause, data_pause, reply_delay) < 0:
            raise ValueError("packet_pause, data_pause and reply_delay are seconds, 0 or more")
        self.terminal = terminal
        self.host = host
        self.port = port
        self.packet_pause = packet_pause
        self.data_pause = data_pause
        self.reply_delay = reply_delay
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

    def _paced(self, reply: Reply, packets: list[bytes]) -> Iterator[bytes]:
        """``packets`` (a reply's, or the part a hang-up sends) after the reply's delay and the
        pause before each; stops early when the server is stopping.

        The pause before a packet is ``data_pause`` between two DATA packets (only UDP has
        several per chunk), kept as a rate, and ``packet_pause`` otherwise, counted from the
        previous write; a fault's larger value wins.
        """
        pause = max(self.packet_pause, reply.pause)
        data = max(self.data_pause, reply.pause)
        delay = max(self.reply_delay, reply.delay)
        if delay and self._stop.wait(delay):
            return
        before = None
        due = time.monotonic()  # when the last packet was due: DATA datagrams follow it at their rate
        for packet in packets:
            command = _COMMAND.unpack_from(packet)[0]
            if before == command == codec.CMD_DATA:
                due += data
                wait = due - time.monotonic()
                # ahead of the rate by less than a sleep is worth: send it now
                if wait >= self.MIN_SLEEP and self._stop.wait(wait):
                    return
            elif before is not None:
                if pause and self._stop.wait(pause):
                    return
                due = time.monotonic()
            before = command
            yield packet

    def _send_tcp(self, conn: socket.socket, reply: Reply) -> bool:
        """Send one reply, one write per packet; False when the connection must end (hang-up)."""
        wires = [TcpFramer.frame(p) for p in reply.packets]
        if reply.hang_up:
            budget = sum(map(len, wires)) // 2
            for wire in self._paced(reply, wires):
                conn.sendall(wire[:budget])
                budget -= len(wire)
                if budget <= 0:
                    break
            if self.terminal.faults.drop_with_reset:
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return False
        sent = 0
        for wire in self._paced(reply, wires):
            conn.sendall(wire)
            sent += 1
        return sent == len(wires)

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
            for packet in self._paced(reply, packets):
                try:
                    udp.sendto(packet, address)
                except OSError:
                    break
            if self._stop.is_set():
                return
