"""``attendd assess --period P``: the whole assessment of a period (issue 18) — each window's and
person's categories, total, rank, 流动红旗 and grade, and the notices issued with it. Looks only:
the daemon's snapshot pushes the same rows with the attendance ones."""

from __future__ import annotations

import argparse

from ..errors import UserError
from .context import Context
from .output import render, say
from .parser import Subcommands, add_format


def register(sub: Subcommands) -> None:
    s = sub.add_parser("assess", help="the whole assessment of a period: categories, totals, red flags, notices")
    s.add_argument("--period", required=True, metavar="PERIOD", help="2026-03, 2026-Q1, 2026-H1 or 2026")
    s.add_argument("--staff", action="store_true", help="the people's assessment (default: the windows')")
    s.add_argument("--notices", action="store_true", help="the notices and honours issued with the period")
    add_format(s)
    s.set_defaults(func=assess_cmd)


def assess_cmd(args: argparse.Namespace) -> int:
    from ..assessment import assess_period, enabled, ordered
    from ..outbox import check_go_live
    from .results import parse_period_arg

    ctx = Context.from_args(args, require_file=True)
    period = parse_period_arg(args.period)
    check_go_live(ctx.config, period)
    if not enabled(ctx.config):
        raise UserError(
            f"{ctx.config_label}: [assessment] enabled is false (or no window's policy has an [assessment]): "
            "attendd assesses attendance alone; set it to true to compute the whole assessment"
        )
    outcome = assess_period(ctx.store(), ctx.config, period)
    if outcome is None:
        raise UserError(f"--period {period.key}: no assessment scheme of the config is assessed per {period.kind}")
    if args.notices:
        rows = [vars_of(n) for n in outcome.notices]
        columns = [(k, k) for k in ("notice_period", "subject_kind", "subject", "kind", "rule", "effect", "reason")]
        render(rows, columns, args.format, title=f"{period.key}: {len(rows)} notices and honours")
        return 0
    results = ordered(outcome.staff if args.staff else outcome.windows)
    names = [c.category for c in results[0].categories] if results else []
    rows = []
    for a in results:
        row = {
            "rank": a.rank,
            "subject": a.subject,
            "window": a.window,
            "total": a.total,
            "max_total": a.max_total,
            "bonus": a.bonus,
            "back": a.back,
            "provisional": a.provisional,
            "missing": "、".join(a.missing),
            "red_flag": a.red_flag,
            "grade": a.grade or "",
            "grade_note": a.grade_note or "",
            "disqualified": a.disqualified,
        }
        row.update({f"c:{c.category}": c.score for c in a.categories})
        rows.append(row)
    columns = [
        ("rank", "rank"),
        ("subject", "staff no" if args.staff else "window"),
        *([("window", "window")] if args.staff else []),
        *[(f"c:{n}", n) for n in names],
        ("bonus", "附加分"),
        ("back", "倒扣"),
        ("total", "total"),
        ("max_total", "of"),
        ("provisional", "provisional"),
        ("missing", "not assessed"),
        ("red_flag", "红旗"),
        ("grade", "grade"),
        ("grade_note", "grade note"),
        ("disqualified", "disqualified"),
    ]
    render(rows, columns, args.format, title=f"{period.key}: the whole assessment of {len(rows)}")
    if args.format == "table" and outcome.notices:
        say(f"{len(outcome.notices)} notices and honours: attendd assess --period {period.key} --notices")
    return 0


def vars_of(n) -> dict:
    """A notice as a row: the period it is issued for, whom, what and why."""
    row = {k: getattr(n, k) for k in ("subject_kind", "subject", "kind", "rule", "effect", "reason")}
    return {"notice_period": n.period_key, **row}
