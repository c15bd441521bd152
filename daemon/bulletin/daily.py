"""The daily sheet (每日考勤): a window's staff × the month's days, one short code a cell.

Like the Monthly Attendance Sheet of Frappe HRMS and DingTalk's 每日统计: a reader
sees at a glance who was late on which day. Built from the period's ``staff_days``
rows (``att_staff_day``, SPEC §4.4) — the rows the scoring DB receives — so a cell
never says something the scoring DB does not.

One code per cell. A day with several findings shows the worst, in the order the
console's grids colour a day (:data:`daemon.explain._WORST_FIRST`): 旷 > 缺 > 迟 > 早
> a leave > √; the cell's detail (an XLSX comment, the HTML cell's title) says all
of them. Only for a month: a quarter's or a year's grid would be 90 or 365 columns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from rules import Period

from . import labels

#: code → (what it means, its kind: the colour class shared by the XLSX and the HTML)
CODES: dict[str, tuple[str, str]] = {
    "√": ("正常", "ok"),
    "迟": ("迟到", "late"),
    "早": ("早退", "early"),
    "缺": ("缺卡", "missing"),
    "旷": ("旷工", "absent"),
    "假": ("请假（事、病、年 …）", "leave"),
    "休": ("休息日", "rest"),
    "节": ("节假日", "holiday"),
    "值": ("值班", "duty"),
}

#: a leave kind's one-character code (one not listed is 假)
LEAVE_CODES: dict[str, str] = {
    "personal": "事",
    "sick": "病",
    "annual": "年",
    "official": "公",
    "marriage": "婚",
    "maternity": "产",
    "injury": "伤",
    "bereavement": "丧",
    "in_lieu": "调",
    "business_trip": "差",
}

#: fill colour of each kind (None: no fill); the legend, the XLSX and the HTML use these
COLOURS: dict[str, str | None] = {
    "ok": None,
    "late": "#FFE699",
    "early": "#FFE699",
    "missing": "#F8CBAD",
    "absent": "#FF9999",
    "leave": "#BDD7EE",
    "rest": "#E7E6E6",
    "holiday": "#E7E6E6",
    "duty": "#C6EFCE",
    "none": None,
}

#: the per-staff totals, in the order of their columns
TOTALS: tuple[str, ...] = ("出勤天数", "迟到", "早退", "缺卡", "旷工(天)", "请假(天)")


@dataclass(slots=True)
class DayCell:
    """One staff member's day: its code, the colour kind, and everything it found."""

    code: str
    kind: str
    detail: str = ""


@dataclass(slots=True)
class DailyRow:
    staff_no: str
    name: str
    cells: list[DayCell]
    totals: dict[str, float]


@dataclass(slots=True)
class DailyGrid:
    """A window's month: ``days`` are the columns, a row per assessed staff member."""

    window: str
    days: list[date]
    rows: list[DailyRow] = field(default_factory=list)


def _detail(row: Mapping[str, Any]) -> list[str]:
    out = []
    if row.get("absent_days"):
        out.append(f"旷工 {labels.num(row['absent_days'])} 天")
    if row.get("missing_punches"):
        out.append(f"缺卡 {row['missing_punches']} 次")
    for key, word in (("late", "迟到"), ("early", "早退")):
        if row.get(f"{key}_count"):
            out.append(f"{word} {row[f'{key}_count']} 次（{row.get(f'{key}_minutes') or 0} 分钟）")
    if row.get("leave_kind") and row.get("leave_days"):
        word = labels.LEAVE_KINDS.get(row["leave_kind"], row["leave_kind"])
        out.append(f"{word} {labels.num(row['leave_days'])} 天")
    if row.get("excused_punches"):
        out.append(f"补卡/说明 {row['excused_punches']} 次")
    if row.get("off_post_count"):
        out.append(f"脱岗 {row['off_post_count']} 次")
    return out


def day_cell(row: Mapping[str, Any] | None) -> DayCell:
    """The cell of one ``staff_days`` row (None: no row, a day not evaluated)."""
    if row is None:
        return DayCell("", "none")
    day_kind, status = row.get("day_kind") or "workday", row.get("status") or "ok"
    detail = _detail(row)
    if day_kind == "duty":
        detail.insert(0, "值班")
    if status == "not_scheduled":
        if day_kind in ("rest", "holiday"):
            code = "休" if day_kind == "rest" else "节"
            return DayCell(code, day_kind, "；".join(detail))
        return DayCell("", "none", "；".join(detail))
    if status in ("absent", "half_absent"):
        code = "旷"
    elif status == "missing":
        code = "缺"
    elif status in ("late", "late_early"):
        code = "迟"
    elif status == "early":
        code = "早"
    elif status == "leave":
        code = LEAVE_CODES.get(row.get("leave_kind") or "", "假")
        return DayCell(code, "leave", "；".join(detail))
    else:
        code = "值" if day_kind == "duty" else "√"
    return DayCell(code, CODES[code][1], "；".join(detail))


def daily_grid(
    window: str,
    period: Period,
    staff: Sequence[tuple[str, str, dict[str, float]]],
    staff_days: Sequence[Mapping[str, Any]],
) -> DailyGrid:
    """The grid of ``window`` for a month: ``staff`` is (staff number, name, totals) in table order."""
    days = list(period.days())
    by_day = {(r["staff_no"], r["work_date"]): r for r in staff_days}
    grid = DailyGrid(window, days)
    for no, name, totals in staff:
        grid.rows.append(DailyRow(no, name, [day_cell(by_day.get((no, d))) for d in days], totals))
    return grid


def legend() -> list[tuple[str, str, str]]:
    """(code, meaning, kind) for the legend row, leave codes included."""
    out = [(code, word, kind) for code, (word, kind) in CODES.items() if code != "假"]
    leaves = "、".join(f"{c} {labels.LEAVE_KINDS.get(k, k)}" for k, c in LEAVE_CODES.items())
    out.insert(5, ("事 病 年 …", leaves, "leave"))
    return out
