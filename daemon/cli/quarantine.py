"""``attendd quarantine list|release|dismiss``: the quarantine review on the command line.

The same store functions as the console's ``/quarantine`` (:mod:`daemon.store.quarantine_review`):
``release`` re-dates the records by an offset — given in seconds, or from one known punch
(``--known "2000-01-03 08:01:00=2026-03-04 08:02:00"``: what the terminal said, when it was) —
and with ``--preview`` only shows what it would store.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta

from ..clock import site_time, system_clock
from ..errors import UserError
from .context import Context
from .output import render, say
from .parser import Subcommands, add_format

#: ``quarantine list``: the record, why it is quarantined, what was decided, its raw form.
LIST_COLUMNS = ("id", "device_name", "pin", "punched_at", "reason", "decision", "raw")


def register(sub: Subcommands) -> None:
    s = sub.add_parser("quarantine", help="quarantined records: list, release (re-dated), dismiss")
    acts = s.add_subparsers(dest="quarantine_command", metavar="ACTION", required=True)
    ls = acts.add_parser("list", help="records nobody has decided on yet (with --all: every one)")
    ls.add_argument("--all", action="store_true")
    add_format(ls)
    ls.set_defaults(func=list_quarantine)
    r = acts.add_parser("release", help="store records as punches, re-dated by an offset (all or none)")
    r.add_argument("ids", nargs="+", type=int, metavar="ID")
    r.add_argument("--known", metavar="TERMINAL=REAL", help="one known punch: what the terminal said = when it was")
    r.add_argument("--offset", type=float, metavar="SECONDS", help="or the offset itself, in seconds")
    r.add_argument("--preview", action="store_true", help="show what would be stored; store nothing")
    r.add_argument("--reason", metavar="TEXT")
    r.add_argument("--by", metavar="NAME")
    r.set_defaults(func=release)
    d = acts.add_parser("dismiss", help="decide records are not punches, with a reason")
    d.add_argument("ids", nargs="+", type=int, metavar="ID")
    d.add_argument("--reason", required=True, metavar="TEXT")
    d.add_argument("--by", required=True, metavar="NAME")
    d.set_defaults(func=dismiss)


def _offset(args: argparse.Namespace) -> timedelta:
    from ..store.quarantine_review import offset_from

    if args.known and args.offset is not None:
        raise UserError("--known or --offset, not both")
    if args.offset is not None:
        return timedelta(seconds=args.offset)
    if not args.known:
        return timedelta(0)
    said, _, real = args.known.partition("=")
    try:
        return offset_from(datetime.fromisoformat(said.strip()), datetime.fromisoformat(real.strip()))
    except ValueError:
        raise UserError(
            f"--known: expected 'YYYY-MM-DD HH:MM:SS=YYYY-MM-DD HH:MM:SS', got {args.known[:60]!r}"
        ) from None


def list_quarantine(args: argparse.Namespace) -> int:
    from ..store import quarantine_review as qr

    ctx = Context.from_args(args, require_file=True)
    store = ctx.store()
    decided = qr.reviews(store)
    rows = store.quarantine() if args.all else qr.pending(store)
    rows = [{**r, "decision": (decided.get(r["id"]) or {}).get("decision", "pending")} for r in rows]
    if args.format == "table" and not rows:
        say("nothing in quarantine waits for a decision")
        return 0
    columns = [(k, k.replace("device_name", "device").replace("punched_at", "time")) for k in LIST_COLUMNS]
    render(rows, columns, args.format, title=f"{len(rows)} quarantined record(s)")
    return 0


def release(args: argparse.Namespace) -> int:
    from ..store import quarantine_review as qr

    ctx = Context.from_args(args, require_file=True)
    store = ctx.store()
    now = system_clock()
    offset = _offset(args)
    installed = ctx.config.installed_dates()
    if args.preview:
        lines = qr.preview_release(
            store, args.ids, offset=offset, now_local=site_time(now, ctx.tz), installed=installed
        )
        render(
            [vars(x) for x in lines],
            [("quarantine_id", "id"), ("pin", "staff"), ("was", "was"), ("becomes", "becomes"), ("problem", "problem")],
            title=f"release with offset {offset.total_seconds():+.0f} s (preview: nothing stored)",
        )
        return 0
    if not args.reason or not args.by:
        raise UserError("release: say why and who with --reason TEXT --by NAME (or look first with --preview)")
    new = qr.release(
        store,
        args.ids,
        offset=offset,
        reason=args.reason,
        by=args.by,
        via="cli",
        now_utc=now,
        now_local=site_time(now, ctx.tz),
        installed=installed,
    )
    say(f"released {len(args.ids)} record(s): {new} new punch(es)")
    return 0


def dismiss(args: argparse.Namespace) -> int:
    from ..store import quarantine_review as qr

    ctx = Context.from_args(args, require_file=True)
    qr.dismiss(ctx.store(), args.ids, reason=args.reason, by=args.by, via="cli", now_utc=system_clock())
    say(f"dismissed {len(args.ids)} record(s)")
    return 0
