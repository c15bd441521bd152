"""The bulletin's parts as plain tables (header + rows), shared by XLSX, CSV and PDF.

Cells keep their types: numbers stay numbers, dates stay dates, so a
spreadsheet can sum them and another tool can read them back.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from . import labels
from .model import Bulletin, WindowSection

Table = tuple[list[str], list[list[Any]]]


#: What the ranking's notes say (printed under it in every format).
RANK_NOTE = "名次按考勤得分占满分的比例排列；得分率相同者并列同一名次，其后名次顺延（如 1、1、3）。"
NO_FLAG_NOTE = "本表为考勤单项排名。各考核办法按综合考核总分评定流动红旗，考勤只是其中一项，本通报不评定流动红旗。"
FLAG_NOTE = "流动红旗按考勤单项排名评定（本中心配置）：{rules}；得分为 0 或无应出勤人日的窗口不评。"


def ranking_notes(b: Bulletin) -> list[str]:
    """The lines printed under the ranking: how it is ranked and what of 流动红旗."""
    notes = [RANK_NOTE]
    if b.flags_shown:
        rules = "；".join(f"{b.group_title(g)}{r}" if b.grouped else r for g, r in b.flag_rules.items())
        notes.append(FLAG_NOTE.format(rules=rules or "见配置"))
    else:
        notes.append(NO_FLAG_NOTE)
    return notes


def ranking(b: Bulletin) -> Table:
    """考勤排名: per ranking group, on the score as a share of the maximum."""
    header = (["组别"] if b.grouped else []) + ["名次", "窗口代码", "窗口", "参评人数", "考勤得分", "满分", "得分率(%)"]
    header += (["流动红旗"] if b.flags_shown else []) + ["首席代表在岗率"]
    rows = []
    for w in b.ranking:
        pct = w.percent if w.max_points else None
        row = ([b.group_title(w.ranking_group)] if b.grouped else []) + [
            w.rank or None,
            w.code,
            w.name,
            w.staff_count,
            round(w.score, 4),
            w.max_points,
            None if pct is None else round(pct, 2),
        ]
        row += (["流动红旗" if w.red_flag else ""] if b.flags_shown else []) + [w.chief_onsite_ratio]
        rows.append(row)
    return header, rows


def staff(b: Bulletin, window: WindowSection | None = None) -> Table:
    """Every assessed officer (or one window's), a row each; a grade column only where someone is graded."""
    graded = b.graded
    header = (
        ["窗口", "工号", "姓名", "应出勤(天)", "实出勤(天)", "迟到", "早退", "缺卡", "补卡", "旷工(天)"]
        + [f"{labels.LEAVE_KINDS.get(k, k)}(天)" for k in b.leave_kinds]
        + ["中途请假", "脱岗", "扣分", "满分", "得分"]
        + (["等次", "等次说明"] if graded else [])
        + ["标记", "原因"]
    )
    rows = []
    for w in b.windows if window is None else [window]:
        for s in w.staff:
            rows.append(
                [
                    w.name,
                    s.staff_no,
                    s.name,
                    s.scheduled_days,
                    s.present_days,
                    s.late,
                    s.early,
                    s.missing,
                    s.excused,
                    s.absent_days,
                ]
                + [s.leave_days.get(k, 0.0) for k in b.leave_kinds]
                + [s.midday_leave, s.off_post, s.deduction, s.max_points, s.score]
                + ([s.grade, s.grade_note] if graded else [])
                + [s.flags, "；".join(s.reasons)]
            )
    return header, rows


def disqualified(b: Bulletin) -> Table:
    names = {w.code: w.name for w in b.windows}
    header = ["窗口", "工号", "姓名", "处理", "原因"]
    return header, [
        [names.get(s.window, s.window), s.staff_no, s.name, s.flags, "；".join(s.reasons)] for s in b.disqualified
    ]


def not_assessed(b: Bulletin) -> Table:
    """未参评人员: on the roster, not assessed in this period, with the reason."""
    return ["窗口", "工号", "姓名", "原因"], [[x.window, x.staff_no, x.name, x.reason] for x in b.not_assessed]


def annex(b: Bulletin) -> Table:
    header = ["窗口", "工号", "姓名", "日期", "时段", "项目", "规则", "扣分", "依据", "备注", "引用"]
    return header, [
        [
            a.window,
            a.staff_no,
            a.name,
            a.day,
            labels.slot(a.slot),
            labels.rule(a.rule),
            a.rule,
            a.points,
            a.evidence,
            a.note,
            a.ref,
        ]
        for a in b.annex
    ]


def devices(b: Bulletin) -> Table:
    header = [
        "设备",
        "序列号",
        "方式",
        "打卡记录",
        "同步成功",
        "同步失败",
        "最后成功同步",
        "最大时钟偏差(秒)",
        "无记录工作日数",
        "无记录工作日",
        "隔离记录",
        "隔离原因",
    ]
    return header, [
        [
            d.name,
            d.serial,
            d.driver,
            d.punches,
            d.syncs_ok,
            d.syncs_failed,
            d.last_success,
            None if d.max_drift_s is None else round(d.max_drift_s, 1),
            len(d.silent_workdays),
            "、".join(x.isoformat() for x in d.silent_workdays),
            d.quarantined,
            "；".join(f"{r} {n}" for r, n in d.quarantine_reasons.items()),
        ]
        for d in b.devices
    ]


def summary(b: Bulletin) -> Table:
    t = b.totals()
    last: date = b.period.end - timedelta(days=1)
    rows: list[list[Any]] = [
        ["中心", b.centre],
        ["期间", b.period_label],
        ["期间代码", b.period.key],
        ["起", b.period.start],
        ["止", last],
        ["发布日期", b.issued],
        ["状态", "定稿" if b.final else "未定稿"],
        ["参评人数", t["staff"]],
        ["未参评人数", t["not_assessed"]],
        ["迟到(次)", t["late"]],
        ["早退(次)", t["early"]],
        ["缺卡(次)", t["missing"]],
        ["旷工(天)", t["absent_days"]],
        ["扣分项", t["deductions"]],
        ["扣分合计", t["points"]],
        ["取消评优资格(人)", t["disqualified"]],
        ["规则版本", b.rules_version],
    ]
    return ["项目", "内容"], rows


#: (sheet / file part name, builder) in the order a reader meets them.
PARTS = (
    ("概况", summary),
    ("考勤排名", ranking),
    ("人员考勤", staff),
    ("取消评优", disqualified),
    ("未参评人员", not_assessed),
    ("设备同步", devices),
    ("扣分明细", annex),
)
