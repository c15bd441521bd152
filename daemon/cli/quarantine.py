"""``attendd quarantine list|redate|release|dismiss``: the quarantine review on the command line.

The same store functions as the console's ``/quarantine`` (:mod:`daemon.store.quarantine_review`).
``redate`` picks a reset clock's run — a device's pending records whose times, as the terminal
recorded them, fall in ``--from``..``--to`` — and re-dates it by an offset; ``release`` does the
same for records named by id. The offset is seconds or a duration (``--offset +9559d1m``), or
comes from one known punch (``--known "2000-01-03 08:01:00=2026-03-04 08:02:00"``: what the
terminal said, when it was). ``--dry-run`` (``--preview`` for ``release``) only shows what would
be stored. ``dismiss`` takes ids or the same selection. Every change is in the change log, by
``--by``.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..clock import site_time, system_clock
from ..durations import parse_duration
from ..errors import UserError
from .context import Context
from .devices import _check_known, _parse_when
from .output import render, say
from .parser import Subcommands, add_format

if TYPE_CHECKING:
    from ..store.quarantine_review import ReleaseLine

#: ``quarantine list``: the record, why it is quarantined, what was decided, its raw form.
LIST_COLUMNS = ("id", "device_name", "pin", "punched_at", "reason", "decision", "raw")
#: The widest offset accepted: a clock reset to 2000 and found a century later is not a typo's.
MAX_OFFSET = timedelta(days=36600)


def register(sub: Subcommands) -> None:
    s = sub.add_parser("quarantine", help="quarantined records: list, redate / release (re-dated), dismiss")
    acts = s.add_subparsers(dest="quarantine_command", metavar="ACTION", required=True)
    ls = acts.add_parser("list", help="records nobody has decided on yet (with --all: every one)")
    ls.add_argument("--all", action="store_true")
    ls.add_argument("--device", metavar="NAME", help="only this device's (name or serial)")
    ls.add_argument(
        "--reason", metavar="TEXT", help="only records whose reason contains TEXT, e.g. 'reset clock', 'future'"
    )
    add_format(ls)
    ls.set_defaults(func=list_quarantine)
    rd = acts.add_parser(
        "redate", help="re-date a run of a device's records (a reset clock) by an offset and store them as punches"
    )
    _add_selection(rd, required=True)
    _add_offset(rd)
    rd.add_argument("--dry-run", action="store_true", help="show what would be stored; store nothing")
    rd.add_argument("--reason", metavar="TEXT", help="the cause (required unless --dry-run)")
    rd.add_argument("--by", metavar="NAME", help="who re-dates (required unless --dry-run)")
    rd.set_defaults(func=redate)
    r = acts.add_parser("release", help="store records as punches, re-dated by an offset (all or none)")
    r.add_argument("ids", nargs="+", type=int, metavar="ID")
    _add_offset(r)
    r.add_argument("--preview", action="store_true", help="show what would be stored; store nothing")
    r.add_argument("--reason", metavar="TEXT")
    r.add_argument("--by", metavar="NAME")
    r.set_defaults(func=release)
    d = acts.add_parser("dismiss", help="decide records are not punches, with a reason (by id, or a device's run)")
    d.add_argument("ids", nargs="*", type=int, metavar="ID")
    _add_selection(d, required=False)
    d.add_argument("--dry-run", action="store_true", help="show what would be dismissed; store nothing")
    d.add_argument("--reason", metavar="TEXT", help="why they are not punches (required unless --dry-run)")
    d.add_argument("--by", metavar="NAME", help="who dismisses (required unless --dry-run)")
    d.set_defaults(func=dismiss)


def _add_selection(p: argparse.ArgumentParser, *, required: bool) -> None:
    """``--device D --from T1 --to T2``: a device's pending records, by the terminal's own times."""
    p.add_argument("--device", required=required, metavar="NAME", help="the device (name or serial)")
    p.add_argument(
        "--from", dest="start", required=required, metavar="TIME", help="the terminal's time, YYYY-MM-DD[ HH:MM[:SS]]"
    )
    p.add_argument("--to", dest="end", required=required, metavar="TIME", help="before this time (a date: through it)")


def _add_offset(p: argparse.ArgumentParser) -> None:
    p.add_argument("--known", metavar="TERMINAL=REAL", help="one known punch: what the terminal said = when it was")
    p.add_argument(
        "--offset", metavar="OFFSET", help="or the offset itself: seconds, or a duration like +9559d1m (d, h, m, s)"
    )


def parse_offset(text: str) -> timedelta:
    """``--offset``: seconds (``826041660``, ``-28800``) or a duration of days, hours, minutes and
    seconds (``+9559d1m``, ``-8h``); no years or months, whose length varies (use ``--known``)."""
    seconds = parse_duration(text)
    if seconds is None:
        raise UserError(f"--offset: expected seconds or a duration like +9559d1m (d, h, m, s), got {text[:40]!r}")
    try:
        offset = timedelta(seconds=seconds)
    except OverflowError:
        offset = MAX_OFFSET * 2  # refused just below
    if abs(offset) > MAX_OFFSET:
        raise UserError(f"--offset: at most {MAX_OFFSET.days} days either way, got {text[:40]!r}")
    return offset


def _offset(args: argparse.Namespace) -> timedelta:
    from ..store.quarantine_review import offset_from

    if args.known and args.offset is not None:
        raise UserError("--known or --offset, not both")
    if args.offset is not None:
        return parse_offset(args.offset)
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
    rows = qr.find(store, device=args.device, reason=args.reason, undecided=not args.all)
    rows = [{**r, "decision": (decided.get(r["id"]) or {}).get("decision", "pending")} for r in rows]
    if not rows and args.device:
        _check_known(ctx, store, device=args.device, staff=None)
    if args.format == "table" and not rows:
        filtered = args.device or args.reason
        say("no quarantined record matches" if filtered else "nothing in quarantine waits for a decision")
        return 0
    columns = [(k, k.replace("device_name", "device").replace("punched_at", "time")) for k in LIST_COLUMNS]
    render(rows, columns, args.format, title=f"{len(rows)} quarantined record(s)")
    return 0


def release(args: argparse.Namespace) -> int:
    ctx = Context.from_args(args, require_file=True)
    store = ctx.store()
    offset = _offset(args)
    if args.preview:
        title = f"release with offset {offset.total_seconds():+.0f} s (preview: nothing stored)"
        _preview(ctx, store, args.ids, offset, title)
        return 0
    if not args.reason or not args.by:
        raise UserError("release: say why and who with --reason TEXT --by NAME (or look first with --preview)")
    new = _release(ctx, store, args, args.ids, offset)
    say(f"released {len(args.ids)} record(s): {new} new punch(es)")
    return 0


def _preview(ctx: Context, store, ids: list[int], offset: timedelta, title: str) -> list[ReleaseLine]:
    """Show what releasing ``ids`` re-dated by ``offset`` would store; the preview's lines."""
    from ..store import quarantine_review as qr

    now_local = site_time(system_clock(), ctx.tz)
    lines = qr.preview_release(store, ids, offset=offset, now_local=now_local, installed=ctx.config.installed_dates())
    render(
        [vars(x) for x in lines],
        [("quarantine_id", "id"), ("pin", "staff"), ("was", "was"), ("becomes", "becomes"), ("problem", "problem")],
        title=title,
    )
    return lines


def _release(ctx: Context, store, args: argparse.Namespace, ids: list[int], offset: timedelta, **more: Any) -> int:
    """Release ``ids`` re-dated by ``offset``, by ``--by`` for ``--reason``; how many punches were new."""
    from ..store import quarantine_review as qr

    now = system_clock()
    return qr.release(
        store,
        ids,
        offset=offset,
        reason=args.reason,
        by=args.by,
        via="cli",
        now_utc=now,
        now_local=site_time(now, ctx.tz),
        installed=ctx.config.installed_dates(),
        **more,
    )


def _check_who(args: argparse.Namespace, action: str) -> None:
    """A change (not a dry run) says why and who, before anything is opened."""
    if not args.dry_run and not ((args.reason or "").strip() and (args.by or "").strip()):
        raise UserError(f"{action}: say why and who with --reason TEXT --by NAME (or look first with --dry-run)")


def _range(args: argparse.Namespace) -> tuple[datetime | None, datetime | None]:
    """``--from`` / ``--to`` of a selection, the terminal's own (naive) times; --to after --from."""
    start = _parse_when(args.start, "--from", end=False)
    end = _parse_when(args.end, "--to", end=True)
    if start is not None and end is not None and end <= start:
        raise UserError(f"--to: {args.end} is not after --from {args.start}")
    return start, end


def _select(ctx: Context, store, args: argparse.Namespace, span: tuple[datetime | None, datetime | None]) -> list[int]:
    """The ids of the device's pending records in the range, oldest first; UserError when none."""
    from ..store import quarantine_review as qr

    start, end = span
    rows = qr.find(store, device=args.device, start=start, end=end)
    if not rows:
        _check_known(ctx, store, device=args.device, staff=None)
        raise UserError(
            f"--device {args.device}: no pending quarantined record from {args.start} to {args.end}; nothing changed"
        )
    return [r["id"] for r in sorted(rows, key=lambda r: (r["punched_at"], r["id"]))]


def _selection_note(args: argparse.Namespace) -> dict[str, Any]:
    """How a run was chosen, as typed, for the change log's entry."""
    return {"device": args.device, "from": args.start, "to": args.end}


def redate(args: argparse.Namespace) -> int:
    ctx = Context.from_args(args, require_file=True)
    span = _range(args)
    if not args.known and args.offset is None:
        raise UserError("redate: how far the clock was off: --offset OFFSET or --known TERMINAL=REAL")
    offset = _offset(args)
    _check_who(args, "redate")
    store = ctx.store()
    ids = _select(ctx, store, args, span)
    shown = f"{offset.total_seconds():+.0f} s"
    if args.dry_run:
        lines = _preview(ctx, store, ids, offset, f"re-date {len(ids)} record(s) of {args.device} by {shown}")
        blocked = sum(1 for x in lines if x.problem)
        why = f"; {blocked} cannot be re-dated (see problem), so as it stands none would be" if blocked else ""
        say(f"dry run: nothing stored ({len(ids)} record(s) would be re-dated{why})")
        return 0
    new = _release(ctx, store, args, ids, offset, selection=_selection_note(args))
    say(f"re-dated {len(ids)} record(s) of {args.device} by {shown}: {new} new punch(es)")
    return 0


def dismiss(args: argparse.Namespace) -> int:
    from ..store import quarantine_review as qr

    ctx = Context.from_args(args, require_file=True)
    chosen = [x for x in (args.device, args.start, args.end) if x is not None]
    if args.ids and chosen:
        raise UserError("dismiss: record ids or --device --from --to, not both")
    if not args.ids and len(chosen) < 3:
        raise UserError("dismiss: name the records: their ids, or --device NAME --from TIME --to TIME")
    span = _range(args) if chosen else (None, None)
    _check_who(args, "dismiss")
    store = ctx.store()
    ids = args.ids or _select(ctx, store, args, span)
    if args.dry_run:
        rows = [r for r in qr.find(store, undecided=False, device=args.device) if r["id"] in set(ids)]
        render(rows, [(k, k) for k in ("id", "device_name", "pin", "punched_at", "reason")], title="to dismiss")
        say(f"dry run: nothing stored ({len(ids)} record(s) would be dismissed)")
        return 0
    qr.dismiss(store, ids, reason=args.reason, by=args.by, via="cli", now_utc=system_clock())
    say(f"dismissed {len(ids)} record(s)")
    return 0
