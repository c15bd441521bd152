"""``attendd explain --staff N --period P``: why a person's result is what it is, day by day.

The same account as the console's ``/staff/{staff_no}/{period}`` page (:mod:`daemon.explain`),
for an admin on SSH: a table, or ``--format json``.
"""

from __future__ import annotations

import argparse
import json

from ..clock import system_clock
from .context import Context
from .output import render, say
from .parser import Subcommands
from .results import parse_period_arg


def register(sub: Subcommands) -> None:
    s = sub.add_parser("explain", help="one person's period day by day: punches, decisions, deductions, clauses")
    s.add_argument("--staff", required=True, metavar="STAFF_NO")
    s.add_argument("--period", required=True, help="2026-03, 2026-Q1, 2026-H1, 2026")
    s.add_argument("--format", choices=("table", "json"), default="table")
    s.set_defaults(func=explain)


def explain(args: argparse.Namespace) -> int:
    from ..explain import explain_staff

    ctx = Context.from_args(args, require_file=True)
    period = parse_period_arg(args.period)
    a = explain_staff(ctx.store(), ctx.config, args.staff, period, as_of=system_clock())
    if args.format == "json":
        say(json.dumps(a.as_json(), ensure_ascii=False, indent=1))
        return 0
    rows = []
    for d in a.days:
        if not d.slots:
            rows.append({"day": f"{d.day:%m-%d}", "kind": d.day_word, "decision": "不考勤" if not d.scheduled else ""})
            continue
        for i, s in enumerate(d.slots):
            ds = [x for x in d.deductions if x.slot == s.slot]
            rows.append(
                {
                    "day": f"{d.day:%m-%d}" if i == 0 else "",
                    "kind": d.day_word if i == 0 else "",
                    "slot": s.slot_word,
                    "due": f"{s.due:%H:%M}",
                    "accept": f"{s.accept_from:%H:%M}–{s.accept_to:%H:%M}",
                    "punch": f"{s.punch:%H:%M:%S}" if s.punch else "—",
                    "decision": s.decision,
                    "points": " ".join(f"{x.points:g}" for x in ds),
                    "why": "；".join(f"{x.rule_word}：{x.clause}" for x in ds),
                }
            )
        for x in d.deductions:
            if x.slot is None:
                rows.append({"decision": x.rule_word, "points": f"{x.points:g}", "why": f"{x.evidence}；{x.clause}"})
        if d.ignored:
            rows.append({"decision": "未采用：" + "、".join(f"{p:%H:%M:%S}" for p in d.ignored)})
    r = a.result
    render(
        rows,
        [
            ("day", "日期"),
            ("kind", "类型"),
            ("slot", "时段"),
            ("due", "应打卡"),
            ("accept", "允许"),
            ("punch", "打卡"),
            ("decision", "判定"),
            ("points", "扣分"),
            ("why", "依据"),
        ],
        title=f"{a.name}（{a.staff_no}）{a.window_name} {period.key}",
    )
    say(
        f"得分 {r.attendance_score:g} / {r.max_points:g}（扣 {r.deduction_points:g} 分）；迟到 {r.late_count}，"
        f"早退 {r.early_count}，缺卡 {r.missing_punches}，旷工 {r.absent_days:g} 天"
        + (f"；{'；'.join(r.disqualify_reasons)}" if r.disqualify_reasons else "")
    )
    for x in a.period_deductions:
        say(f"期间规则 {x.rule_word}: {x.points:g}（{x.evidence}；{x.clause}）")
    return 0
