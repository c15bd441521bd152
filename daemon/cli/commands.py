"""One function per subcommand; each returns the process exit code."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ..errors import AttenddError, UserError
from ..health import health, problem
from ..sync import PULLED_DRIVERS, sync_all, utc_now
from .context import Context, connect_device
from .output import render


def check_config(args) -> int:
    path = Path(args.path) if args.path else None
    ctx = Context.from_args(args, config_path=path, require_file=True)
    cfg = ctx.config
    from ..config import config_warnings

    warnings = config_warnings(cfg, str(ctx.config_path))
    print(
        f"{ctx.config_path}: OK — {len(cfg.devices)} devices, "
        f"{len(cfg.windows)} windows, {len(cfg.timetables)} timetables, {len(cfg.policies)} policies"
        + (f", {len(warnings)} warning(s)" if warnings else "")
    )
    for line in warnings:  # the config runs; these say where a rule cannot apply as written
        print(f"warning: {line}")
    return 0


def _state(before, after) -> str:
    return "created" if before is None else ("already current" if before == after else f"migrated from {before}")


def db_upgrade(args) -> int:
    ctx = Context.from_args(args)
    store = ctx.store(upgrade=False)
    before, after = store.upgrade()
    print(f"local store {ctx.store_display}: revision {after} ({_state(before, after)})")
    scoring = ctx.scoring()
    before, after = scoring.upgrade()
    print(f"scoring DB {scoring.display}: revision {after} ({_state(before, after)})")
    return 0


def _period(text: str):
    from rules import RulesError, parse_period

    try:
        return parse_period(text)
    except RulesError as exc:
        raise UserError(str(exc)) from None


def evaluate(args) -> int:
    """Compute and show. Only ``--final`` (closing) and ``--reopen`` store and queue the
    result for the scoring DB; a look at a period queues nothing."""
    from ..outbox import check_go_live, close_period, take_snapshot

    ctx = Context.from_args(args)
    period = _period(args.period)
    if args.reopen and not (args.by and args.reason):
        raise UserError("--reopen: say who reopens and why with --by NAME --reason TEXT (both are logged)")
    if args.force and not args.final:
        raise UserError("--force: only with --final (closes a period whose data is incomplete)")
    if args.force and not (args.by and args.reason):
        raise UserError("--force: say who closes and why with --by NAME --reason TEXT (both are recorded)")
    if args.force and args.reopen:
        raise UserError("--force: not with --reopen (a reopened period is final again after its re-evaluation)")
    check_go_live(ctx.config, period)
    store = ctx.store()
    now = utc_now()
    if args.reopen:
        snap = take_snapshot(store, ctx.config, period, now=now, reopen_by=args.by, reopen_reason=args.reason)
    elif args.final:
        snap = close_period(
            store,
            ctx.config,
            period,
            now=now,
            force_by=args.by if args.force else None,
            force_reason=args.reason if args.force else None,
        )
    else:
        snap = take_snapshot(store, ctx.config, period, now=now, queue=False)
    if snap.is_final and not snap.changed and not args.reopen and not args.final:
        print(f"{period.key} is final: results kept as published (recompute with --reopen --by NAME --reason TEXT)")
    rows = snap.rows["window_periods"]
    render(
        sorted(rows, key=lambda r: (r["rank"], r["window_code"])),
        [
            ("rank", "rank"),
            ("window_code", "window"),
            ("window_name", "name"),
            ("staff_count", "staff"),
            ("attendance_score", "score"),
            ("max_points", "max"),
            ("score_percent", "% of max"),
            ("ranking_group", "group"),
            ("red_flag", "red flag"),
            ("chief_onsite_ratio", "chief on site"),
        ],
        title=f"{period.key}: {len(snap.rows['staff_periods'])} staff, {len(snap.rows['deductions'])} deductions"
        + (" (final)" if snap.is_final else ""),
    )
    if args.final or args.reopen:
        print(
            f"{period.key}: final, revision {snap.revision}: queued for the scoring DB "
            f"(the daemon's next drain, or now: attendd push --period {period.key})"
        )
    elif not snap.is_final:
        print(
            f"{period.key}: computed to look at, not queued for the scoring DB "
            f"(attendd push --period {period.key} sends it)"
        )
    return 0


def bulletin(args) -> int:
    from ..bulletin import FORMATS, write_bulletin
    from ..bulletin import collect as collect_bulletin
    from ..bulletin.publish import file_name
    from ..outbox import check_go_live

    ctx = Context.from_args(args)
    period = _period(args.period)
    check_go_live(ctx.config, period)
    formats = FORMATS if args.format == "all" else (args.format,)
    if args.format == "all":
        folder = Path(args.output or ".")
        targets = [(f, folder / file_name(period, f)) for f in formats]
    else:
        targets = [(args.format, Path(args.output) if args.output else Path(file_name(period, args.format)))]
    for _, target in targets:
        if target.is_dir():
            raise UserError(f"-o {target}: is a directory (give a file name, or --format all for a directory)")
    b = collect_bulletin(ctx.store(), ctx.config, period, now=utc_now(), queue=False)  # shows, queues nothing
    bc = ctx.config.bulletin
    for fmt, target in targets:
        try:
            written = write_bulletin(b, fmt, target, font=str(bc.font) if bc.font else None, footer=bc.footer or "")
        except OSError as exc:
            raise UserError(f"-o {target}: cannot write: {exc.strerror or exc}") from None
        for path in written:
            print(f"{period.key}: wrote {path}")
    t = b.totals()
    print(
        f"{b.title}: {t['staff']} staff, {t['deductions']} deductions ({t['points']:g} points), "
        + ("final" if b.final else "provisional: the period is not closed")
    )
    return 0


def push(args) -> int:
    from ..outbox import check_go_live, drain, take_snapshot

    ctx = Context.from_args(args)
    period = _period(args.period)
    check_go_live(ctx.config, period)
    store = ctx.store()
    take_snapshot(store, ctx.config, period, now=utc_now(), queue=True)
    scoring = ctx.scoring()
    outcomes = drain(store, scoring, now=utc_now(), only=[period.key], force=True, since=ctx.config.site.since)
    if not outcomes:
        print(f"{period.key}: the scoring DB already has these results")
        return 0
    (o,) = outcomes
    if o.status == "failed":
        print(f"attendd: {period.key}: push failed, kept in the outbox for retry: {o.error}", file=sys.stderr)
        return 1
    if o.status == "unchanged":
        print(f"{period.key}: the scoring DB already has these results")
        return 0
    print(f"{period.key}: pushed {o.rows} rows to {scoring.display}")
    return 0


def status(args) -> int:
    from ..outbox import held_periods, pending
    from ..scheduler import job_runs

    ctx = Context.from_args(args)
    store = ctx.store()
    jobs = job_runs(store)
    render(
        [
            {**j, "scheduled": _local(j["scheduled_for_utc"], ctx), "finished": _local(j["finished_utc"], ctx)}
            for j in jobs
        ],
        [
            ("job", "job"),
            ("scheduled", "scheduled for"),
            ("status", "status"),
            ("finished", "finished"),
            ("error", "error"),
        ],
        title="jobs",
    )
    states = store.device_states()
    render(
        [
            {
                "device": d.name,
                "serial": (states.get(d.name).serial if states.get(d.name) else ""),
                "health": health(states.get(d.name)),
                "last_sync": _local(states[d.name].last_success_utc, ctx) if states.get(d.name) else "",
                "error": problem(states.get(d.name)) or "",
            }
            for d in ctx.config.devices
        ],
        [
            ("device", "device"),
            ("serial", "serial"),
            ("health", "health"),
            ("last_sync", "last sync"),
            ("error", "problem"),
        ],
        title="devices",
    )
    held = held_periods(store)
    if held:
        render(
            [
                {
                    "period": h["period_key"],
                    "held": _local(h["held_utc"], ctx),
                    "checked": _local(h["checked_utc"], ctx),
                    "why": "; ".join(h["reasons"].splitlines()),
                }
                for h in held
            ],
            [("period", "period"), ("held", "held since"), ("checked", "last checked"), ("why", "why")],
            title=f"periods held open: {len(held)} (data incomplete; each pull checks again; close anyway with "
            "attendd evaluate --period P --final --force --by NAME --reason TEXT)",
        )
    backlog = pending(store, ctx.scoring(), since=ctx.config.site.since)
    render(
        [{**b, "next": _local(b["next_attempt_utc"], ctx)} for b in backlog],
        [("period_key", "period"), ("attempts", "attempts"), ("next", "next try"), ("last_error", "last error")],
        title=f"outbox: {len(backlog)} period(s) waiting for the scoring DB",
    )
    return 0


def _receiver(ctx: Context, store, listen: str | None = None):
    """The ADMS/PUSH listener when the config has pushing terminals (else None)."""
    from ..push_receiver import adms_devices, make_receiver

    if not adms_devices(ctx.config) and listen is None:
        return None
    from ..config import parse_listen

    host, port = ctx.config.daemon.push_address()
    if listen:
        try:
            host, port = parse_listen(listen)
        except ValueError as exc:
            raise UserError(f"--listen: {exc}") from None
    return make_receiver(store, ctx.config, utc_now, ctx.tz, host=host, port=port)


def _start_receiver(receiver) -> None:
    """Start the push listener; a port in use (or not ours to bind) is one line, exit 1."""
    try:
        receiver.start()
    except OSError as exc:
        raise AttenddError(
            f"push receiver: cannot listen on {receiver.host}:{receiver.port}: {exc.strerror or exc}"
        ) from None


def run(args) -> int:
    from ..scheduler import Daemon

    ctx = Context.from_args(args)
    store = ctx.store()
    scoring = ctx.scoring()
    scoring.check()
    receiver = _receiver(ctx, store)
    if receiver is not None:
        _start_receiver(receiver)
    listener = _serial_listener(ctx, store).start()
    try:
        Daemon(ctx.config, store, scoring, connect_device, utc_now, ctx.tz).serve()
    finally:
        listener.stop()
        if receiver is not None:
            receiver.stop()
    return 0


def _serial_listener(ctx: Context, store, names: list[str] | None = None):
    """The readers of the config's serial terminals (none: an empty listener)."""
    from ..serial_listener import SerialListener, make_readers

    return SerialListener(make_readers(store, ctx.config, utc_now, ctx.tz, names=names))


def listen_serial(args) -> int:
    from drivers._foreground import until_stopped
    from drivers.serial import PRESETS

    from ..logging import mask_url_password
    from ..serial_listener import device_serial

    ctx = Context.from_args(args)
    store = ctx.store()
    listener = _serial_listener(ctx, store, args.device)
    if not listener.readers:
        raise UserError(
            f'{ctx.config_label}: no serial devices to listen to (add [[devices]] with driver = "serial" and a url)'
        )
    with until_stopped() as stopping, listener:
        for r in listener.readers:
            fmt = r.record_format
            what = f"the {fmt.name} format ({fmt.layout})" if fmt.name in PRESETS else "a custom pattern"
            print(
                f"listening to {r.name} on {mask_url_password(r.url)} at {r.baudrate} baud: {what}, "
                f"stored as {device_serial(ctx.config.device(r.name))}",
                flush=True,
            )
        while not stopping.wait(0.5):
            pass
    for r in listener.readers:
        print(
            f"{r.name}: {r.stats.lines} lines, {r.stats.punches} punches, {r.stats.bad} bad records, "
            f"{r.stats.connections} connection(s)",
            flush=True,
        )
    return 0


def serve_push(args) -> int:
    from drivers._foreground import until_stopped

    ctx = Context.from_args(args)
    store = ctx.store()
    receiver = _receiver(ctx, store, args.listen or ctx.config.daemon.push_listen)
    with until_stopped() as stopping:
        _start_receiver(receiver)
        try:
            scheme = "https" if ctx.config.daemon.push_tls() else "http"
            print(
                f"ADMS/PUSH receiver on port {receiver.port} ({scheme}): /iclock/cdata, /iclock/getrequest, "
                f"/iclock/ping (allowed serials: {', '.join(sorted(receiver.allowlist)) or 'none'})",
                flush=True,
            )
            while not stopping.wait(0.5):
                pass
        finally:
            receiver.stop()
    return 0


def _pulled_devices(ctx: Context, names: list[str] | None):
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


def sync(args) -> int:
    ctx = Context.from_args(args)
    devices = _pulled_devices(ctx, args.device)
    store = ctx.store()
    results = _run_with_progress(
        len(devices),
        lambda on_done: sync_all(
            store,
            devices,
            connect=connect_device,
            clock=utc_now,
            tz=ctx.tz,
            workers=ctx.config.daemon.sync_workers,
            force=args.force,
            on_done=on_done,
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
                "drift": _drift(r.clock_offset_s),
                "note": r.error or _note(r),
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
            ("note", "note"),
        ],
        title="sync",
    )
    failed = [r for r in results if r.failed]
    if failed:
        print(f"attendd: {len(failed)} of {len(results)} devices failed", file=sys.stderr)
    return 1 if failed else 0


def _note(r) -> str:
    notes = []
    if r.shrunk_from is not None:
        notes.append(f"record count went down from {r.shrunk_from} (log cleared?)")
    if r.unknown_pins:
        shown = ", ".join(r.unknown_pins[:8]) + (" …" if len(r.unknown_pins) > 8 else "")
        notes.append(f"PINs not enrolled on the terminal: {shown}")
    return "; ".join(notes)


def _drift(seconds: float | None) -> str:
    if seconds is None:
        return ""
    sign = "+" if seconds >= 0 else "-"
    s = abs(seconds)
    if s < 60:
        return f"{sign}{s:.0f}s"
    if s < 3600:
        return f"{sign}{s / 60:.1f}min"
    return f"{sign}{s / 3600:.1f}h"


def _run_with_progress(total: int, job):
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


def devices(args) -> int:
    ctx = Context.from_args(args)
    store = ctx.store()
    states = store.device_states()
    now = utc_now()
    now_local = now.astimezone(ctx.tz).replace(tzinfo=None)

    def probe(d):
        row = {"device": d.name, "driver": d.driver, "address": _address(d)}
        st = states.get(d.name)
        if st:
            row.update(
                last_sync=_local(st.last_success_utc, ctx),
                last_error=problem(st) or "",
            )
        if args.offline or d.driver not in PULLED_DRIVERS or not d.enabled:
            row["reachable"] = "" if not d.enabled else "-"
            if st:
                row.update(
                    serial=st.serial, firmware=st.firmware, records=st.record_count, drift=_drift(st.clock_offset_s)
                )
            if not d.enabled:
                row["last_error"] = "disabled in config"
            return row
        try:
            with connect_device(d) as t:
                info = t.device_info()
            row.update(
                reachable="yes",
                serial=info.serial,
                firmware=info.firmware,
                records=info.record_count,
                users=info.user_count,
                drift=_drift((info.clock - datetime.now(ctx.tz).replace(tzinfo=None)).total_seconds())
                if info.clock
                else "unknown",
            )
        except Exception as exc:  # every driver error is a TerminalError; show it whatever it is
            row.update(reachable="no", last_error=str(exc))
        return row

    with ThreadPoolExecutor(max_workers=max(1, min(8, len(ctx.config.devices) or 1))) as pool:
        rows = list(pool.map(probe, ctx.config.devices))
    if not rows:
        print(f"{ctx.config_label}: no devices configured")
        return 0
    render(
        rows,
        [
            ("device", "device"),
            ("driver", "driver"),
            ("address", "address"),
            ("reachable", "reachable"),
            ("serial", "serial"),
            ("firmware", "firmware"),
            ("records", "records"),
            ("users", "users"),
            ("drift", "clock drift"),
            ("last_sync", "last sync"),
            ("last_error", "problem"),
        ],
        title=f"devices at {now_local:%Y-%m-%d %H:%M}",
    )
    return 1 if any(r.get("reachable") == "no" for r in rows) else 0


def _address(d) -> str:
    host = getattr(d, "host", None)
    if d.driver == "serial" and getattr(d, "url", None):
        from ..logging import mask_url_password

        return f"{mask_url_password(d.url)} @{d.baudrate}"
    if not host:
        return ""
    return f"{host}:{d.port}/{getattr(d, 'protocol', 'tcp')}"


def _local(t: datetime | None, ctx: Context) -> str:
    if t is None:
        return ""

    return t.replace(tzinfo=UTC).astimezone(ctx.tz).strftime("%Y-%m-%d %H:%M")


def _parse_when(value: str | None, flag: str, *, end: bool) -> datetime | None:
    if value is None:
        return None
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d"):
        try:
            t = datetime.strptime(value, fmt)
        except ValueError:
            continue
        if end and fmt == "%Y-%m-%d":
            t += timedelta(days=1)  # --to 2026-03-31 includes the whole day
        return t
    raise UserError(f'{flag}: expected YYYY-MM-DD or "YYYY-MM-DD HH:MM", got {value!r}')


def punches(args) -> int:
    ctx = Context.from_args(args)
    start = _parse_when(args.start, "--from", end=False)
    end = _parse_when(args.end, "--to", end=True)
    if start and end and end <= start:
        raise UserError("--to: must be after --from")
    if args.limit is not None and args.limit <= 0:
        raise UserError("--limit: must be a positive number")
    store = ctx.store()
    rows = store.punches(device=args.device, staff=args.staff, start=start, end=end, limit=args.limit)
    cols = [
        ("punched_at", "time"),
        ("pin", "staff"),
        ("device_name", "device"),
        ("device_serial", "serial"),
        ("state", "state"),
        ("verify", "verify"),
        ("work_code", "work code"),
        ("source", "source"),
        ("tz", "timezone"),
    ]
    if args.format == "table" and not rows:
        print("no punches match")
        return 0
    render(rows, cols, args.format, title=f"{len(rows)} punches")
    return 0


def simulate_device(args) -> int:
    from drivers.zk.simulator import run_simulator

    attlog = Path(args.attlog) if args.attlog else None
    if attlog is not None and not attlog.is_file():
        raise UserError(f"--attlog: {attlog}: no such file")
    if args.records is not None and args.records < 0:
        raise UserError("--records: must be 0 or more")
    if args.driver == "serial":
        return _simulate_serial(args, attlog)
    if args.port is None:
        raise UserError("--port: required for a simulated zk terminal")
    if not (0 < args.port < 65536):
        raise UserError(f"--port: expected 1-65535, got {args.port}")
    run_simulator(
        args.port,
        records=args.records,
        attlog=attlog,
        comm_key=args.comm_key,
        users=args.users,
        serial=args.serial,
        host=args.host,
        record_size=args.record_size,
        encoding=args.encoding,
    )
    return 0


def _simulate_serial(args, attlog: Path | None) -> int:
    """``simulate-device --driver serial``: a terminal printing lines on a TCP port or a pty."""
    from drivers.attlog import read_attlog
    from drivers.serial.simulator import run_serial_simulator
    from drivers.zk.simulator import synthetic_punches

    listen = None
    if not args.pty:
        if args.listen:
            host, _, port = args.listen.rpartition(":")
        else:
            host, port = args.host, "" if args.port is None else str(args.port)
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise UserError("--listen: expected HOST:PORT (or --pty), e.g. --listen 127.0.0.1:4001")
        listen = (host or "127.0.0.1", int(port))
    if args.interval < 0:
        raise UserError("--interval: must be 0 or more")
    punches = (
        read_attlog(attlog)
        if attlog
        else synthetic_punches(100 if args.records is None else args.records, pins=args.users or 50)
    )
    if args.format == "compact" and any(not p.pin.isdigit() for p in punches):
        raise UserError("--format compact: every PIN must be digits")
    run_serial_simulator(
        punches, listen=listen, use_pty=args.pty, format=args.format, encoding=args.encoding, interval=args.interval
    )
    return 0


def demo(args) -> int:
    from ..demo import run_demo

    return run_demo(Path(args.dir) if args.dir else Path.cwd() / "attendd-demo", args)


def device_users(args) -> int:
    """Roster vs terminals, from the user lists the last pulls read."""
    from sqlalchemy import select

    from ..store.models import DeviceStateRow, DeviceUserRow, StaffRow

    ctx = Context.from_args(args)
    store = ctx.store()
    with store.engine.connect() as conn:
        enrolled = conn.execute(select(DeviceUserRow.__table__)).mappings().all()
        roster = {r.staff_no: r for r in conn.execute(select(StaffRow.__table__)).all()}
        names = {r.serial: r.device_name for r in conn.execute(select(DeviceStateRow.__table__)).all() if r.serial}
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
        print("no user lists yet: `attendd sync` reads each terminal's users")
    if args.format == "table" and not rows:
        print(f"roster and terminals agree ({len(roster)} staff)")
        return 0
    render(
        rows,
        [("problem", "problem"), ("staff_no", "staff no"), ("name", "name"), ("where", "devices / window")],
        args.format,
        title="roster vs terminals",
    )
    return 0
