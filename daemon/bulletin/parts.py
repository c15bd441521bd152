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
    header += (["流动红旗"] if b.flags_shown else []) + ["首席代表在岗率(%)"]
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
            None if pct is None else round(pct, 1),  # as labels.percent prints it
        ]
        chief = None if w.chief_onsite_ratio is None else round(100 * w.chief_onsite_ratio, 1)
        row += (["流动红旗" if w.red_flag else ""] if b.flags_shown else []) + [chief]
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
            a.slot_word,
            labels.rule(a.rule),
            a.rule,
            a.points,
            a.evidence,
            a.note,
            a.ref,
        ]
        for a in b.annex
    ]


def appeals(b: Bulletin) -> Table:
    """申诉处理: every appeal against the period's deductions — open ones are marked in the annex,
    upheld ones are here only (their deduction was removed by the remedy)."""
    header = [
        "编号",
        "窗口",
        "工号",
        "姓名",
        "扣分引用",
        "申诉内容",
        "处理结果",
        "处理人",
        "处理日期",
        "理由",
        "更正方式",
    ]
    return header, [
        [
            a.id,
            a.window,
            a.staff_no,
            a.name,
            a.ref,
            a.statement,
            a.status_label,
            a.decided_by,
            a.decided,
            a.decision_reason,
            a.remedy,
        ]
        for a in b.appeals
    ]


def _assessed(lines: list, categories: list[str], who: list[str], values) -> Table | None:
    if not lines:
        return None
    header = ["名次", *who, *categories, "附加分", "倒扣", "总分", "满分", "红旗", "等次", "说明"]
    rows = []
    for a in lines:
        notes = [f"未考核：{'、'.join(a.missing)}（总分暂定，不排名）"] if a.provisional else []
        notes += a.reasons
        rows.append(
            [
                a.rank,
                *values(a),
                *[a.categories.get(c) for c in categories],
                a.bonus,
                a.back,
                a.total,
                a.max_total,
                "红旗" if a.red_flag else "",
                a.grade or "",
                "；".join(notes),
            ]
        )
    return header, rows


def assessed(b: Bulletin) -> Table | None:
    """综合考核: each window's categories, total, rank, 流动红旗 and grade (issue 18); None when the
    centre assesses attendance alone (no sheet, no section)."""
    return _assessed(b.assessed, b.assessed_categories, ["窗口"], lambda a: [a.name])


def assessed_staff(b: Bulletin) -> Table | None:
    """人员综合考核: each person's (罗山 grades its staff on the whole 100 points); None without it."""
    return _assessed(
        b.assessed_staff, b.assessed_staff_categories, ["窗口", "工号", "姓名"], lambda a: [a.window, a.code, a.name]
    )


def notices(b: Bulletin) -> Table | None:
    """通报与表彰: the notices and honours issued with the period (issue 18); None without them."""
    if not b.assessed and not b.assessed_staff and not b.notices:
        return None
    header = ["对象", "名称", "事项", "所属期间", "依据"]
    return header, [[n.subject, n.name, n.kind, n.notice_period, n.reason] for n in b.notices]


def devices(b: Bulletin) -> Table:
    """考勤设备同步情况: drift, silent workdays and quarantine as :mod:`.labels` prints them, the
    same text in every format (the HTML's table is this one)."""
    header = [
        "设备",
        "序列号",
        "方式",
        "打卡记录",
        "同步成功",
        "同步失败",
        "最后成功同步",
        "最大时钟偏差",
        "无记录工作日",
        "隔离记录",
        "各方式同步",
    ]
    return header, [
        [
            d.name,
            d.serial,
            d.driver,
            d.punches,
            d.syncs_ok,
            d.syncs_failed,
            d.last_success or "从未",
            labels.drift(d.max_drift_s),
            labels.silent_days(d.silent_workdays),
            labels.quarantined(d.quarantined, d.quarantine_reasons),
            labels.ways(d.runs_by_way),
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
    ("申诉处理", appeals),
    ("综合考核", assessed),
    ("人员综合考核", assessed_staff),
    ("通报与表彰", notices),
)
