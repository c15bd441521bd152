"""The Chinese words a bulletin prints for the rules' keys.

Keys the rules produce that are not listed here (a policy's own allowance
rule, say) are printed as they are, never dropped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime

from rules import LEAVE_WORDS, Period

RULES: dict[str, str] = {
    "late": "迟到",
    "serious_late": "严重迟到",
    "early": "早退",
    "missing_punch": "缺卡",
    "excused_punch": "已说明",
    "absence_day": "旷工",
    "punch_absence": "缺卡视同旷工",
    "personal_leave_day": "事假",
    "sick_leave_day": "病假",
    "other_leave_day": "其他假",
    "midday_leave": "中途请假",
    "midday_leave_long": "中途请假超时",
    "midday_leave_over_quota": "中途请假超次数",
    "leave_over_limit": "请假超限",
    "off_post": "脱岗",
    "roaming": "串岗",
    "sleeping": "睡岗",
    "unrelated_activity": "干与工作无关的事",
    "chief_offsite": "首席代表不在岗",
}

#: The leave kinds in the bulletin: the rules' own words (one table for evidence and labels).
LEAVE_KINDS: dict[str, str] = LEAVE_WORDS

#: The usual slot names' words, for a slot no configured timetable knows (the timetable's own
#: labels come first: :attr:`rules.Slot.word`, defaulted the same way).
SLOTS: dict[str, str] = {
    "am_in": "上午签到",
    "am_out": "上午签退",
    "pm_in": "下午签到",
    "pm_out": "下午签退",
}

NOT_ASSESSED: dict[str, str] = {
    "exempt": "免考勤人员",
    "inactive": "本期不在岗（未到岗或已离岗）",
    "exempt_duty": "本期全部工作日为公务或已说明，不参加考勤考核",
    "no_workday": "本期无工作日",
    "joined_late": "进大厅不满规定月数，不参加年度考核",
}


def not_assessed(key: str | None) -> str:
    return NOT_ASSESSED.get(key or "", key or "")


WEEKDAYS: tuple[str, ...] = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")

_QUARTERS = ("一", "二", "三", "四")


def num(value: float | int | None) -> str:
    """Numbers as a reader writes them: ``3``, ``2.5``, ``18.08`` (at most two decimals)."""
    if value is None:
        return ""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


# --- one formatting of each value, for every format (issue 17: HTML and PDF disagreed) ----------


def drift(seconds: float | None) -> str:
    """A clock's drift: ``-1 秒`` under 90 s (whole seconds), else ``+2.5 分钟``; empty if unknown."""
    if seconds is None:
        return ""
    if abs(seconds) < 90:
        return f"{round(seconds) or 0:+d} 秒".replace("+0 秒", "0 秒")
    return f"{seconds / 60:+.1f} 分钟"


def percent(value: float | None) -> str:
    """A share already in per cent, as printed: one decimal at most (``72.3``, ``100``)."""
    if value is None:
        return ""
    return num(round(value, 1))


def silent_days(days: Sequence[date]) -> str:
    """Workdays without a record: ``无``, or ``2 天：03-30、03-31``."""
    if not days:
        return "无"
    return f"{len(days)} 天：" + "、".join(d.strftime("%m-%d") for d in days)


def quarantined(count: int, reasons: Mapping[str, int]) -> str:
    """``0``, or ``1（时钟复位 1）``."""
    if not count:
        return "0"
    return f"{count}（" + "；".join(f"{r} {n}" for r, n in reasons.items()) + "）"


def stamp(value: datetime | None, never: str = "从未") -> str:
    """A local time to the minute (``2026-03-26 09:00``); ``never`` if there is none."""
    return value.strftime("%Y-%m-%d %H:%M") if value else never


#: ingest-run sources → the way in, as the sync table says it (a pull is named by its driver)
WAYS: dict[str, str] = {"zk": "拉取", "adms": "推送", "usb": "U盘导入", "serial": "串口"}


def way_in(source: str) -> str:
    return WAYS.get(source, source)


def way_order(word: str) -> tuple[int, str]:
    order = list(WAYS.values())
    return (order.index(word) if word in order else len(order), word)


def ways(counts: Mapping[str, int]) -> str:
    """``拉取 3、推送 12`` (empty: no good run)."""
    return "、".join(f"{w} {n}" for w, n in counts.items())


def text(v: object) -> str:
    """Any table cell as text, for the formats that print text (PDF, the HTML's shared tables)."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "是" if v else ""
    if isinstance(v, (int, float)):
        return num(v)
    if isinstance(v, datetime):
        return stamp(v, "")
    if isinstance(v, date):
        return v.isoformat()
    return str(v)


def rule(key: str) -> str:
    return RULES.get(key, key)


def slot(key: str | None) -> str:
    if not key:
        return ""
    return SLOTS.get(key, key)


def period(p: Period) -> str:
    """``2026年3月``, ``2026年第一季度``, ``2026年上半年``, ``2026年度``, ``2026年第12周（3月16日—3月22日）``."""
    year = p.start.year
    if p.kind == "month":
        return f"{year}年{p.start.month}月"
    if p.kind == "quarter":
        return f"{year}年第{_QUARTERS[(p.start.month - 1) // 3]}季度"
    if p.kind == "half":
        return f"{year}年{'上' if p.start.month == 1 else '下'}半年"
    if p.kind == "week":
        last = p.end.fromordinal(p.end.toordinal() - 1)
        iso_year, week, _ = p.start.isocalendar()
        return f"{iso_year}年第{week}周（{p.start.month}月{p.start.day}日—{last.month}月{last.day}日）"
    return f"{year}年度"


def kind_of_bulletin(p: Period) -> str:
    """What the clerk calls this bulletin: 考勤通报, or 考勤周报 for a week."""
    return "考勤周报" if p.kind == "week" else "考勤通报"


_QUARANTINE = (
    ("reset clock", "时钟复位"),
    ("before the terminal was installed", "早于安装日期"),
    ("in the future", "未来时间"),
    # what the store cannot hold (drivers.punch_problem)
    ("PIN ", "工号无效"),
    ("empty PIN", "工号无效"),
    ("state ", "数值超出范围"),
    ("verify ", "数值超出范围"),
    ("work code ", "数值超出范围"),
)


def quarantine(reason: str) -> str:
    """The kind of a quarantined record, in Chinese (see :func:`daemon.ingest.implausible` and
    :func:`drivers.punch_problem`)."""
    for prefix, word in _QUARANTINE:
        if reason.startswith(prefix):
            return word
    return "记录无法解析"
