"""``attendd evaluate`` and ``push``: a period's results, looked at, closed, sent."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ..clock import system_clock
from ..errors import UserError
from .context import Context, shell_user
from .output import render, say
from .parser import Subcommands, add_format

if TYPE_CHECKING:
    from rules import Period


def register(sub: Subcommands) -> None:
    s = sub.add_parser(
        "evaluate",
        help="compute and show results for a period (2026-03, 2026-Q1, 2026-H1, 2026, "
        "2026-W12); queues nothing for the scoring DB unless --final or --reopen",
    )
    s.add_argument("--period", required=True)
    s.add_argument(
        "--final",
        action="store_true",
        help="close the period: final results, queued for the scoring DB (what the month close does); "
        "refused while its data is incomplete",
    )
    s.add_argument(
        "--force",
        action="store_true",
        help="with --final: close it although its data is incomplete (needs --by and --reason; recorded)",
    )
    s.add_argument(
        "--reopen",
        action="store_true",
        help="recompute a final period, final again as a new revision (needs --by and --reason; recorded)",
    )
    s.add_argument("--by", metavar="NAME", help="who reopens or force-closes (recorded)")
    s.add_argument("--reason", metavar="TEXT", help="why (recorded)")
    add_format(s, "table (default), or csv / json of the window results for scripts (notes then go to stderr)")
    s.set_defaults(func=evaluate)

    s = sub.add_parser("push", help="push a period's results to the scoring DB now")
    s.add_argument("--period", required=True)
    s.set_defaults(func=push)


def parse_period_arg(text: str) -> Period:
    from rules import RulesError, parse_period

    try:
        return parse_period(text)
    except RulesError as exc:
        raise UserError(str(exc)) from None


def evaluate(args: argparse.Namespace) -> int:
    """Compute and show. Only ``--final`` (closing) and ``--reopen`` store and queue the
    result for the scoring DB; a look at a period queues nothing."""
    from ..outbox import check_go_live, close_period, take_snapshot
    from ..store.changes import Actor, final_state, log_period

    ctx = Context.from_args(args, require_file=True)
    period = parse_period_arg(args.period)
    note = say if args.format == "table" else _note  # keep stdout parseable for csv and json
    _check_recorded(args)
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
    now = system_clock()
    before = final_state(store, period.key) if args.reopen or args.final else None
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
    if (args.reopen or args.final) and before != (after := final_state(store, period.key)):
        action = "period_reopen" if args.reopen else "period_close"
        if args.final and after is not None:
            after = {**after, "forced": bool(args.force)}
        by = args.by or shell_user()  # a plain close needs no --by: the shell user closed it
        log_period(
            store, Actor(by, "cli", now), action, period.key, reason=args.reason or "", before=before, after=after
        )
    if snap.is_final and not snap.changed and not args.reopen and not args.final:
        note(f"{period.key} is final: results kept as published (recompute with --reopen --by NAME --reason TEXT)")
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
        args.format,
        title=f"{period.key}: {len(snap.rows['staff_periods'])} staff, {len(snap.rows['deductions'])} deductions"
        + (" (final)" if snap.is_final else ""),
    )
    if args.final or args.reopen:
        note(
            f"{period.key}: final, revision {snap.revision}: queued for the scoring DB "
            f"(the daemon's next drain, or now: attendd push --period {period.key})"
        )
    elif not snap.is_final:
        note(
            f"{period.key}: computed to look at, not queued for the scoring DB "
            f"(attendd push --period {period.key} sends it)"
        )
    return 0


#: The longest ``--by`` the store records (its column's width).
MAX_BY = 128


def _check_recorded(args: argparse.Namespace) -> None:
    """``--by`` and ``--reason`` are recorded: a blank one says nothing, a ``--by`` wider than the
    store's column would fail the write (PostgreSQL, MariaDB) after the period was recomputed."""
    for flag, value in (("--by", args.by), ("--reason", args.reason)):
        if value and not value.strip():  # empty: the checks below ask for it
            raise UserError(f"{flag}: is blank; say {'who' if flag == '--by' else 'why'}")
    if args.by is not None and len(args.by) > MAX_BY:
        raise UserError(f"--by: at most {MAX_BY} characters (a name), got {len(args.by)}")


def _note(text: str) -> None:
    say(text, err=True)


def push(args: argparse.Namespace) -> int:
    from ..outbox import check_go_live, drain, take_snapshot

    ctx = Context.from_args(args, require_file=True)
    period = parse_period_arg(args.period)
    check_go_live(ctx.config, period)
    store = ctx.store()
    take_snapshot(store, ctx.config, period, now=system_clock(), queue=True)
    scoring = ctx.scoring()
    outcomes = drain(store, scoring, now=system_clock(), only=[period.key], force=True, since=ctx.config.site.since)
    if not outcomes:
        say(f"{period.key}: the scoring DB already has these results")
        return 0
    (o,) = outcomes
    if o.status == "failed":
        say(f"attendd: {period.key}: push failed, kept in the outbox for retry: {o.error}", err=True)
        return 1
    if o.status == "unchanged":
        say(f"{period.key}: the scoring DB already has these results")
        return 0
    say(f"{period.key}: pushed {o.rows} rows to {scoring.display}")
    return 0
