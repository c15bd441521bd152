"""A simulated serial terminal: prints punches as text lines, with faults on demand.

:class:`SimulatedSerialTerminal` holds the records and the faults; it is
served either on a pseudo-terminal (:class:`PtyTerminal`: the reader opens
the slave's ``/dev/pts/N`` as a device path, exactly like ``/dev/ttyUSB0``)
or on a TCP port (:class:`TcpTerminal`: the reader opens
``socket://127.0.0.1:PORT``, like a serial server's raw TCP mode). Records
are printed in any preset of :mod:`.formats` and new ones can be punched
while it runs (:meth:`SimulatedSerialTerminal.punch`), as on a real line.

Faults (:class:`Faults`): a garbage or binary noise line before chosen
records; the connection dropped in the middle of a chosen record's line,
after which the terminal prints that record again (and ``replay`` records
before it: a terminal that cannot know what arrived re-sends, and the store
must not double them); slow byte-by-byte writes.
"""

from __future__ import annotations

import os
import pty
import select
import socket
import threading
import time
import tty
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Self

from .._foreground import announce, until_stopped
from .._models import Punch
from ..adms.protocol import attlog_line

__all__ = ["NOISE", "RENDER", "Faults", "PtyTerminal", "SimulatedSerialTerminal", "TcpTerminal", "run_serial_simulator"]

_TIME = "%Y-%m-%d %H:%M:%S"

#: How each preset prints a punch (what a terminal using it would send).
RENDER: dict[str, Callable[[Punch], str]] = {
    "attlog": lambda p: f"{p.pin:>9}\t{p.timestamp:{_TIME}}\t1\t{p.state}\t{p.verify}\t{p.work_code}",
    "adms": attlog_line,
    "csv": lambda p: f"{p.pin},{p.timestamp:{_TIME}},{p.state},{p.verify},{p.work_code}",
    "rtlog": lambda p: (
        f"time={p.timestamp:{_TIME}}\tpin={p.pin}\tcardno=0\teventaddr=1\tevent=0"
        f"\tinoutstatus={p.state}\tverifytype={p.verify}\tworkcode={p.work_code}"
    ),
    "compact": lambda p: f"{int(p.pin):010d} {p.timestamp:%Y%m%d%H%M%S} {p.state} {p.verify} {p.work_code}",
}

#: The noise lines a :class:`Faults` ``noise_before`` inserts, in turn: line
#: noise, a firmware message, binary bytes, a record-shaped line with a bad date.
NOISE: tuple[bytes, ...] = (
    b"\x00\x13\xfe\xff\x1b[2J~~",
    b"ERR 42: SENSOR TIMEOUT",
    bytes(range(0x80, 0xA0)),
    b"7\t2026-02-31 08:00:00\t1\t0\t1\t0",
)


@dataclass(frozen=True)
class Faults:
    """What goes wrong, by record index (0-based, in the order records are printed)."""

    noise_before: frozenset[int] = field(default_factory=frozenset)
    drop_at: int | None = None
    replay: int = 1
    byte_by_byte: bool = False
    byte_delay: float = 0.0


class SimulatedSerialTerminal:
    """The records a terminal prints and where it is in printing them."""

    def __init__(
        self,
        punches: Iterable[Punch] = (),
        *,
        format: str = "attlog",  # noqa: A002 - the preset's name, as in the config
        encoding: str = "utf-8",
        line_end: bytes = b"\r\n",
        faults: Faults = Faults(),
    ) -> None:
        if format not in RENDER:
            raise ValueError(f"unknown format {format!r}; known: {', '.join(RENDER)}")
        self.format = format
        self.encoding = encoding
        self.line_end = line_end
        self.faults = faults
        self.records: list[Punch] = list(punches)
        self.next = 0  # index of the next record to print
        self.noise_sent = 0
        self.drops = 0
        self._noised: set[int] = set()
        self._cond = threading.Condition()

    def punch(self, *punches: Punch) -> None:
        """Someone punched: print these records next."""
        with self._cond:
            self.records.extend(punches)
            self._cond.notify_all()

    def line(self, punch: Punch) -> bytes:
        return RENDER[self.format](punch).encode(self.encoding) + self.line_end

    @property
    def done(self) -> bool:
        """Every record printed (as far as the terminal knows)."""
        with self._cond:
            return self.next >= len(self.records)

    def serve(
        self, write: Callable[[bytes], None], stop: threading.Event, alive: Callable[[], bool] = lambda: True
    ) -> str:
        """Print records through ``write`` until ``stop``, the peer leaving (``alive``
        false) or the drop fault; returns ``"stopped"``, ``"closed"`` or ``"dropped"``.

        A ``write`` that raises OSError (the peer went away) leaves the record
        to be printed again on the next connection.
        """
        f = self.faults
        while not stop.is_set():
            with self._cond:
                if self.next >= len(self.records):
                    self._cond.wait(0.05)
                    if self.next >= len(self.records):
                        if not alive():
                            return "closed"
                        continue
                index = self.next
                punch = self.records[index]
            if index in f.noise_before and index not in self._noised:
                self._noised.add(index)
                self._write(write, NOISE[self.noise_sent % len(NOISE)] + self.line_end)
                self.noise_sent += 1
            data = self.line(punch)
            if f.drop_at == index and not self.drops:
                self.drops += 1
                self._write(write, data[: len(data) // 2])
                with self._cond:
                    self.next = max(0, index - f.replay)
                return "dropped"
            self._write(write, data)
            with self._cond:
                self.next = index + 1
        return "stopped"

    def _write(self, write: Callable[[bytes], None], data: bytes) -> None:
        if not self.faults.byte_by_byte:
            write(data)
            return
        for i in range(len(data)):
            write(data[i : i + 1])
            if self.faults.byte_delay:
                time.sleep(self.faults.byte_delay)


class _Served:
    """Start/stop plumbing shared by the pty and TCP servers."""

    #: What the reader opens: a device path or a ``socket://`` URL.
    url: str

    def __init__(self, terminal: SimulatedSerialTerminal) -> None:
        self.terminal = terminal
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _run(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def start(self) -> Self:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=type(self).__name__, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self._close()

    def _close(self) -> None:
        pass

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class PtyTerminal(_Served):
    """The terminal on a pseudo-terminal pair; open :attr:`path` with the reader.

    The slave is put in raw mode at once (no echo, no CR→LF translation) and
    kept open here, so the line exists until :meth:`stop`. The drop fault
    closes the master: the reader's next read fails as on a pulled cable.
    """

    def __init__(self, terminal: SimulatedSerialTerminal) -> None:
        super().__init__(terminal)
        self._master, self._slave = pty.openpty()
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        self.path = os.ttyname(self._slave)
        self.url = self.path

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            if self._stop.is_set():
                raise OSError("simulator stopping")
            try:
                view = view[os.write(self._master, view) :]
            except BlockingIOError:
                select.select([], [self._master], [], 0.05)

    def _run(self) -> None:
        try:
            outcome = self.terminal.serve(self._write, self._stop)
        except OSError:
            return
        if outcome == "dropped":
            self._close()

    def _close(self) -> None:
        for name in ("_master", "_slave"):
            fd = getattr(self, name)
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
                setattr(self, name, -1)


class TcpTerminal(_Served):
    """The terminal behind a serial server's raw TCP port: ``socket://HOST:PORT``.

    One client at a time, like a serial line; the next connection continues
    where the last one stopped. ``port=0`` picks a free port.
    """

    def __init__(self, terminal: SimulatedSerialTerminal, *, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(terminal)
        self._sock = socket.create_server((host, port))
        self._sock.settimeout(0.05)
        self.host = host
        self.port = self._sock.getsockname()[1]
        self.url = f"socket://{host}:{self.port}"
        self.connections = 0

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _addr = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.settimeout(None)
                try:
                    self.terminal.serve(conn.sendall, self._stop, alive=partial(_peer_open, conn))
                except OSError:
                    pass

    def _close(self) -> None:
        self._sock.close()


def _peer_open(conn: socket.socket) -> bool:
    """False once the client has closed its end (readable with nothing to read)."""
    try:
        ready, _, _ = select.select([conn], [], [], 0)
        return not ready or conn.recv(1024, socket.MSG_PEEK) != b""
    except OSError:
        return False


def run_serial_simulator(
    punches: list[Punch],
    *,
    listen: tuple[str, int] | None = None,
    use_pty: bool = False,
    format: str = "attlog",  # noqa: A002
    encoding: str = "utf-8",
    interval: float = 0.0,
) -> None:
    """Serve a simulated serial terminal until Ctrl-C or SIGTERM (``attendd simulate-device --driver serial``).

    On a TCP port (``listen``) or a new pty (``use_pty``); prints one line
    saying where, then the records: all at once, or one every ``interval``
    seconds, as people punch.
    """
    terminal = SimulatedSerialTerminal([] if interval else punches, format=format, encoding=encoding)
    server: _Served
    if use_pty:
        server = PtyTerminal(terminal)
    elif listen is not None:
        server = TcpTerminal(terminal, host=listen[0], port=listen[1])
    else:
        raise ValueError("give listen=(host, port) or use_pty=True")
    with until_stopped() as stopping, server:
        pace = f"one every {interval:g} s" if interval else "all at once"
        announce(f"Simulated serial terminal on {server.url}: {len(punches)} records in the {format} format, {pace}")
        for punch in punches if interval else ():
            if stopping.wait(interval):
                break
            terminal.punch(punch)
        while not stopping.wait(0.5):
            pass
