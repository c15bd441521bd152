"""A session with a ZKTeco terminal: pyzk for the conversation, our codec for the data.

pyzk 0.9 handles connect, comm-key auth and the chunked buffer transfer well
enough, so we keep it for the session. Its record decoding is wrong for the
8- and 49-byte layouts, aborts the whole pull on one impossible date, and is
quadratic (it slices the buffer per record and searches the user list per
record), so :meth:`ZKTerminal.read_attendance` takes the raw buffer from
``read_with_buffer`` and decodes it with :func:`codec.decode_attendance`.

Two more pyzk faults are fixed here, at the socket:

* a TCP peer that closes mid-transfer makes pyzk's raw-data loop spin forever
  on ``recv`` returning ``b""``; :class:`_EOFGuard` turns that into an error;
* pyzk reports every socket failure as a bare string; :func:`_translate` maps
  them onto our exception tree with a message an admin can act on.
"""

from __future__ import annotations

import errno
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from zk import ZK
from zk.exception import ZKError, ZKErrorResponse

from .._exceptions import (
    ProtocolError,
    TerminalAuthError,
    TerminalError,
    TerminalUnreachable,
    TransferInterrupted,
)
from .._models import AttendanceLog, DeviceInfo, DeviceUser
from . import codec


class _EOFGuard:
    """Socket proxy: a TCP ``recv`` that returns no bytes raises instead.

    pyzk loops on ``recv`` until it has the bytes it expects; a closed
    connection returns ``b""`` for ever and the loop never ends.
    """

    def __init__(self, sock: socket.socket, counter: list[int]) -> None:
        self._sock = sock
        self._counter = counter

    def recv(self, size: int, *flags: int) -> bytes:
        data = self._sock.recv(size, *flags)
        if not data and size:
            raise ConnectionResetError(errno.ECONNRESET, "connection closed by the terminal")
        self._counter[0] += len(data)
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def _translate(exc: BaseException, where: str, *, transferring: bool = False) -> TerminalError:
    text = str(exc) or exc.__class__.__name__
    low = text.lower()
    if isinstance(exc, ZKErrorResponse) and "unauth" in low:
        return TerminalAuthError("the terminal refused the comm key (check devices.comm_key)")
    if isinstance(exc, (socket.timeout, TimeoutError)) or "timed out" in low:
        if transferring:
            return TransferInterrupted(f"{where}: the terminal stopped answering mid-transfer")
        return TerminalUnreachable(f"{where}: no answer (timed out)")
    if isinstance(exc, (ConnectionError, OSError)) or any(
        w in low for w in ("reset", "broken pipe", "refused", "not connected", "closed")
    ):
        if transferring:
            return TransferInterrupted(f"{where}: connection lost mid-transfer ({text})")
        return TerminalUnreachable(f"{where}: connection lost ({text})")
    if isinstance(exc, ZKError):
        return ProtocolError(f"{where}: {text}")
    return ProtocolError(f"{where}: unexpected reply ({exc.__class__.__name__}: {text})")


class ZKTerminal:
    """One terminal speaking the ZKTeco binary protocol over TCP or UDP.

    Implements :class:`drivers.Terminal`. The comm key is kept only in the
    pyzk session object and never appears in messages or ``repr``.
    """

    def __init__(
        self,
        host: str,
        port: int = 4370,
        *,
        protocol: str = "tcp",
        comm_key: int = 0,
        encoding: str = "gbk",
        timeout: float = 10.0,
    ) -> None:
        if protocol not in ("tcp", "udp"):
            raise ValueError(f"protocol must be tcp or udp, not {protocol!r}")
        self.host, self.port, self.protocol = host, port, protocol
        self.encoding = encoding
        self.timeout = timeout
        self._comm_key = comm_key
        self._zk: Any = None
        self._conn: Any = None
        self._users: list[DeviceUser] | None = None
        self._lock = threading.Lock()
        #: how many :meth:`locked` blocks are open (the terminal stays disabled while > 0)
        self._held = 0
        #: bytes received on the current session (for benchmarks and logs)
        self.bytes_received = [0]

    def __repr__(self) -> str:
        return f"ZKTerminal({self.protocol}://{self.host}:{self.port})"

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}/{self.protocol}"

    # --- session -------------------------------------------------------------

    def open(self) -> ZKTerminal:
        """Connect and authenticate; raises TerminalUnreachable / TerminalAuthError."""
        if self._conn is not None:
            return self
        if self.protocol == "tcp":
            self._probe_tcp()
        self._zk = ZK(
            self.host,
            port=self.port,
            timeout=self.timeout,
            password=self._comm_key,
            force_udp=self.protocol == "udp",
            ommit_ping=True,
            encoding=self.encoding,
        )
        try:
            self._conn = self._zk.connect()
        except (ZKError, OSError) as exc:
            self._zk = None
            raise _translate(exc, f"connect to {self.address}") from None
        sock = self._zk._ZK__sock  # pyzk keeps its socket private; we guard it
        if self.protocol == "tcp":
            self._zk._ZK__sock = _EOFGuard(sock, self.bytes_received)
        return self

    def _probe_tcp(self) -> None:
        """Tell refused, timed out and unroutable apart before pyzk hides them."""
        try:
            with socket.create_connection((self.host, self.port), timeout=self.timeout):
                pass
        except TimeoutError:
            raise TerminalUnreachable(f"cannot reach {self.address}: no answer within {self.timeout:g} s") from None
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise TerminalUnreachable(f"cannot reach {self.address}: {reason.lower()}") from None

    def close(self) -> None:
        """Say goodbye and close the socket; never raises."""
        conn, self._conn, self._zk = self._conn, None, None
        if conn is None:
            return
        try:
            conn.disconnect()
        except Exception:  # the session is over either way
            try:
                conn._ZK__sock.close()
            except Exception:
                pass

    def __enter__(self) -> ZKTerminal:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _calling(self, where: str, *, transferring: bool = False) -> Iterator[Any]:
        if self._conn is None:
            raise TerminalError(f"{where}: not connected")
        try:
            yield self._conn
        except TerminalError:
            raise
        except Exception as exc:  # pyzk raises ZKError, OSError, struct.error, ValueError…
            raise _translate(exc, where, transferring=transferring) from None

    # --- Terminal interface ----------------------------------------------------

    def device_info(self) -> DeviceInfo:
        with self._calling("read device info") as c:
            serial = c.get_serialnumber()
            firmware = c.get_firmware_version()
            c.read_sizes()
            records, users = c.records, c.users
            # pyzk names the capacities rec_cap and users_cap; a reply without them leaves them unset
            record_cap, user_cap = getattr(c, "rec_cap", 0), getattr(c, "users_cap", 0)
        platform = ""
        try:
            with self._calling("read platform") as c:
                platform = c.get_platform()
        except ProtocolError:
            pass  # older firmware does not know the option; not worth failing a pull
        return DeviceInfo(
            serial=serial,
            firmware=firmware,
            platform=platform,
            record_count=records,
            user_count=users,
            clock=self._clock_or_none(),
            record_capacity=record_cap if isinstance(record_cap, int) and record_cap > 0 else None,
            user_capacity=user_cap if isinstance(user_cap, int) and user_cap > 0 else None,
        )

    def _clock_or_none(self) -> datetime | None:
        try:
            return self.read_clock()
        except ProtocolError:
            return None  # a clock reading 31 February is reported as unknown

    def read_clock(self) -> datetime:
        with self._calling("read clock") as c:
            when: datetime = c.get_time()  # pyzk is untyped: its ZK.get_time returns a naive datetime
            return when

    def set_clock(self, when: datetime) -> None:
        with self._calling("set clock") as c:
            c.set_time(when)

    def read_users(self) -> list[DeviceUser]:
        with self._calling("read users", transferring=True) as c:
            c.read_sizes()
            if c.users == 0:
                self._users = []
                return []
            data, _size = c.read_with_buffer(codec.CMD_USERTEMP_RRQ, codec.FCT_USER)
            count = c.users
        try:
            self._users = codec.decode_users(data, count, self.encoding)
        except ValueError as exc:
            raise ProtocolError(f"read users: {exc}") from None
        return self._users

    def read_attendance(self) -> AttendanceLog:
        """Lock the terminal (unless a :meth:`locked` block already holds it), read the whole
        log, unlock it whatever happened."""
        with self.locked():
            with self._calling("read attendance log", transferring=True) as c:
                c.read_sizes()
                count = c.records
                if count == 0:
                    return AttendanceLog(record_count=0)
                data, _size = c.read_with_buffer(codec.CMD_ATTLOG_RRQ)
        try:
            size = codec.record_size(max(len(data) - 4, 0), count)
            uid_map: dict[int, str] = {}
            if size == 8:  # the 8-byte layout carries the uid only
                uid_map = {u.uid: u.pin for u in (self._users or self.read_users())}
            log = codec.decode_attendance(data, count, uid_map)
        except ValueError as exc:
            raise ProtocolError(f"read attendance log: {exc}") from None
        log.record_count = count
        return log

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Disable the terminal (CMD_DISABLEDEVICE: it takes no punches) for the block and enable
        it afterwards whatever happened; nested blocks lock and unlock once, at the outermost."""
        if not self._held:
            with self._calling("lock terminal") as c:
                c.disable_device()
        self._held += 1
        try:
            yield
        finally:
            self._held -= 1
            if not self._held:
                self._unlock()

    def record_count(self) -> int:
        """The attendance record count the terminal reports now (CMD_GET_FREE_SIZES)."""
        with self._calling("read record count") as c:
            c.read_sizes()
            count: int = c.records
            return count

    def clear_attendance(self) -> None:
        """CMD_CLEAR_ATTLOG: the terminal deletes its whole attendance log."""
        with self._calling("clear attendance log") as c:
            c.clear_attendance()

    def _unlock(self) -> None:
        """Enable the terminal; if the session is gone, reconnect once to do it."""
        try:
            with self._calling("unlock terminal") as c:
                c.enable_device()
            return
        except TerminalError:
            pass
        self.close()
        try:
            with ZKTerminal(
                self.host,
                self.port,
                protocol=self.protocol,
                comm_key=self._comm_key,
                encoding=self.encoding,
                timeout=min(self.timeout, 5.0),
            ) as again:
                with again._calling("unlock terminal") as c:
                    c.enable_device()
        except TerminalError:
            # The terminal unlocks itself when its session times out; the
            # pull has failed anyway and says why.
            pass
