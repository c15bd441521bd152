"""Store what serial terminals print (SPEC §4.2 ``serial``).

Every enabled ``serial`` device of the configuration gets a
:class:`drivers.serial.SerialReader` on its ``url`` at its ``baudrate``,
reading its ``format`` (or its own ``pattern``, ``time_format``) in its
``encoding``. Each batch the reader delivers goes through
:func:`daemon.ingest.save_batch` — the same sorting and the same natural key
as pulled and pushed punches — with source ``serial``.

A serial line does not say which terminal is on it, so the device serial a
punch is stored under is the device's configured ``serial`` when there is
one (set it to the terminal's real serial number when the same terminal is
also pulled or pushes, so its punches are stored once whichever way they
came), else ``serial:<device name>``: stable as long as the device keeps its
name. See docs/decisions.md.

The device's state in the store follows the line: ``attendd status`` shows
it failing from the first failure of an outage and healthy again when the
port reopens; a stored batch counts as a successful sync.
"""

from __future__ import annotations

from collections.abc import Iterable
from zoneinfo import ZoneInfo

import structlog

from drivers import BadRecord, Punch
from drivers.serial import Backoff, OnBatch, OnHealth, RecordFormat, SerialReader, resolve_format

from .clock import Clock
from .errors import UserError
from .health import failed_state, ok_state
from .ingest import save_batch
from .store import SaveResult, Store, StoreError

log = structlog.get_logger("attendd.serial")

SOURCE = "serial"

#: Reconnect after 1 s, doubling up to a minute, ±10 % so terminals behind
#: one serial server do not all knock at the same instant.
BACKOFF = Backoff(initial=1.0, factor=2.0, cap=60.0, jitter=0.1)


def serial_devices(config, names: Iterable[str] | None = None) -> list:
    """The enabled ``serial`` devices; with ``names``, exactly those (UserError otherwise)."""
    if not names:
        return [d for d in config.devices if d.driver == "serial" and d.enabled]
    chosen = [config.device(n) for n in names]
    wrong = [d.name for d in chosen if d.driver != "serial"]
    if wrong:
        raise UserError(f"--device: {', '.join(wrong)} is not a serial device")
    return chosen


def device_serial(device) -> str:
    """The serial number punches from ``device`` are stored under (see the module docstring)."""
    return device.serial or f"serial:{device.name}"


def record_format(device) -> RecordFormat:
    """The line format the device's config describes (validated when the config was loaded)."""
    return resolve_format(
        device.format, pattern=device.pattern, time_format=device.time_format, encoding=device.encoding
    )


def make_on_batch(store: Store, device, clock: Clock, tz: ZoneInfo) -> OnBatch:
    """The callback storing one batch; raises StoreError when it cannot (the reader retries)."""
    serial = device_serial(device)

    def on_batch(punches: list[Punch], bad: list[BadRecord]) -> SaveResult:
        now = clock()
        state = ok_state(now, serial=serial)
        saved = save_batch(
            store, device, device_serial=serial, source=SOURCE, punches=punches, bad=bad, now=now, tz=tz, state=state
        )
        log.info("serial records stored", device=device.name, **saved.counts())
        return saved

    return on_batch


def make_on_health(store: Store, device, clock: Clock) -> OnHealth:
    """The callback recording the line's health as the device's state (and an ingest run)."""
    serial = device_serial(device)

    def on_health(error: str | None) -> None:
        now = clock()
        previous = store.device_state(device.name)
        failures = previous.consecutive_failures if previous else 0
        if error is None and previous is not None and not failures:
            return  # already healthy: nothing to record
        state = failed_state(previous, error, now, serial=serial) if error else ok_state(now, serial=serial)
        run = {
            "device_name": device.name,
            "device_serial": serial,
            "source": SOURCE,
            "started_utc": now,
            "finished_utc": now,
            "status": "failed" if error else "ok",
            "error": error,
        }
        try:
            store.record_run(device.name, state, run)
        except StoreError as exc:
            log.error("cannot record the serial line's state", device=device.name, error=str(exc))

    return on_health


def make_readers(
    store: Store,
    config,
    clock: Clock,
    tz: ZoneInfo,
    *,
    names: Iterable[str] | None = None,
    backoff: Backoff = BACKOFF,
) -> list[SerialReader]:
    """One (not yet started) reader per serial device of the configuration."""
    return [
        SerialReader(
            d.url,
            make_on_batch(store, d, clock, tz),
            record_format=record_format(d),
            name=d.name,
            baudrate=d.baudrate,
            backoff=backoff,
            on_health=make_on_health(store, d, clock),
        )
        for d in serial_devices(config, names)
    ]


class SerialListener:
    """All the serial readers of one configuration, started and stopped together."""

    def __init__(self, readers: list[SerialReader]) -> None:
        self.readers = readers

    def start(self) -> SerialListener:
        for r in self.readers:
            r.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Ask every reader to stop at once, then wait for each."""
        for r in self.readers:
            r.stop(timeout=0)
        for r in self.readers:
            r.stop(timeout=timeout)

    def __enter__(self) -> SerialListener:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
