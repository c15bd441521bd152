"""Store what PUSH/ADMS terminals upload (SPEC §4.2 ``adms``), behind the listener's checks.

:func:`make_receiver` builds the HTTP listener (:class:`drivers.adms.server.AdmsServer`) for
every enabled ``adms`` device of the configuration: its serial number and ``allow_from``
addresses are who may push (:class:`~drivers.adms.access.DeviceAccess`), the ``[daemon]
push_*`` keys its bounds (:class:`~drivers.adms.access.Limits`) and optional TLS. Each upload
that passes goes through :func:`daemon.ingest.save_batch` into the store in one transaction —
an ingest run that records the peer address — under the same natural key as pulled punches,
so a punch both pushed and pulled is stored once.

The one bound that needs the store is the daily cap on quarantined lines per device
(``push_quarantine_per_day``): junk from a broken or hostile sender cannot fill the disk. A
batch that would pass it is refused (the listener answers 503, the terminal keeps its
records) and the device is flagged failing, once a day, so ``attendd status`` shows it. A
store failure propagates the same way: nothing is lost, the terminal sends the upload again.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

import structlog

from drivers.adms.access import DeviceAccess, Limits, Upload, UploadRefused
from drivers.adms.server import AdmsServer

from .clock import Clock, utc_of
from .config import Config, Device
from .health import failed_state, ok_state
from .ingest import save_batch
from .store import SaveResult, Store, StoreError

log = structlog.get_logger("attendd.push")

#: Port terminals are usually pointed at ("Cloud server" setting).
DEFAULT_PORT = 8081


def adms_devices(config: Config) -> dict[str, Device]:
    """The enabled ``adms`` devices by serial number."""
    return {d.serial: d for d in config.devices if d.driver == "adms" and getattr(d, "enabled", True) and d.serial}


def access_of(config) -> dict[str, DeviceAccess]:
    """Who may push: each enabled ``adms`` device's serial and the networks it pushes from."""
    return {
        serial: DeviceAccess(serial, d.name, d.networks(), bool(d.allow_any_address))
        for serial, d in adms_devices(config).items()
    }


def _daemon_section(config):
    from .config import DaemonSection

    return getattr(config, "daemon", None) or DaemonSection()


def limits_of(config) -> Limits:
    """The receiver's bounds from ``[daemon]``: each field of :class:`Limits` is the key ``push_<field>``."""
    d = _daemon_section(config)
    return Limits(**{f.name: getattr(d, f"push_{f.name}") for f in dataclasses.fields(Limits)})


class QuarantineCap:
    """Quarantined lines per device per local day, counted from the store once and then kept.

    ``admit`` raises :class:`UploadRefused` for a batch that would take the device's day
    beyond the cap; the first refusal of a day flags the device (its state shows the error).
    """

    def __init__(self, store: Store, cap: int, tz: ZoneInfo) -> None:
        self.store, self.cap, self.tz = store, cap, tz
        self._day: dict[str, date] = {}
        self._count: dict[str, int] = {}
        self._flagged: set[tuple[str, date]] = set()
        self._lock = threading.Lock()

    def _today(self, device, serial: str, now: datetime) -> int:
        today = now.astimezone(self.tz).date()
        if self._day.get(serial) != today:
            n = self.store.count_quarantined(serial, since=utc_of(today, self.tz))
            self._day[serial], self._count[serial] = today, n
        return self._count[serial]

    def admit(self, device, serial: str, bad: int, now: datetime) -> None:
        with self._lock:
            used = self._today(device, serial, now)
            if used + bad <= self.cap:
                return
            day = self._day[serial]
            first = (serial, day) not in self._flagged
            self._flagged.add((serial, day))
        reason = (
            f"{used} lines quarantined today, this batch brings {bad} more: over the daily cap of "
            f"{self.cap} (daemon.push_quarantine_per_day); batches are refused until tomorrow"
        )
        if first:
            _flag(self.store, device, serial, reason, now)
        raise UploadRefused(reason)

    def add(self, serial: str, quarantined: int) -> None:
        with self._lock:
            if serial in self._count:
                self._count[serial] += quarantined


def _flag(store: Store, device, serial: str, reason: str, now: datetime) -> None:
    """Mark the device failing (``attendd status``) with one failed ingest run for the day."""
    state = failed_state(store.device_state(device.name), reason, now, serial=serial)
    run = {
        "device_name": device.name,
        "device_serial": serial,
        "source": "adms",
        "started_utc": now,
        "finished_utc": now,
        "status": "failed",
        "error": reason,
    }
    try:
        store.record_run(device.name, state, run)
    except StoreError as exc:
        log.error("cannot flag the pushing device", device=device.name, error=str(exc))
    log.error(
        "pushing device over its daily quarantine cap: batches refused",
        device=device.name,
        serial=serial,
        reason=reason,
    )


def make_on_upload(store: Store, config, clock: Clock, tz: ZoneInfo) -> Callable[[Upload], SaveResult]:
    """The callback storing one upload; raises UploadRefused (the cap) or StoreError (the store)."""
    devices = adms_devices(config)
    cap = QuarantineCap(store, _daemon_section(config).push_quarantine_per_day, tz)

    def on_upload(upload: Upload) -> SaveResult:
        device = devices[upload.serial]
        now = clock()
        if upload.bad:
            cap.admit(device, upload.serial, len(upload.bad), now)
        state = ok_state(now, serial=upload.serial)
        saved = save_batch(
            store,
            device,
            device_serial=upload.serial,
            source="adms",
            punches=upload.punches,
            bad=upload.bad,
            now=now,
            tz=tz,
            state=state,
            run={"peer": upload.peer},
        )
        cap.add(upload.serial, saved.quarantined_new)
        log.info(
            "push stored",
            device=device.name,
            serial=upload.serial,
            peer=upload.peer,
            **saved.counts(),
        )
        return saved

    return on_upload


def make_receiver(
    store: Store,
    config,
    clock: Clock,
    tz: ZoneInfo,
    *,
    host: str = "0.0.0.0",
    port: int = DEFAULT_PORT,
) -> AdmsServer:
    """The (not yet started) listener for the configuration's ``adms`` devices."""
    return AdmsServer(
        host,
        port,
        access_of(config),
        make_on_upload(store, config, clock, tz),
        limits=limits_of(config),
        tls=_daemon_section(config).push_tls(),
    )
