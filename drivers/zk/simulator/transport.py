"""Transport: the simulator on the wire, one TCP and one UDP server on the same port.

Each server runs on its own thread (plus one thread per TCP connection).
TCP bytes are cut into packets by :class:`~drivers.zk.framer.TcpFramer`;
over UDP one datagram is one packet. Every packet goes to the client's
:class:`~.handler.MessageHandler`, and its :class:`~.handler.Reply` is
sent back with the reply's delay, pauses between packets and hang-up
(half the reply, then a close, a reset or silence).
"""

from __future__ import annotations

import select
import socket
import struct
import threading

from ..framer import TcpFramer
from .device import SimulatedTerminal
from .handler import MessageHandler, Reply

__all__ = ["SimulatorServer"]


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
