"""Store what PUSH/ADMS terminals upload (SPEC §4.2 ``adms``).

:func:`make_receiver` builds the HTTP listener for every enabled ``adms``
device of the configuration: their serial numbers are the allowlist, and
each upload goes through :func:`daemon.ingest.sort_punches` into the store in
one transaction, under the same natural key as pulled punches, so a punch
both pushed and pulled is stored once. A store failure propagates to the
listener, which answers an error so the terminal sends the upload again.
"""

from __future__ import annotations

from typing import Callable
from zoneinfo import ZoneInfo

import structlog

from drivers import BadRecord, Punch
from drivers.adms.server import AdmsServer

from .ingest import save_batch
from .store import SaveResult, Store
from .sync import Clock

log = structlog.get_logger("attendd.push")

#: Port terminals are usually pointed at ("Cloud server" setting).
DEFAULT_PORT = 8081


def adms_devices(config) -> dict[str, object]:
    """The enabled ``adms`` devices by serial number."""
    return {
        d.serial: d
        for d in config.devices
        if d.driver == "adms" and getattr(d, "enabled", True) and d.serial
    }


def make_on_punches(store: Store, config, clock: Clock, tz: ZoneInfo) -> Callable[[str, list[Punch], list[BadRecord]], SaveResult]:
    """The callback storing one upload; raises (StoreError, KeyError) when it cannot."""
    devices = adms_devices(config)

    def on_punches(serial: str, punches: list[Punch], bad: list[BadRecord]) -> SaveResult:
        device = devices[serial]
        saved = save_batch(store, device, device_serial=serial, source="adms", punches=punches, bad=bad,
                           now=clock(), tz=tz)
        log.info("push stored", device=device.name, serial=serial, new=saved.new,
                 duplicate=saved.duplicate, quarantined=saved.quarantined_new)
        return saved

    return on_punches


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
    return AdmsServer(host, port, adms_devices(config), make_on_punches(store, config, clock, tz))
