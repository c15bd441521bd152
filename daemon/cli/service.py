"""``attendd status``, ``run`` and ``serve-push``: the daemon, its push receiver, how its jobs went."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ..clock import system_clock
from ..errors import AttenddError, UserError
from ..health import health, problem
from .context import Context, connect_device
from .output import local_time, render, say
from .parser import Subcommands

if TYPE_CHECKING:
    from drivers.adms.server import AdmsServer

    from ..serial_listener import SerialListener
    from ..store import Store


def register(sub: Subcommands) -> None:
    s = sub.add_parser("status", help="last run of each job, device health, outbox backlog")
    s.set_defaults(func=status)

    s = sub.add_parser("run", help="the daemon in the foreground (what systemd starts)")
    s.set_defaults(func=run)

    s = sub.add_parser("serve-push", help="only the ADMS/PUSH receiver, in the foreground (to try a pushing terminal)")
    s.add_argument("--listen", metavar="HOST:PORT", help="default: daemon.push_listen")
    s.set_defaults(func=serve_push)


def status(args: argparse.Namespace) -> int:
    from ..outbox import held_periods, pending
    from ..scheduler import job_runs

    ctx = Context.from_args(args)
    store = ctx.store()
    jobs = job_runs(store)
    render(
        [
            {
                **j,
                "scheduled": local_time(j["scheduled_for_utc"], ctx.tz),
                "finished": local_time(j["finished_utc"], ctx.tz),
            }
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
                "serial": st.serial if st else "",
                "health": health(st),
                "last_sync": local_time(st.last_success_utc, ctx.tz) if st else "",
                "error": problem(st) or "",
            }
            for d in ctx.config.devices
            for st in [states.get(d.name)]
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
                    "held": local_time(h["held_utc"], ctx.tz),
                    "checked": local_time(h["checked_utc"], ctx.tz),
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
        [{**b, "next": local_time(b["next_attempt_utc"], ctx.tz)} for b in backlog],
        [("period_key", "period"), ("attempts", "attempts"), ("next", "next try"), ("last_error", "last error")],
        title=f"outbox: {len(backlog)} period(s) waiting for the scoring DB",
    )
    return 0


def _receiver(ctx: Context, store: Store, listen: str | None = None) -> AdmsServer:
    """The ADMS/PUSH listener (not started): on ``listen``, else on the config's ``daemon.push_listen``."""
    from ..config import parse_listen
    from ..push_receiver import make_receiver

    host, port = ctx.config.daemon.push_address()
    if listen:
        try:
            host, port = parse_listen(listen)
        except ValueError as exc:
            raise UserError(f"--listen: {exc}") from None
    return make_receiver(store, ctx.config, system_clock, ctx.tz, host=host, port=port)


def _start_receiver(receiver: AdmsServer) -> None:
    """Start the push listener; a port in use (or not ours to bind) is one line, exit 1."""
    try:
        receiver.start()
    except OSError as exc:
        raise AttenddError(
            f"push receiver: cannot listen on {receiver.host}:{receiver.port}: {exc.strerror or exc}"
        ) from None


def serial_listener(ctx: Context, store: Store, names: list[str] | None = None) -> SerialListener:
    """The readers of the config's serial terminals (none: an empty listener)."""
    from ..serial_listener import SerialListener, make_readers

    return SerialListener(make_readers(store, ctx.config, system_clock, ctx.tz, names=names))


def run(args: argparse.Namespace) -> int:
    from ..push_receiver import adms_devices
    from ..scheduler import Daemon

    ctx = Context.from_args(args)
    store = ctx.store()
    scoring = ctx.scoring()
    scoring.check()
    receiver = _receiver(ctx, store) if adms_devices(ctx.config) else None  # only with pushing terminals
    if receiver is not None:
        _start_receiver(receiver)
    listener = serial_listener(ctx, store).start()
    try:
        Daemon(ctx.config, store, scoring, connect_device, system_clock, ctx.tz).serve()
    finally:
        listener.stop()
        if receiver is not None:
            receiver.stop()
    return 0


def serve_push(args: argparse.Namespace) -> int:
    from drivers._foreground import until_stopped

    ctx = Context.from_args(args)
    store = ctx.store()
    receiver = _receiver(ctx, store, args.listen or ctx.config.daemon.push_listen)
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
