"""Transport: open a serial line and read what is there, through pyserial.

:func:`open_port` takes whatever pyserial's ``serial_for_url`` takes: a
device path (``/dev/ttyS0``, ``/dev/ttyUSB0``, a pty's ``/dev/pts/N``) or a
URL (``socket://host:port`` for a serial server's raw TCP port,
``rfc2217://host:port`` for one speaking RFC 2217, ``loop://`` for tests).
pyserial's errors are mapped onto the driver exception tree: a port that
cannot be opened is :class:`TerminalUnreachable`, a read that fails on an
open port (cable pulled, serial server gone) is :class:`TransferInterrupted`.
"""

from __future__ import annotations

import importlib
import re
from typing import Protocol, cast

import serial

from .._exceptions import TerminalUnreachable, TransferInterrupted

__all__ = ["READ_POLL", "Port", "check_url", "open_port", "read_available"]

#: How long one read waits for a first byte: the longest a stop request
#: waits for the reader to notice it.
READ_POLL = 0.25

#: The most bytes :func:`read_available` returns at once.
READ_LIMIT = 65536

_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://")


class Port(Protocol):
    """What the driver uses of an open port: a ``serial.SerialBase``, or a test's stand-in.

    pyserial has no type information, so this names the part of its port the
    reader relies on: a read that waits up to ``timeout`` seconds, and close.
    """

    timeout: float | None

    def read(self, size: int = 1) -> bytes: ...

    def close(self) -> None: ...


def check_url(url: str) -> str:
    """``url`` if pyserial can open that kind of port; ValueError naming the problem.

    A device path is accepted as it is (whether it exists is a matter of the
    moment, not of the config); a URL's scheme must be one pyserial knows.
    """
    m = _SCHEME.match(url)
    if m is None:
        if "://" in url or not url.strip():
            raise ValueError(
                f"expected a device path such as /dev/ttyS0 or a URL such as socket://host:port, got {url!r}"
            )
        return url
    scheme = m["scheme"].lower()
    for package in serial.protocol_handler_packages:
        try:
            importlib.import_module(f"{package}.protocol_{scheme}")
        except ImportError:
            continue
        return url
    raise ValueError(f"pyserial does not know {scheme}:// URLs (use socket://, rfc2217:// or a device path)")


def open_port(url: str, *, baudrate: int = 9600, timeout: float = READ_POLL, device: str | None = None) -> Port:
    """An open pyserial port; :class:`TerminalUnreachable` when it cannot be opened."""
    try:
        port = serial.serial_for_url(url, baudrate=baudrate, timeout=timeout, do_not_open=True)
        _open_keeping_input(port)
        return cast(Port, port)  # pyserial is untyped: its ports are Any to mypy
    except (serial.SerialException, OSError, ValueError) as exc:
        raise TerminalUnreachable(f"cannot open {url}: {_reason(exc)}", device=device) from None


def _open_keeping_input(port: serial.SerialBase) -> None:
    """Open ``port`` without the input flush pyserial does on open.

    pyserial discards what is already waiting when it opens a port (a
    ``tcflush`` on a tty, a drain of the socket for ``socket://``, a PURGE
    sent to an RFC 2217 server). On an attendance line what is waiting is
    punches printed while we were reconnecting: they are kept.
    """

    def keep() -> None:
        return None

    port.reset_input_buffer = keep
    port._reset_input_buffer = keep
    try:
        port.open()
    finally:
        del port.reset_input_buffer
        del port._reset_input_buffer


def read_available(port: Port, *, device: str | None = None, limit: int = READ_LIMIT) -> bytes:
    """Wait up to the port's timeout for a byte, then take what else is already there.

    Returns b"" when nothing came; :class:`TransferInterrupted` when the port
    failed (for ``socket://``, the other end closed the connection). Bytes
    read before a failure are returned first; the next call reports it.
    """
    try:
        data = port.read(1)
    except (serial.SerialException, OSError) as exc:
        raise TransferInterrupted(f"connection lost: {_reason(exc)}", device=device) from None
    if not data:
        return data
    # Then take what is already there without waiting. Not through ``in_waiting``: for
    # socket:// pyserial reports 1 whenever anything is readable, which turned a burst into
    # one-byte reads (20,000 lines took 5.9 s); a read with timeout 0 returns what is there.
    timeout = port.timeout
    try:
        port.timeout = 0
        while len(data) < limit:
            more = port.read(limit - len(data))
            if not more:
                break
            data += more
    except (serial.SerialException, OSError):
        pass  # the next read reports the failure
    finally:
        try:
            port.timeout = timeout
        except (serial.SerialException, OSError):
            pass
    return data


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
