"""``attendd status``, ``run`` and ``serve-push``: the daemon, its push receiver, how its jobs went."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ..clock import system_clock
from ..errors import AttenddError, UserError
from ..health import health, problem
from .context import Context, connect_device
from .output import local_time, render, say
from .parser import Subcommands, add_format

if TYPE_CHECKING:
    from drivers.adms.server import AdmsServer

    from ..serial_listener import SerialListener
    from ..store import Store


def register(sub: Subcommands) -> None:
    s = sub.add_parser("status", help="last run of each job, device health, outbox backlog")
    add_format(
        s, "table (default); json: one object of the sections; csv: each section's rows, first column the section"
    )
    s.set_defaults(func=status)

    s = sub.add_parser("run", help="the daemon in the foreground (what systemd starts)")
    s.set_defaults(func=run)

    s = sub.add_parser("serve-push", help="only the ADMS/PUSH receiver, in the foreground (to try a pushing terminal)")
    s.add_argument("--listen", metavar="HOST:PORT", help="default: daemon.push_listen")
    s.set_defaults(func=serve_push)


#: (section, its title in the table, its columns) of ``attendd status``.
_STATUS_SECTIONS: tuple[tuple[str, str, list[tuple[str, str]]], ...] = (
    (
        "jobs",
        "jobs",
        [
            ("job", "job"),
            ("scheduled", "scheduled for"),
            ("status", "status"),
            ("finished", "finished"),
            ("error", "error"),
        ],
    ),
    (
        "devices",
        "devices",
        [
            ("device", "device"),
            ("serial", "serial"),
            ("health", "health"),
            ("last_sync", "last sync"),
            ("error", "problem"),
        ],
    ),
    (
        "held_periods",
        "periods held open",
        [("period", "period"), ("held", "held since"), ("checked", "last checked"), ("why", "why")],
    ),
    (
        "outbox",
        "outbox",
        [("period_key", "period"), ("attempts", "attempts"), ("next", "next try"), ("last_error", "last error")],
    ),
    (
        "instances",
        "instances (attendd run on this store)",
        [
            ("instance", "instance"),
            ("host", "host"),
            ("pid", "pid"),
            ("state", "state"),
            ("started", "started"),
            ("last_seen", "last seen"),
            ("holding", "claims held"),
        ],
    ),
    (
        "claims",
        "claims in progress",
        [
            ("claim", "claim"),
            ("slot", "slot"),
            ("holder", "holder"),
            ("expires", "expires"),
            ("takeovers", "takeovers"),
        ],
    ),
)


def status(args: argparse.Namespace) -> int:
    from ..claims import held_claims, instances
    from ..outbox import held_periods, pending
    from ..scheduler import job_runs
    from ..store.bulletin_numbers import last_issued

    ctx = Context.from_args(args, require_file=True)
    store = ctx.store()
    states = store.device_states()
    held = held_periods(store)
    backlog = pending(store, ctx.scoring(), since=ctx.config.site.since)
    now = system_clock()
    year = now.astimezone(ctx.tz).year
    lease = ctx.config.daemon.claim_lease
    number = last_issued(store, year)  # the DOCX bulletins' counter: the last number issued this year
    sections: dict[str, list[dict]] = {
        "jobs": [
            {
                **j,
                "scheduled": local_time(j["scheduled_for_utc"], ctx.tz),
                "finished": local_time(j["finished_utc"], ctx.tz),
            }
            for j in job_runs(store)
        ],
        "devices": [
            {
                "device": d.name,
                "serial": st.serial if st else "",
                "health": health(st, max_drift_s=ctx.config.daemon.max_clock_drift),
                "last_sync": local_time(st.last_success_utc, ctx.tz) if st else "",
                "error": problem(st, max_drift_s=ctx.config.daemon.max_clock_drift) or "",
            }
            for d in ctx.config.devices
            for st in [states.get(d.name)]
        ],
        "instances": [
            {
                "instance": i["id"][:12],
                "host": i["host"],
                "pid": i["pid"],
                "state": _instance_state(i, now, lease),
                "started": local_time(i["started_utc"], ctx.tz),
                "last_seen": local_time(i["last_seen_utc"], ctx.tz),
                "holding": i["holding"],
            }
            for i in instances(store)[:_STATUS_INSTANCES]
        ],
        "claims": [
            {
                "claim": c["name"],
                "slot": local_time(c["slot_utc"], ctx.tz),
                "holder": c["holder"][:12],
                "expires": local_time(c["expires_utc"], ctx.tz),
                "takeovers": c["takeovers"],
            }
            for c in held_claims(store)
        ],
        "held_periods": [
            {
                "period": h["period_key"],
                "held": local_time(h["held_utc"], ctx.tz),
                "checked": local_time(h["checked_utc"], ctx.tz),
                "why": "; ".join(h["reasons"].splitlines()),
            }
            for h in held
        ],
        "outbox": [{**b, "next": local_time(b["next_attempt_utc"], ctx.tz)} for b in backlog],
    }
    # the sections of ``attendd run`` instances appear once one has run on this store
    shown = [s for s in _STATUS_SECTIONS if sections["instances"] or s[0] not in ("instances", "claims")]
    if args.format == "json":
        import json

        out = {name: [{k: r.get(k) for k, _ in columns} for r in sections[name]] for name, _, columns in shown}
        say(json.dumps(out, ensure_ascii=False, indent=1, default=str))
        return 0
    if args.format == "csv":
        for i, (name, _, columns) in enumerate(shown):
            if i:
                say()
            render([{"section": name, **r} for r in sections[name]], [("section", "section"), *columns], "csv")
        return 0
    titles = {
        "held_periods": f"periods held open: {len(held)} (data incomplete; each pull checks again; close anyway "
        "with attendd evaluate --period P --final --force --by NAME --reason TEXT)",
        "outbox": f"outbox: {len(backlog)} period(s) waiting for the scoring DB",
    }
    for name, title, columns in shown:
        if name in ("held_periods", "claims") and not sections[name]:
            continue
        render(sections[name], columns, title=titles.get(name, title))
    if number:
        say(
            f"发文字号 (DOCX bulletins): last issued in {year}: {number.number} (n = {number.n}, "
            f"{number.period_key}, {local_time(number.issued_utc, ctx.tz)}, by {number.by})"
        )
    else:
        say(f"发文字号 (DOCX bulletins): none issued in {year} yet")
    return 0


#: How many instances ``attendd status`` lists (the newest; stopped ones stay in the store).
_STATUS_INSTANCES = 20


def _instance_state(row: dict, now, lease_s: float) -> str:
    """``running`` (a heartbeat within two leases), ``stopped``, or ``silent`` (died, or cut off)."""
    from datetime import timedelta

    if row["stopped_utc"] is not None:
        return "stopped"
    return "running" if now - row["last_seen_utc"] <= timedelta(seconds=2 * lease_s) else "silent"


def test_clock():
    """The clock of ``attendd run``: the system's, or, for the multi-process tests only, the
    system's shifted by ``ATTENDD_TEST_CLOCK_OFFSET`` seconds (every daemon of a test gets the
    same shift, so their leases agree; time still passes at its real pace)."""
    import os
    from datetime import timedelta

    raw = os.environ.get("ATTENDD_TEST_CLOCK_OFFSET")
    if not raw:
        return system_clock
    try:
        shift = timedelta(seconds=float(raw))
    except ValueError:
        raise UserError(f"ATTENDD_TEST_CLOCK_OFFSET: expected seconds, got {raw!r}") from None
    return lambda: system_clock() + shift


def _listen_address(ctx: Context, listen: str | None = None) -> tuple[str, int]:
    """Where the push receiver listens: ``listen`` (``--listen HOST:PORT``), else ``daemon.push_listen``.

    Read before the store is opened, so that a mistyped ``--listen`` leaves nothing behind.
    """
    from ..config import parse_listen

    if not listen:
        return ctx.config.daemon.push_address()
    try:
        return parse_listen(listen)
    except ValueError as exc:
        raise UserError(f"--listen: {exc}") from None


def _receiver(ctx: Context, store: Store, address: tuple[str, int]) -> AdmsServer:
    """The ADMS/PUSH listener on ``address`` (not started)."""
    from ..push_receiver import make_receiver

    host, port = address
    return make_receiver(store, ctx.config, system_clock, ctx.tz, host=host, port=port)


def _start_receiver(receiver: AdmsServer) -> None:
    """Start the push listener; a port in use (or not ours to bind) is one line, exit 1."""
    try:
        receiver.start()
    except OSError as exc:
        detail = exc.strerror or str(exc)
        if not detail.startswith("cannot listen on"):  # the receiver may have said where already
            detail = f"cannot listen on {receiver.host}:{receiver.port}: {detail}"
        raise AttenddError(f"push receiver: {detail}") from None


def serial_listener(ctx: Context, store: Store, names: list[str] | None = None) -> SerialListener:
    """The readers of the config's serial terminals (none: an empty listener)."""
    from ..serial_listener import SerialListener, make_readers

    return SerialListener(make_readers(store, ctx.config, system_clock, ctx.tz, names=names))


def run(args: argparse.Namespace) -> int:
    from ..push_receiver import adms_devices
    from ..scheduler import Daemon

    ctx = Context.from_args(args, require_file=True)
    store = ctx.store()
    scoring = ctx.scoring()
    scoring.check()
    daemon = Daemon(ctx.config, store, scoring, connect_device, test_clock(), ctx.tz)
    console = None
    if ctx.config.web.listen:  # the web console beside the daemon (bound now: a port in use stops here)
        from .console import console_server

        console = console_server(ctx, store, ctx.config.web.listen, scheduler_alive=daemon.alive)
    receiver = _receiver(ctx, store, _listen_address(ctx)) if adms_devices(ctx.config) else None  # pushing terminals
    if receiver is not None:
        _start_receiver(receiver)
    listener = serial_listener(ctx, store).start()
    try:
        if console is not None:
            console.start()
        daemon.serve()
    finally:
        listener.stop()
        if receiver is not None:
            receiver.stop()
        if console is not None:
            console.stop()
    return 0


def serve_push(args: argparse.Namespace) -> int:
    from drivers._foreground import until_stopped

    ctx = Context.from_args(args, require_file=True)
    address = _listen_address(ctx, args.listen)
    store = ctx.store()
    receiver = _receiver(ctx, store, address)
    with until_stopped() as stopping:
        _start_receiver(receiver)
        try:
            scheme = "https" if ctx.config.daemon.push_tls() else "http"
            say(
                f"ADMS/PUSH receiver on port {receiver.port} ({scheme}): /iclock/cdata, /iclock/getrequest, "
                f"/iclock/ping (allowed serials: {', '.join(sorted(receiver.allowlist)) or 'none'})",
                flush=True,
            )
            while not stopping.wait(0.5):
                pass
        finally:
            receiver.stop()
    return 0
