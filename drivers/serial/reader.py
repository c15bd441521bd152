"""The serial reader: port → framer → record format → batches, in a thread.

:class:`SerialReader` keeps one serial line open for as long as it runs.
Terminals print a record the moment someone punches, so every chunk read
becomes one batch — the punches and the bad records framed in it — handed
at once to ``on_batch(punches, bad)``. Lines are numbered from 1 for the
life of the reader, across reconnects, and a bad record carries its number.

When the port cannot be opened or the connection drops, the reader closes
it, reports the half line the framer was holding (it will never be
completed), waits (:class:`Backoff`: exponential, capped, optionally
jittered) and opens it again. Health is logged the way the rest of attendd
does it: the first failure at error level, silence while it lasts, the
recovery once. When ``on_batch`` raises (the store is down) the same batch
is retried with the same back-off and nothing more is read meanwhile: the
bytes wait in the operating system's and the serial server's buffers.
Nothing handed over is ever dropped unless the reader is stopped while the
store still refuses it, and then the records are logged in full.

``sleep`` is injectable (it returns True when the reader should stop), so
tests run back-off schedules without waiting.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from .._exceptions import TerminalError
from .._health import report_failure, report_recovery
from .._models import BadRecord, Punch
from .formats import PRESETS, RecordFormat
from .framing import BadFrame, Frame, Framer, LineFramer
from .transport import READ_POLL, Port, open_port, read_available

__all__ = ["Backoff", "OnBatch", "OnHealth", "ReaderStats", "SerialReader"]

log = structlog.get_logger("attendd.serial")

#: ``on_batch(punches, bad)``: store one batch; raise to have it retried.
OnBatch = Callable[[list[Punch], list[BadRecord]], object]
#: ``on_health(None)`` when the port opened, ``on_health(error)`` at the first failure of an outage.
OnHealth = Callable[[str | None], object]


@dataclass(frozen=True, slots=True)
class Backoff:
    """Wait ``initial * factor**attempt`` seconds, at most ``cap``, ± ``jitter`` (a fraction)."""

    initial: float = 1.0
    factor: float = 2.0
    cap: float = 60.0
    jitter: float = 0.0

    def delay(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        base = min(self.cap, self.initial * self.factor ** min(attempt, 64))
        if not self.jitter:
            return base
        return max(0.0, base * (1 + self.jitter * (2 * rand() - 1)))


@dataclass(slots=True)
class ReaderStats:
    """Counters since the reader was made (for tests, ``listen-serial`` and logs)."""

    connections: int = 0
    bytes: int = 0
    lines: int = 0
    punches: int = 0
    bad: int = 0
    failures: int = 0


class SerialReader:
    """Reads one serial line until :meth:`stop`; see the module docstring.

    ``opener(url, baudrate=…, timeout=…, device=…)`` returns an open
    pyserial-like port (default :func:`.transport.open_port`); ``framer``
    defaults to a :class:`LineFramer` and is where a binary protocol plugs
    in its own framing.
    """

    def __init__(
        self,
        url: str,
        on_batch: OnBatch,
        *,
        record_format: RecordFormat = PRESETS["attlog"],
        name: str | None = None,
        baudrate: int = 9600,
        framer: Framer | None = None,
        backoff: Backoff = Backoff(),
        on_health: OnHealth | None = None,
        opener: Callable[..., Port] = open_port,
        sleep: Callable[[float], bool] | None = None,
        rand: Callable[[], float] = random.random,
        poll: float = READ_POLL,
    ) -> None:
        self.url = url
        self.name = name or url
        self.on_batch = on_batch
        self.record_format = record_format
        self.baudrate = baudrate
        self.framer: Framer = framer if framer is not None else LineFramer()
        self.backoff = backoff
        self.on_health = on_health
        self.stats = ReaderStats()
        self._opener = opener
        self._stop = threading.Event()
        self._sleep = sleep or self._stop.wait
        self._rand = rand
        self._poll = poll
        self._thread: threading.Thread | None = None
        self._attempt = 0  # consecutive failures without data in between: the back-off step

    # --- life cycle

    def start(self) -> SerialReader:
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, name=f"serial-{self.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the reader to stop and wait (at most ``timeout``) for it to finish."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def __enter__(self) -> SerialReader:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def run(self) -> None:
        """The reader's loop (what the thread runs); returns after :meth:`stop`."""
        log.info("serial reader started", device=self.name, url=self.url, format=self.record_format.name)
        while not self._stop.is_set():
            try:
                port = self._opener(self.url, baudrate=self.baudrate, timeout=self._poll, device=self.name)
            except TerminalError as exc:
                self._failed(exc)
                continue
            try:
                self._opened()
                self._pump(port)
            except TerminalError as exc:
                self._close(port)
                self._flush_partial()
                self._failed(exc)
                continue
            except Exception as exc:  # noqa: BLE001 - a bug must not end the reader for good
                log.exception("serial reader error", device=self.name)
                self._close(port)
                self._flush_partial()
                self._failed(TerminalError(f"internal error: {exc}", device=self.name))
                continue
            self._close(port)
        self._flush_partial()
        log.info(
            "serial reader stopped",
            device=self.name,
            lines=self.stats.lines,
            punches=self.stats.punches,
            bad=self.stats.bad,
        )

    # --- reading

    def _pump(self, port: Port) -> None:
        while not self._stop.is_set():
            data = read_available(port, device=self.name)
            if not data:
                continue
            self._attempt = 0
            self.stats.bytes += len(data)
            self._handle(self.framer.feed(data))

    def _handle(self, frames: list[Frame]) -> None:
        punches: list[Punch] = []
        bad: list[BadRecord] = []
        for frame in frames:
            self.stats.lines += 1
            n = self.stats.lines
            if isinstance(frame, BadFrame):
                bad.append(BadRecord(n, frame.raw, f"line {n}: {frame.reason}"))
                continue
            record = self.record_format.parse(frame, n)
            if isinstance(record, Punch):
                punches.append(record)
            else:
                bad.append(record)
        if punches or bad:
            self._deliver(punches, bad)

    def _flush_partial(self) -> None:
        """Report the half line the framer holds: the connection that would finish it is gone."""
        partial = self.framer.reset()
        if partial is not None:
            self._handle([partial])

    def _deliver(self, punches: list[Punch], bad: list[BadRecord]) -> None:
        attempt = 0
        while True:
            try:
                self.on_batch(punches, bad)
            except Exception as exc:  # noqa: BLE001 - whatever the store raised, keep the batch
                error = str(exc) or type(exc).__name__
                report_failure(
                    log,
                    "serial records not stored; retrying",
                    "serial records still not stored",
                    failures=attempt + 1,
                    device=self.name,
                    punches=len(punches),
                    bad=len(bad),
                    error=error,
                )
                if self._stop.is_set() or self._sleep(self.backoff.delay(attempt, self._rand)):
                    self._stop.set()
                    if not self._last_try(punches, bad):
                        return
                    break
                attempt += 1
                continue
            break
        report_recovery(log, "serial records stored after retrying", failures=attempt, device=self.name)
        self.stats.punches += len(punches)
        self.stats.bad += len(bad)

    def _last_try(self, punches: list[Punch], bad: list[BadRecord]) -> bool:
        """One more attempt while stopping; when it fails, log every record so none is lost unseen."""
        try:
            self.on_batch(punches, bad)
            return True
        except Exception as exc:  # noqa: BLE001
            log.error(
                "serial records NOT stored: stopping while the store refuses them",
                device=self.name,
                error=str(exc) or type(exc).__name__,
                punches=[
                    f"{p.pin}\t{p.timestamp:%Y-%m-%d %H:%M:%S}\t{p.state}\t{p.verify}\t{p.work_code}" for p in punches
                ],
                bad=[b.raw.hex() for b in bad],
            )
            return False

    # --- health

    def _opened(self) -> None:
        self.stats.connections += 1
        if not report_recovery(log, "serial link recovered", failures=self.stats.failures, device=self.name):
            log.info("serial port open", device=self.name, url=self.url)
        self.stats.failures = 0
        self._health(None)

    def _failed(self, exc: TerminalError) -> None:
        self.stats.failures += 1
        error = str(exc)
        if report_failure(
            log,
            "serial link down",
            "serial link still down",
            failures=self.stats.failures,
            device=self.name,
            error=error,
        ):
            self._health(error)
        delay = self.backoff.delay(self._attempt, self._rand)
        self._attempt += 1
        if not self._stop.is_set() and self._sleep(delay):
            self._stop.set()

    def _health(self, error: str | None) -> None:
        if self.on_health is None:
            return
        try:
            self.on_health(error)
        except Exception as exc:  # noqa: BLE001 - bookkeeping must not stop the reading
            log.warning("serial health not recorded", device=self.name, error=str(exc) or type(exc).__name__)

    @staticmethod
    def _close(port: Port) -> None:
        try:
            port.close()
        except Exception:  # noqa: BLE001, S110 - closing a dead port may fail; nothing to do about it
            pass
