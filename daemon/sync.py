"""Pull punches from terminals into the store: one device, or all in parallel.

A pull reads the device's facts (serial, record count, clock), skips the
download when the record count has not changed since the last good pull,
otherwise reads users and the whole log and stores everything in one
transaction. A failure anywhere stores nothing of that pull and is recorded
in the device's sync state; the next pull starts again from the terminal,
which still holds every record.

Device health is logged like Home Assistant's coordinator does it: the
first failure at error level, silence while it persists, the recovery once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Protocol
from zoneinfo import ZoneInfo

import structlog
from structlog.contextvars import bound_contextvars

from drivers import Terminal, TerminalError

from .clock import Clock, site_time
from .health import failed_state, ok_state, report_failure, report_recovery
from .ingest import save_batch
from .store import Store, StoreError

log = structlog.get_logger("attendd.sync")

#: Drivers that attendd pulls from; the others deliver punches themselves
#: (push receiver, USB file import).
PULLED_DRIVERS = ("zk",)


class DeviceConfig(Protocol):
    name: str
    driver: str


@dataclass(slots=True)
class DeviceSyncResult:
    """The outcome of one device's pull, as the summary table shows it."""

    device: str
    status: str = "failed"  # ok | unchanged | failed
    serial: str | None = None
    record_count: int | None = None
    new: int = 0
    duplicate: int = 0
    quarantined: int = 0
    unknown_pins: list[str] = field(default_factory=list)
    clock_offset_s: float | None = None
    shrunk_from: int | None = None
    error: str | None = None
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        return self.status == "failed"


def sync_device(
    store: Store,
    device,
    *,
    connect: Callable[[object], Terminal],
    clock: Clock,
    tz: ZoneInfo,
    force: bool = False,
) -> DeviceSyncResult:
    """Pull one device; never raises for device or store trouble (see ``error``)."""
    result = DeviceSyncResult(device=device.name)
    started = clock()
    t0 = time.perf_counter()
    previous = store.device_state(device.name)
    prev_failures = previous.consecutive_failures if previous else 0
    with bound_contextvars(device=device.name, job="sync"):
        try:
            with connect(device) as terminal:
                info = terminal.device_info()
                now = clock()
                now_local = site_time(now, tz)
                result.serial, result.record_count = info.serial, info.record_count
                if info.clock is not None:
                    result.clock_offset_s = round((info.clock - now_local).total_seconds(), 1)
                expected = getattr(device, "serial", None)
                if expected and expected != info.serial:
                    raise TerminalError(f"the terminal reports serial {info.serial}, the config expects {expected}")
                state = {
                    **ok_state(now),
                    "serial": info.serial,
                    "firmware": info.firmware,
                    "platform": info.platform,
                    "record_count": info.record_count,
                    "user_count": info.user_count,
                    "clock_offset_s": result.clock_offset_s,
                    "last_attempt_utc": started,
                }
                run = {
                    "device_name": device.name,
                    "device_serial": info.serial,
                    "source": device.driver,
                    "started_utc": started,
                    "record_count": info.record_count,
                    "clock_offset_s": result.clock_offset_s,
                    "error": None,
                }
                same_device = previous is not None and previous.serial == info.serial
                if (
                    not force
                    and previous is not None
                    and same_device
                    and previous.last_success_utc is not None
                    and previous.record_count == info.record_count
                ):
                    result.status = "unchanged"
                    run.update(status="unchanged", finished_utc=clock())
                    store.record_run(device.name, state, run)
                else:
                    if previous is not None and same_device and (previous.record_count or 0) > info.record_count:
                        result.shrunk_from = previous.record_count
                        log.warning(
                            "record count went down: the log was cleared or wrapped",
                            before=previous.record_count,
                            now=info.record_count,
                        )
                    users = terminal.read_users()
                    attlog = terminal.read_attendance()
                    run.update(status="ok", finished_utc=clock())
                    saved = save_batch(
                        store,
                        device,
                        device_serial=info.serial,
                        source=device.driver,
                        punches=attlog.punches,
                        bad=attlog.bad,
                        now=now,
                        tz=tz,
                        users=users,
                        state=state,
                        run=run,
                    )
                    result.unknown_pins = saved.unknown_pins
                    result.status = "ok"
                    result.new, result.duplicate = saved.new, saved.duplicate
                    result.quarantined = saved.quarantined_new
        except (TerminalError, StoreError) as exc:
            result.status = "failed"
            result.error = str(exc)
            _record_failure(store, device, result, started, clock, prev_failures)
        result.seconds = round(time.perf_counter() - t0, 3)
        if not result.failed:
            report_recovery(log, "device recovered", failures=prev_failures)
            log.info(
                "sync finished",
                status=result.status,
                records=result.record_count,
                new=result.new,
                duplicate=result.duplicate,
                quarantined=result.quarantined,
                unknown_pins=len(result.unknown_pins),
                clock_offset_s=result.clock_offset_s,
                seconds=result.seconds,
            )
    return result


def _record_failure(store, device, result, started, clock, prev_failures) -> None:
    report_failure(log, "sync failed", "sync still failing", failures=prev_failures + 1, error=result.error)
    state = failed_state(store.device_state(device.name), result.error, started)
    run = {
        "device_name": device.name,
        "device_serial": result.serial,
        "source": device.driver,
        "started_utc": started,
        "finished_utc": clock(),
        "status": "failed",
        "record_count": result.record_count,
        "clock_offset_s": result.clock_offset_s,
        "error": result.error,
    }
    try:
        store.record_run(device.name, state, run)
    except StoreError as exc:
        log.error("cannot record the failed sync", error=str(exc))


def sync_all(
    store: Store,
    devices: Iterable,
    *,
    connect: Callable[[object], Terminal],
    clock: Clock,
    tz: ZoneInfo,
    workers: int = 8,
    force: bool = False,
    on_done: Callable[[DeviceSyncResult], None] | None = None,
) -> list[DeviceSyncResult]:
    """Pull every device in parallel (bounded pool); one failure never stops the rest.

    Results come back in the order of ``devices``.
    """
    devices = list(devices)
    if not devices:
        return []
    results: dict[str, DeviceSyncResult] = {}
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(devices))), thread_name_prefix="sync") as pool:
        futures = {
            pool.submit(sync_device, store, d, connect=connect, clock=clock, tz=tz, force=force): d for d in devices
        }
        for fut in as_completed(futures):
            d = futures[fut]
            try:
                res = fut.result()
            except Exception as exc:  # a bug must not hide the other devices' results
                log.exception("sync crashed", device=d.name)
                res = DeviceSyncResult(device=d.name, error=f"internal error: {exc}")
            results[d.name] = res
            if on_done:
                on_done(res)
    return [results[d.name] for d in devices]
