"""The clerk's records: ``attendd import roster|leaves|exemptions|inspections|substitutions|duty|rotas``,
``attendd list`` (SPEC §4.3) and ``attendd withdraw KIND REF`` (撤销: the record stays, on the
record, and stops counting). The ``import`` command itself is :mod:`daemon.cli.imports`'s."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ..clock import system_clock
from .context import Context, shell_user
from .output import local_time, render, say
from .parser import Subcommands

if TYPE_CHECKING:
    pass

#: ``attendd list`` names → the store's record kinds.
LIST_KINDS = {
    "staff": "roster",
    "leaves": "leaves",
    "exemptions": "exemptions",
    "inspections": "inspections",
    "substitutions": "substitutions",
    "duty": "duty",
    "rotas": "rotas",
    "assessments": "assessments",
    "category-scores": "category-scores",
}

COLUMNS = {
    "roster": [
        ("staff_no", "staff no"),
        ("name", "name"),
        ("window_code", "window"),
        ("role", "role"),
        ("active_from", "from"),
        ("active_to", "to"),
        ("exempt", "exempt"),
    ],
    "leaves": [
        ("ref", "ref"),
        ("staff_no", "staff no"),
        ("kind", "kind"),
        ("start", "start"),
        ("end", "end"),
        ("note", "note"),
    ],
    "exemptions": [("ref", "ref"), ("staff_no", "staff no"), ("day", "date"), ("slot", "slot"), ("reason", "reason")],
    "inspections": [
        ("ref", "ref"),
        ("staff_no", "staff no"),
        ("at", "at"),
        ("kind", "kind"),
        ("minutes", "minutes"),
        ("note", "note"),
    ],
    "substitutions": [
        ("ref", "ref"),
        ("substitute_no", "substitute"),
        ("covered_no", "covered"),
        ("start_date", "from"),
        ("end_date", "to"),
    ],
    "duty": [
        ("ref", "ref"),
        ("day", "date"),
        ("window_code", "window"),
        ("staff_no", "staff no"),
        ("timetable", "timetable"),
        ("note", "note"),
    ],
    "rotas": [
        ("ref", "ref"),
        ("window_code", "window"),
        ("staff", "staff (in turn)"),
        ("timetable", "timetable"),
        ("weekdays", "weekdays"),
        ("day_kinds", "days"),
        ("start", "from"),
        ("end", "to"),
        ("note", "note"),
    ],
    "assessments": [
        ("ref", "ref"),
        ("day", "date"),
        ("window_code", "window"),
        ("staff_no", "staff no"),
        ("category", "category"),
        ("item", "item"),
        ("kind", "kind"),
        ("points", "points"),
        ("evidence", "evidence"),
        ("recorded_by", "recorded by"),
    ],
    "category-scores": [
        ("ref", "ref"),
        ("period_key", "period"),
        ("window_code", "window"),
        ("staff_no", "staff no"),
        ("category", "category"),
        ("score", "score"),
        ("note", "note"),
    ],
}
#: Every kind but the roster shows whether (and by whom, why) a record was withdrawn.
for _kind, _columns in COLUMNS.items():
    if _kind != "roster":
        _columns.append(("withdrawn", "withdrawn"))


#: ``attendd list reopens|closes``: the audit of period events (who, when, why).
EVENT_COLUMNS = {
    "reopens": [
        ("period_key", "period"),
        ("at", "reopened at"),
        ("by", "by"),
        ("reason", "reason"),
        ("revision", "revision"),
    ],
    "closes": [
        ("period_key", "period"),
        ("at", "closed at"),
        ("by", "by"),
        ("reason", "reason"),
        ("incomplete", "incomplete then"),
        ("revision", "revision"),
    ],
}


def register(sub: Subcommands) -> None:
    """``attendd list``; the record kinds of ``attendd import`` are :func:`add_import_actions`'s."""
    s = sub.add_parser(
        "list",
        help="show stored records: staff, leaves, exemptions, inspections, substitutions, duty, rotas; "
        "reopens and forced closes of periods",
    )
    s.add_argument(
        "list_kind",
        choices=(*LIST_KINDS, *EVENT_COLUMNS),
        metavar="KIND",
        help="staff | leaves | exemptions | inspections | substitutions | duty | rotas | assessments | "
        "category-scores | reopens | closes",
    )
    s.add_argument("--format", choices=("table", "csv", "json"), default="table")
    s.set_defaults(func=list_records_cmd)
    w = sub.add_parser(
        "withdraw", help="withdraw (撤销) a leave, exemption, inspection, substitution, duty, rota or assessment record"
    )
    w.add_argument("withdraw_kind", choices=[k for k in LIST_KINDS if k != "staff"], metavar="KIND")
    w.add_argument("ref", metavar="REF", help="the record's 单号 / 编号 (attendd list KIND shows it)")
    w.add_argument("--reason", required=True, metavar="TEXT")
    w.add_argument("--by", metavar="NAME", help="who withdraws it (the change log; default: the shell user)")
    w.set_defaults(func=withdraw_cmd)


def add_import_actions(kinds: Subcommands) -> None:
    """Add the clerk's record kinds to the ``attendd import`` sub-actions."""
    helps = {
        "roster": "the roster: 工号, 姓名, 窗口 (required); 角色, 入职日期, 离职日期, 免考勤",
        "leaves": "leave: 工号, 请假类型, 开始时间, 结束时间 (a date alone: whole days); 备注",
        "exemptions": "exemptions: staff_no, date, slot (or all), reason",
        "inspections": "inspection findings: staff_no, at, kind, minutes, note",
        "substitutions": "substitutions: substitute_no, covered_no, start_date, end_date",
        "duty": "duty days (值班): 日期, 作息, and 窗口 or 工号; 备注",
        "rotas": "duty rotas (轮值): 作息, and 窗口 or 轮值人员 (in turn); 星期, 适用日, 开始日期, 结束日期, 备注",
        "assessments": "the other categories' records: 日期, 考核类别, 分值, and 窗口 or 工号; 考核项目, 类型 "
        "(扣分/加分/倒扣), 依据, 备注, 记录人",
        "category-scores": "a category's period score from another system: 考核期, 考核类别, 得分, and 窗口 or 工号",
    }
    for kind, text in helps.items():
        s = kinds.add_parser(kind, help=f"{text} (CSV or XLSX)")
        s.add_argument("file", metavar="FILE")
        s.add_argument("--skip-bad", action="store_true", help="store the good rows even if some are bad")
        s.add_argument("--by", metavar="NAME", help="who imports (the change log; default: the shell user)")
        s.set_defaults(func=import_records, record_kind=kind)


def import_records(args: argparse.Namespace) -> int:
    """Import one file of ``args.record_kind``; atomic unless ``--skip-bad`` (:func:`daemon.imports.import_table`:
    the console's upload goes through the same checks)."""
    from ..imports import ImportRefused, import_table, read_table

    ctx = Context.from_args(args)
    table = read_table(args.file, display=args.file)
    try:
        report = import_table(
            ctx.store(),
            ctx.config,
            args.record_kind,
            table,
            skip_bad=args.skip_bad,
            by=args.by or shell_user(),
            via="cli",
            now_utc=system_clock(),
            config_label=ctx.config_label,
        )
    except ImportRefused as refused:
        for problem in refused.report.problems:
            say(problem, err=True)
        raise
    if report.note:
        say(report.note, err=True)
    for problem in report.problems:
        say(problem, err=True)
    say(report.summary)
    return 0


def _period_events(ctx: Context, kind: str) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from ..store.models import forced_close_table, reopen_table

    t = reopen_table if kind == "reopens" else forced_close_table
    with ctx.store().reading() as conn:
        rows = [dict(r) for r in conn.execute(select(t).order_by(t.c.at_utc, t.c.id)).mappings()]
    for r in rows:
        r["at"] = local_time(r.pop("at_utc"), ctx.tz)
        if "incomplete" in r:
            r["incomplete"] = "; ".join((r["incomplete"] or "").splitlines())
    return rows


def list_records_cmd(args: argparse.Namespace) -> int:
    from ..store import list_records

    if args.list_kind in EVENT_COLUMNS:
        ctx = Context.from_args(args)
        rows = _period_events(ctx, args.list_kind)
        render(rows, EVENT_COLUMNS[args.list_kind], args.format, title=f"{args.list_kind}: {len(rows)}")
        return 0
    kind = LIST_KINDS[args.list_kind]
    ctx = Context.from_args(args)
    rows = list_records(ctx.store(), kind)
    for r in rows:
        if r.get("withdrawn_utc") is not None:
            r["withdrawn"] = f"{local_time(r['withdrawn_utc'], ctx.tz)} {r['withdrawn_by']}: {r['withdrawn_reason']}"
        elif kind != "roster":
            r["withdrawn"] = ""
    render(rows, COLUMNS[kind], args.format, title=f"{args.list_kind}: {len(rows)}")
    return 0


def withdraw_cmd(args: argparse.Namespace) -> int:
    """``attendd withdraw KIND REF --reason --by``: the same store function as the console's 撤销."""
    from ..store.clerk_records import withdraw_record

    ctx = Context.from_args(args)
    kind = LIST_KINDS[args.withdraw_kind]
    withdraw_record(
        ctx.store(), kind, args.ref, reason=args.reason, by=args.by or shell_user(), via="cli", now_utc=system_clock()
    )
    say(f"{args.withdraw_kind} {args.ref}: withdrawn; its months will be re-evaluated")
    return 0
