"""Pull punches from terminals into the store: one device, or all in parallel.

A pull reads the device's facts (serial, record count, clock), skips the
download when the record count has not changed since the last good pull,
otherwise reads users and the whole log and stores everything in one
transaction. A failure anywhere stores nothing of that pull and is recorded
in the device's sync state; the next pull starts again from the terminal,
which still holds every record.

Device health is logged like Home Assistant's coordinator does it: the
first failure at error level, silence while it persists, the recovery once.
A clock beyond ``[daemon] max_clock_drift`` and a log nearly full are logged
the same way: once when they start, once when they end (issue 16).

Two things a pull may do to the terminal, each only when its ``[[devices]]``
entry says so: ``auto_set_time`` sets a clock beyond the limit from the host's
(:func:`set_terminal_clock`, also ``attendd devices set-time``), and
``clear_log = "after_stored"`` clears the log after a pull that stored every
record, under the one protocol of :func:`_clear_after_stored`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy.exc import SQLAlchemyError
from structlog.contextvars import bound_contextvars

from drivers import AttendanceLog, Terminal, TerminalError

from .clock import Clock, site_time
from .health import (
    DEFAULT_MAX_DRIFT_S,
    capacity_problem,
    clock_problem,
    failed_state,
    ok_state,
    report_change,
    report_failure,
    report_recovery,
)
from .ingest import save_batch
from .store import SaveResult, Store, StoreError
from .store.models import device_state_table

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
    #: with ``auto_set_time``: the clock's offset after attendd set it (None: not set)
    clock_set_offset_s: float | None = None
    record_capacity: int | None = None
    #: with ``clear_log``: how many records were cleared, or why the log was not cleared
    cleared: int | None = None
    clear_skipped: str | None = None
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
    max_drift_s: float = DEFAULT_MAX_DRIFT_S,
) -> DeviceSyncResult:
    """Pull one device; never raises for device or store trouble (see ``error``).

    ``max_drift_s`` is ``[daemon] max_clock_drift``: a clock off by more is a problem (logged
    once when it starts and once when it ends) and, with the device's ``auto_set_time``, set.
    """
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
                result.record_capacity = info.record_capacity
                if info.clock is not None:
                    result.clock_offset_s = _offset(info.clock, now_local)
                expected = getattr(device, "serial", None)
                if expected and expected != info.serial:
                    raise TerminalError(f"the terminal reports serial {info.serial}, the config expects {expected}")
                clock_now = result.clock_offset_s
                if getattr(device, "auto_set_time", False) and clock_problem(clock_now, max_drift_s):
                    _before, clock_now = set_terminal_clock(terminal, clock=clock, tz=tz)
                    result.clock_set_offset_s = clock_now
                    log.warning(
                        "terminal clock set from the host's (auto_set_time)",
                        drift_before_s=result.clock_offset_s,
                        drift_after_s=clock_now,
                    )
                report_change(
                    log,
                    clock_problem(previous.clock_offset_s, max_drift_s) if previous else None,
                    clock_problem(clock_now, max_drift_s),
                    started="terminal clock beyond max_clock_drift",
                    ended="terminal clock back within max_clock_drift",
                    clock_offset_s=clock_now,
                )
                state = {
                    **ok_state(now),
                    "serial": info.serial,
                    "firmware": info.firmware,
                    "platform": info.platform,
                    "record_count": info.record_count,
                    "user_count": info.user_count,
                    "clock_offset_s": clock_now,  # the clock as it is now, set or not
                    "record_capacity": info.record_capacity,
                    "user_capacity": info.user_capacity,
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
                clearing = getattr(device, "clear_log", "never") == "after_stored"
                if (
                    not force
                    and previous is not None
                    and same_device
                    and previous.last_success_utc is not None
                    and previous.record_count == info.record_count
                    # a log that should have been cleared and was not (a clear skipped): read it again
                    and not (clearing and info.record_count)
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

                    def read_and_store() -> tuple[AttendanceLog, SaveResult]:
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
                        return attlog, saved

                    if clearing:
                        with terminal.locked():  # from the read through the commit to the clear
                            attlog, saved = read_and_store()
                            _clear_after_stored(store, device.name, terminal, attlog, saved, result)
                    else:
                        attlog, saved = read_and_store()
                    result.unknown_pins = saved.unknown_pins
                    result.status = "ok"
                    result.new, result.duplicate = saved.new, saved.duplicate
                    result.quarantined = saved.quarantined_new
                report_change(
                    log,
                    capacity_problem(previous.record_count, previous.record_capacity) if previous else None,
                    capacity_problem(result.record_count, info.record_capacity),
                    started="terminal's attendance log nearly full",
                    ended="terminal's attendance log no longer nearly full",
                    records=result.record_count,
                    capacity=info.record_capacity,
                )
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


def _offset(terminal_time: datetime, now_local: datetime) -> float:
    """Seconds the terminal's clock is ahead of the site's wall-clock time (naive both)."""
    return round((terminal_time - now_local).total_seconds(), 1)


def set_terminal_clock(terminal: Terminal, *, clock: Clock, tz: ZoneInfo) -> tuple[float, float]:
    """Set the terminal's clock from the host's, in the site's time zone; (drift before, after).

    Both drifts are read from the terminal (its clock against ``clock`` at that moment), so
    the second says whether the setting took: firmware that ignores CMD_SET_TIME, or a
    terminal synchronising itself from a wrongly zoned time server, shows the old drift again.
    """
    before = _offset(terminal.read_clock(), site_time(clock(), tz))
    # the terminal keeps whole seconds: the nearest one, not the one just gone
    terminal.set_clock((site_time(clock(), tz) + timedelta(milliseconds=500)).replace(microsecond=0))
    after = _offset(terminal.read_clock(), site_time(clock(), tz))
    return before, after


def _clear_after_stored(
    store: Store, name: str, terminal: Terminal, attlog: AttendanceLog, saved: SaveResult, result: DeviceSyncResult
) -> None:
    """Clear the terminal's log if, and only if, every record read is safely stored.

    Called inside :meth:`Terminal.locked`, after the store's commit: the terminal has been
    locked since before the read, so it took no punch it could lose. The clear happens only
    when the read carried as many records as the terminal counted at its start, every one of
    them is in the store (new, already there, or quarantined with its raw bytes), and the
    terminal still counts the same now (a punch that slipped in, or a lock the terminal
    dropped, shows as a changed count). Otherwise, or when the terminal stops answering, the
    log stays and ``result.clear_skipped`` says why; the next pull reads it again and stores
    nothing twice. After a clear the stored record count is the terminal's new one, so the
    next pull does not report a shrunk log (docs/decisions.md, "Terminal care": clearing the log).
    """
    counted = attlog.record_count
    stored = saved.new + saved.duplicate + saved.quarantined
    why, left = None, None
    if not counted:
        return  # nothing to clear
    if stored != counted:
        why = f"the store holds {stored} of the {counted} records the terminal counted at the read"
    else:
        try:
            now = terminal.record_count()
            if now != counted:
                why = f"the record count changed from {counted} to {now} since the read (a punch arrived)"
            else:
                terminal.clear_attendance()
                left = terminal.record_count()
        except TerminalError as exc:
            why = f"the terminal stopped answering before the clear ({exc})"
    if why is not None:
        result.clear_skipped = why
        log.warning("log not cleared", reason=why)
        return
    result.cleared, result.record_count = counted, left
    log.info("terminal log cleared after every record was stored", cleared=counted, left=left)
    try:
        update_device_state(store, name, record_count=left)
    except StoreError as exc:
        log.error("cannot record the cleared log's count", error=str(exc))


def update_device_state(store: Store, name: str, **values: object) -> None:
    """Change some columns of a device's stored state (a clock just set, a log just cleared)."""
    t = device_state_table
    try:
        with store.transaction() as conn:
            conn.execute(t.update().where(t.c.device_name == name).values(**values))
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot write to the local store: {exc.__class__.__name__}") from None


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
    max_drift_s: float = DEFAULT_MAX_DRIFT_S,
    claim: Callable[[Any], bool] | None = None,
    pulled: Callable[[Any], None] | None = None,
) -> list[DeviceSyncResult]:
    """Pull every device in parallel (bounded pool); one failure never stops the rest.

    Results come back in the order of ``devices``. With ``claim`` (several daemons sharing one
    store, :mod:`daemon.claims`), a worker calls ``claim(device)`` when it is free to pull that
    device and skips it on False (another daemon has it): the claim is taken only when a worker
    can start, so daemons divide a slot by their pace; the skipped devices have no result.
    ``pulled(device)`` is called in the worker once the device's pull is recorded (or crashed).
    """
    devices = list(devices)
    if not devices:
        return []
    results: dict[str, DeviceSyncResult] = {}

    def pull(d) -> DeviceSyncResult | None:
        if claim is not None and not claim(d):
            return None
        try:
            return sync_device(store, d, connect=connect, clock=clock, tz=tz, force=force, max_drift_s=max_drift_s)
        finally:
            if pulled is not None:
                try:
                    pulled(d)
                except Exception:  # the claim's lease runs out; another daemon pulls it again
                    log.exception("cannot mark the pull done", device=d.name)

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(devices))), thread_name_prefix="sync") as pool:
        futures = {pool.submit(pull, d): d for d in devices}
        for fut in as_completed(futures):
            d = futures[fut]
            try:
                res = fut.result()
            except Exception as exc:  # a bug (or a claim that cannot be taken) must not hide the others
                log.exception("sync crashed", device=d.name)
                res = DeviceSyncResult(device=d.name, error=f"internal error: {exc}")
            if res is None:
                continue
            results[d.name] = res
            if on_done:
                on_done(res)
    return [results[d.name] for d in devices if d.name in results]
