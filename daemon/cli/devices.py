"""``attendd sync``, ``devices``, ``devices users``, ``devices set-time`` and ``punches``: the terminals
and what came from them."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog

from ..clock import site_time, system_clock
from ..errors import UserError
from ..health import capacity_problem, clock_problem, drift_text, problem, usage_text
from ..sync import PULLED_DRIVERS, DeviceSyncResult, set_terminal_clock, sync_all, update_device_state
from .context import Context, connect_device
from .labels import state_label, verify_label
from .output import local_time, render, say
from .parser import FORMATS, Parser, Subcommands, add_format, int_between

if TYPE_CHECKING:
    from ..config import Device
    from ..store import Store

log = structlog.get_logger("attendd.devices")

#: The most ``punches --limit`` takes (every backend's integer holds it).
MAX_LIMIT = 1_000_000_000

#: What :func:`_run_with_progress` hands its job: a callback per finished device, or None.
_OnDone = Callable[[DeviceSyncResult], None] | None


def register(sub: Subcommands) -> None:
    s = sub.add_parser("sync", help="pull punches from the terminals now")
    s.add_argument("--device", metavar="NAME", action="append", help="only this device (repeatable)")
    s.add_argument("--force", action="store_true", help="download even when the record count is unchanged")
    s.set_defaults(func=sync)

    s = sub.add_parser("devices", help="each device: reachable, serial, firmware, records, clock drift, last sync")
    s.add_argument("--offline", action="store_true", help="do not contact the devices; show only what the store knows")
    add_format(s)
    s.set_defaults(func=devices)
    dsub = s.add_subparsers(dest="devices_command", metavar="ACTION", parser_class=Parser)
    u = dsub.add_parser(
        "users", help="roster vs terminals: PINs enrolled but not in the roster, staff enrolled nowhere"
    )
    # SUPPRESS: `devices --format json users` keeps the json the parent parser read
    u.add_argument("--format", choices=FORMATS, default=argparse.SUPPRESS)
    u.set_defaults(func=device_users)
    t = dsub.add_parser(
        "set-time", help="set terminals' clocks from this host's (site time zone); shows the drift before and after"
    )
    t.add_argument("--device", metavar="NAME", action="append", help="only this device (repeatable)")
    t.add_argument("--format", choices=FORMATS, default=argparse.SUPPRESS)
    t.set_defaults(func=set_time)

    s = sub.add_parser("punches", help="show stored punches (did my punch arrive?)")
    s.add_argument("--device", metavar="NAME", help="device name or serial")
    s.add_argument("--staff", metavar="PIN", help="staff number (the PIN enrolled on terminals)")
    s.add_argument("--from", dest="start", metavar="DATE", help="from this date or time (YYYY-MM-DD[ HH:MM])")
    s.add_argument("--to", dest="end", metavar="DATE", help="up to and including this date (or before this time)")
    add_format(s)
    s.add_argument("--limit", type=int_between(1, MAX_LIMIT), default=None, metavar="N", help="at most N punches")
    s.set_defaults(func=punches)
    # `punches` alone lists; `punches add` / `punches withdraw` are the clerk's corrections (补签)
    psub = s.add_subparsers(dest="punches_command", metavar="ACTION", parser_class=Parser)
    a = psub.add_parser("add", help="record a correction (补签): a manual punch, kept apart from the terminals'")
    a.add_argument("--staff", dest="add_staff", metavar="NO", required=True, help="staff number")
    a.add_argument("--at", metavar="TIME", required=True, help='the punch\'s time, "YYYY-MM-DD HH:MM[:SS]" (site time)')
    a.add_argument("--reason", metavar="TEXT", required=True, help="why (e.g. 设备故障，值班室登记)")
    a.add_argument("--evidence", metavar="TEXT", default="", help="what shows it (e.g. 值班室登记簿)")
    a.add_argument("--by", metavar="NAME", required=True, help="who records it (logged)")
    a.set_defaults(func=punch_add)
    w = psub.add_parser("withdraw", help="withdraw a correction: it stops counting and stays on the record")
    w.add_argument("id", type=int_between(1, MAX_LIMIT), metavar="ID", help="the correction's id (`attendd punches`)")
    w.add_argument("--reason", metavar="TEXT", required=True, help="why it is withdrawn")
    w.add_argument("--by", metavar="NAME", required=True, help="who withdraws it (logged)")
    w.set_defaults(func=punch_withdraw)


def _pulled_devices(ctx: Context, names: list[str] | None) -> list[Device]:
    devices = [d for d in ctx.config.devices if d.enabled]
    if names:
        known = {d.name for d in ctx.config.devices}
        missing = [n for n in names if n not in known]
        if missing:
            raise UserError(f"--device: no device named {', '.join(missing)} in {ctx.config_label}")
        devices = [d for d in ctx.config.devices if d.name in names]
    pulled = [d for d in devices if d.driver in PULLED_DRIVERS]
    if not pulled:
        how = "; ".join(_DELIVERY[k] for k in sorted({d.driver for d in devices}) if k in _DELIVERY)
        if names:
            raise UserError(f"--device: {', '.join(names)} is not pulled: {how}")
        raise UserError(
            f'{ctx.config_label}: no devices to pull (add [[devices]] with driver = "zk")' + (f"; {how}" if how else "")
        )
    return pulled


#: How the drivers that are not pulled deliver their punches (for ``attendd sync``'s refusals).
_DELIVERY = {
    "adms": "adms terminals push their punches to `attendd run` (or `attendd serve-push`)",
    "serial": "serial terminals are listened to, not pulled: `attendd run` (or `attendd listen-serial`) "
    "stores each record as it arrives",
    "usb": "usb terminals' exports are imported with `attendd import attlog`",
}


def sync(args: argparse.Namespace) -> int:
    ctx = Context.from_args(args, require_file=True)
    devices = _pulled_devices(ctx, args.device)
    store = ctx.store()
    results = _run_with_progress(
        len(devices),
        lambda on_done: sync_all(
            store,
            devices,
            connect=connect_device,
            clock=system_clock,
            tz=ctx.tz,
            workers=ctx.config.daemon.sync_workers,
            force=args.force,
            on_done=on_done,
            max_drift_s=ctx.config.daemon.max_clock_drift,
        ),
    )
    rows = []
    for r in results:
        rows.append(
            {
                "device": r.device,
                "status": r.status,
                "serial": r.serial,
                "records": r.record_count,
                "new": r.new,
                "duplicate": r.duplicate,
                "quarantined": r.quarantined,
                "unknown": len(r.unknown_pins) or "",
                "drift": drift_text(r.clock_offset_s),
                "note": r.error or _note(r, ctx.config.daemon.max_clock_drift),
            }
        )
    render(
        rows,
        [
            ("device", "device"),
            ("status", "status"),
            ("serial", "serial"),
            ("records", "records"),
            ("new", "new"),
            ("duplicate", "duplicate"),
            ("quarantined", "quarantined"),
            ("unknown", "unknown PINs"),
            ("drift", "clock drift"),
            ("note", "problem / note"),
        ],
        title="sync",
    )
    failed = [r for r in results if r.failed]
    if failed:
        say(f"attendd: {len(failed)} of {len(results)} devices failed", err=True)
    return 1 if failed else 0


def _note(r: DeviceSyncResult, max_drift_s: float) -> str:
    notes = []
    if r.clock_set_offset_s is not None:
        notes.append(f"clock set from the host's (auto_set_time): drift now {drift_text(r.clock_set_offset_s)}")
    notes += [
        p
        for p in (
            clock_problem(r.clock_offset_s if r.clock_set_offset_s is None else r.clock_set_offset_s, max_drift_s),
            capacity_problem(r.record_count, r.record_capacity),
        )
        if p
    ]
    if r.cleared is not None:
        notes.append(f"log cleared: {r.cleared} records, every one stored")
    if r.clear_skipped:
        notes.append(f"log not cleared: {r.clear_skipped}")
    if r.shrunk_from is not None:
        notes.append(f"record count went down from {r.shrunk_from} (log cleared?)")
    if r.unknown_pins:
        shown = ", ".join(r.unknown_pins[:8]) + (" …" if len(r.unknown_pins) > 8 else "")
        notes.append(f"PINs not enrolled on the terminal: {shown}")
    return "; ".join(notes)


def _run_with_progress(total: int, job: Callable[[_OnDone], list[DeviceSyncResult]]) -> list[DeviceSyncResult]:
    """A progress bar on a terminal; plain otherwise (logs tell the story there)."""
    if not sys.stderr.isatty():
        return job(None)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("syncing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=True,
    ) as progress:
        task = progress.add_task("sync", total=total)
        return job(lambda _r: progress.advance(task))


def devices(args: argparse.Namespace) -> int:
    ctx = Context.from_args(args, require_file=True)
    store = ctx.store()
    states = store.device_states()
    now = system_clock()
    now_local = site_time(now, ctx.tz)
    limit = ctx.config.daemon.max_clock_drift

    def probe(d: Device) -> dict[str, Any]:
        row: dict[str, Any] = {"device": d.name, "driver": d.driver, "address": _address(d)}
        st = states.get(d.name)
        if st:
            row.update(
                last_sync=local_time(st.last_success_utc, ctx.tz),
                last_error=problem(st, max_drift_s=limit) or "",
            )
        if args.offline or d.driver not in PULLED_DRIVERS or not d.enabled:
            row["reachable"] = "" if not d.enabled else "not asked"
            if st:
                row.update(
                    **_facts(st),
                    drift=drift_text(st.clock_offset_s),
                    drift_s=st.clock_offset_s,
                    clock_off=clock_problem(st.clock_offset_s, limit) is not None and not st.consecutive_failures,
                )
            if not d.enabled:
                row["last_error"] = "disabled in config"
            return row
        try:
            with connect_device(d) as t:
                info = t.device_info()
                read_at = site_time(system_clock(), ctx.tz)  # when the terminal told its clock
            row.update(reachable="yes", **_facts(info))
            offset = (info.clock - read_at).total_seconds() if info.clock else None
            row.update(drift=drift_text(offset) if offset is not None else "unknown", drift_s=offset)
            found = [
                clock_problem(offset, limit),
                capacity_problem(info.record_count, info.record_capacity),
                capacity_problem(info.user_count, info.user_capacity, what="user table"),
            ]
            row.update(last_error="; ".join(p for p in found if p), clock_off=found[0] is not None)
        except Exception as exc:  # every driver error is a TerminalError; show it whatever it is
            row.update(reachable="no", last_error=str(exc))
        return row

    with ThreadPoolExecutor(max_workers=max(1, min(8, len(ctx.config.devices) or 1))) as pool:
        rows = list(pool.map(probe, ctx.config.devices))
    if not rows and args.format == "table":
        say(f"{ctx.config_label}: no devices configured")
        return 0
    table = args.format == "table"
    if table:  # used / capacity in one cell; CSV and JSON keep the numbers apart
        for r in rows:
            r["records"] = usage_text(r.get("records"), r.get("record_capacity"))
            r["users"] = usage_text(r.get("users"), r.get("user_capacity"))
    render(
        rows,
        [
            ("device", "device"),
            ("driver", "driver"),
            ("address", "address"),
            ("reachable", "reachable"),
            ("serial", "serial"),
            ("firmware", "firmware"),
            ("records", "records / capacity" if table else "records"),
            *([("record_capacity", "record capacity")] if not table else []),
            ("users", "users / capacity" if table else "users"),
            *([("user_capacity", "user capacity")] if not table else []),
            ("drift", "clock drift"),
            *([("drift_s", "drift seconds")] if not table else []),
            ("last_sync", "last sync"),
            ("last_error", "problem"),
        ],
        args.format,
        title=f"devices at {now_local:%Y-%m-%d %H:%M}",
    )
    # an unreachable terminal, or one whose clock is beyond [daemon] max_clock_drift, fails the check
    return 1 if any(r.get("reachable") == "no" or r.get("clock_off") for r in rows) else 0


def set_time(args: argparse.Namespace) -> int:
    """``attendd devices set-time``: each pulled terminal's clock from this host's, read back.

    The table shows the drift before and after; the store's state gets the new drift, so
    ``status`` and the console stop flagging the clock without waiting for the next pull.
    """
    ctx = Context.from_args(args, require_file=True)
    devices = _pulled_devices(ctx, args.device)
    store = ctx.store()
    limit = ctx.config.daemon.max_clock_drift

    def one(d: Device) -> dict[str, Any]:
        row: dict[str, Any] = {"device": d.name}
        try:
            with connect_device(d) as t:
                before, after = set_terminal_clock(t, clock=system_clock, tz=ctx.tz)
        except Exception as exc:  # every driver error is a TerminalError; show it whatever it is
            row.update(status="failed", problem=str(exc))
            return row
        left = clock_problem(after, limit)
        row.update(
            status="ok" if left is None else "still off",
            before=drift_text(before),
            after=drift_text(after),
            before_s=before,
            after_s=after,
            problem=left or "",
        )
        log.info("terminal clock set from the host's", device=d.name, drift_before_s=before, drift_after_s=after)
        try:
            update_device_state(store, d.name, clock_offset_s=after)
        except Exception as exc:  # the clock is set; only the stored drift is stale until the next pull
            row["problem"] = f"clock set; cannot record it in the store ({exc})"
        return row

    with ThreadPoolExecutor(max_workers=max(1, min(8, len(devices)))) as pool:
        rows = list(pool.map(one, devices))
    table = args.format == "table"
    render(
        rows,
        [
            ("device", "device"),
            ("status", "status"),
            ("before", "drift before"),
            *([("before_s", "before seconds")] if not table else []),
            ("after", "drift after"),
            *([("after_s", "after seconds")] if not table else []),
            ("problem", "problem"),
        ],
        args.format,
        title=f"clocks set from this host's ({ctx.tz.key})",
    )
    return 1 if any(r["status"] != "ok" for r in rows) else 0


def _address(d: Device) -> str:
    host = getattr(d, "host", None)
    if d.driver == "serial" and d.url:
        from ..logging import mask_url_password

        return f"{mask_url_password(d.url)} @{d.baudrate}"
    if not host:
        return ""
    return f"{host}:{d.port}/{getattr(d, 'protocol', 'tcp')}"


def device_users(args: argparse.Namespace) -> int:
    """Roster vs terminals, from the user lists the last pulls read."""
    from sqlalchemy import select

    from ..store.models import device_state_table, device_user_table, staff_table

    ctx = Context.from_args(args, require_file=True)
    store = ctx.store()
    with store.reading() as conn:
        enrolled = conn.execute(select(device_user_table)).mappings().all()
        roster = {r.staff_no: r for r in conn.execute(select(staff_table)).all()}
        names = {r.serial: r.device_name for r in conn.execute(select(device_state_table)).all() if r.serial}
    on_devices: dict[str, dict] = {}
    for u in enrolled:
        row = on_devices.setdefault(u["pin"], {"pin": u["pin"], "name": u["name"], "devices": set()})
        row["devices"].add(names.get(u["device_serial"], u["device_serial"]))
    rows = [
        {
            "problem": "enrolled on a terminal, not in the roster",
            "staff_no": pin,
            "name": r["name"],
            "where": ", ".join(sorted(r["devices"])),
        }
        for pin, r in sorted(on_devices.items(), key=lambda kv: (len(kv[0]), kv[0]))
        if pin not in roster
    ] + [
        {"problem": "in the roster, enrolled on no terminal", "staff_no": no, "name": st.name, "where": st.window_code}
        for no, st in sorted(roster.items(), key=lambda kv: (len(kv[0]), kv[0]))
        if no not in on_devices
    ]
    if not enrolled:
        say("no user lists yet: `attendd sync` reads each terminal's users", err=args.format != "table")
    if args.format == "table" and not rows:
        say(f"roster and terminals agree ({len(roster)} staff)")
        return 0
    render(
        rows,
        [("problem", "problem"), ("staff_no", "staff no"), ("name", "name"), ("where", "devices / window")],
        args.format,
        title="roster vs terminals",
    )
    return 0


def _parse_when(value: str | None, flag: str, *, end: bool) -> datetime | None:
    """``--from`` / ``--to`` as a site wall-clock time; ``--to DATE`` is the end of that day.

    ``--to 9999-12-31`` has no day after it: it means "no end" (None), not an overflow.
    """
    if value is None:
        return None
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d"):
        try:
            t = datetime.strptime(value.strip(), fmt)  # noqa: DTZ007 - site wall-clock time, as punches are
        except ValueError:
            continue
        if end and fmt == "%Y-%m-%d":
            if t.date() == date.max:
                return None
            t += timedelta(days=1)  # --to 2026-03-31 includes the whole day
        return t
    raise UserError(f'{flag}: expected a real date, YYYY-MM-DD or "YYYY-MM-DD HH:MM", got {value!r}')


#: The columns of ``attendd punches``: the table shows the labels, CSV and JSON the codes beside them.
_PUNCH_COLUMNS = (
    ("punched_at", "time"),
    ("pin", "staff"),
    ("device_name", "device"),
    ("device_serial", "serial"),
    ("state", "state"),
    ("state_label", "state"),
    ("verify", "verify"),
    ("verify_label", "verify"),
    ("work_code", "work code"),
    ("source", "source"),
    ("tz", "timezone"),
    ("id", "id"),  # a correction's (补签) id; empty for a terminal's punch
    ("by", "by"),
    ("reason", "reason"),
    ("withdrawn", "withdrawn"),
)


def punches(args: argparse.Namespace) -> int:
    ctx = Context.from_args(args, require_file=True)
    start = _parse_when(args.start, "--from", end=False)
    end = _parse_when(args.end, "--to", end=True)
    if start and end and end <= start:
        raise UserError("--to: must be after --from")
    store = ctx.store()
    rows = store.punches(device=args.device, staff=args.staff, start=start, end=end, limit=args.limit)
    for r in rows:
        r["state_label"] = state_label(r["state"])
        r["verify_label"] = verify_label(r["verify"])
        r.update(id=None, by=None, reason=None, withdrawn=None)
    if not args.device:  # a correction came from no terminal: a --device filter shows none
        rows = sorted(
            rows + _manual_rows(store, ctx, staff=args.staff, start=start, end=end),
            key=lambda r: (r["punched_at"], r["pin"], r["device_serial"] or ""),
        )[: args.limit]
    if not rows:
        _check_known(ctx, store, device=args.device, staff=args.staff)
    if args.format == "table" and not rows:
        say("no punches match")
        return 0
    columns = [c for c in _PUNCH_COLUMNS if args.format != "table" or c[0] not in ("state", "verify")]
    render(rows, columns, args.format, title=f"{len(rows)} punches")
    return 0


def _check_known(ctx: Context, store: Store, *, device: str | None, staff: str | None) -> None:
    """Refuse a ``--device`` or ``--staff`` that names nothing: a typo should not read as "no punches".

    A device is known by its name or serial in the config, or from what the store has seen
    (a terminal since removed from the config keeps its punches); staff by the roster or a punch.
    """
    from sqlalchemy import select

    from ..store.models import device_state_table, ingest_run_table, punch_table, staff_table

    with store.reading() as conn:
        if device:
            named = {d.name for d in ctx.config.devices} | {d.serial for d in ctx.config.devices if d.serial}
            seen = device in named or any(
                conn.execute(q.limit(1)).first() is not None
                for q in (
                    select(ingest_run_table.c.id).where(ingest_run_table.c.device_name == device),
                    select(device_state_table.c.device_name).where(device_state_table.c.serial == device),
                    select(punch_table.c.id).where(punch_table.c.device_serial == device),
                )
            )
            if not seen:
                known = ", ".join(sorted(d.name for d in ctx.config.devices)) or "none configured"
                raise UserError(f"--device: no device named or with serial {device!r} (devices: {known})")
        if staff:
            seen = any(
                conn.execute(q.limit(1)).first() is not None
                for q in (
                    select(staff_table.c.staff_no).where(staff_table.c.staff_no == staff),
                    select(punch_table.c.id).where(punch_table.c.pin == staff),
                )
            )
            if not seen:
                raise UserError(f"--staff: no staff number {staff!r} in the roster or in any punch")


def _manual_rows(
    store: Store, ctx: Context, *, staff: str | None, start: datetime | None, end: datetime | None
) -> list[dict[str, Any]]:
    """The corrections (补签) as rows of ``attendd punches``: source ``manual``, with their id,
    who recorded them and why; a withdrawn one is listed, marked with when and by whom."""
    from ..store.corrections import SOURCE, manual_punches

    rows = []
    for m in manual_punches(store, staff_no=staff or None, start=start, end=end):
        withdrawn = ""
        if m["withdrawn_utc"] is not None:
            withdrawn = f"{local_time(m['withdrawn_utc'], ctx.tz)} by {m['withdrawn_by']}: {m['withdrawn_reason']}"
        rows.append(
            {
                "punched_at": m["punched_at"],
                "pin": m["staff_no"],
                "device_name": None,
                "device_serial": None,
                "state": None,
                "state_label": "补签",
                "verify": None,
                "verify_label": "",
                "work_code": None,
                "source": SOURCE,
                "tz": ctx.tz.key,
                "id": m["id"],
                "by": m["by"],
                "reason": m["reason"] + (f" ({m['evidence']})" if m["evidence"] else ""),
                "withdrawn": withdrawn,
            }
        )
    return rows


def _punch_time(value: str) -> datetime:
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"):
        try:
            return datetime.strptime(value.strip(), fmt)  # noqa: DTZ007 - site wall-clock time, as punches are
        except ValueError:
            continue
    raise UserError(f'--at: expected a real time, "YYYY-MM-DD HH:MM[:SS]", got {value[:40]!r}')


def _recorded(flag: str, value: str, what: str) -> str:
    """``--by`` / ``--reason`` go on the record: not blank, and ``--by`` fits its column."""
    if not value.strip():
        raise UserError(f"{flag}: is blank; say {what}")
    if flag == "--by" and len(value.strip()) > 128:
        raise UserError(f"--by: at most 128 characters (a name), got {len(value.strip())}")
    return value.strip()


def punch_add(args: argparse.Namespace) -> int:
    """``attendd punches add``: a correction (补签), printed as its new id."""
    from ..store.corrections import add_manual_punch

    at = _punch_time(args.at)
    reason = _recorded("--reason", args.reason, "why (e.g. 设备故障，值班室登记)")
    by = _recorded("--by", args.by, "who records it")
    ctx = Context.from_args(args, require_file=True)
    new_id = add_manual_punch(
        ctx.store(),
        staff_no=args.add_staff.strip(),
        at=at,
        reason=reason,
        evidence=args.evidence,
        by=by,
        via="cli",
        now_utc=system_clock(),
    )
    say(str(new_id))
    return 0


def punch_withdraw(args: argparse.Namespace) -> int:
    """``attendd punches withdraw ID``: the correction stops counting and stays on the record."""
    from ..store.corrections import withdraw_manual_punch

    reason = _recorded("--reason", args.reason, "why it is withdrawn")
    by = _recorded("--by", args.by, "who withdraws it")
    ctx = Context.from_args(args, require_file=True)
    withdraw_manual_punch(ctx.store(), args.id, reason=reason, by=by, via="cli", now_utc=system_clock())
    say(f"correction {args.id} withdrawn")
    return 0


def _facts(x) -> dict:
    """What a terminal says of itself, from its answer now or the last pull's stored state (the
    same names on both): serial, firmware, records and users with their capacities."""
    return {
        "serial": x.serial,
        "firmware": x.firmware,
        "records": x.record_count,
        "record_capacity": x.record_capacity,
        "users": x.user_count,
        "user_capacity": x.user_capacity,
    }
