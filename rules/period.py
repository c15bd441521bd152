"""Periods, and how day results become period scores, grades and window rankings.

A period is a week, month, quarter, half-year or year. A staff member's
score for a period is the category maximum minus the points of the
deductions that fall in it — capped at the maximum (扣完为止) unless the
policy carries the excess (倒扣). A period longer than the policy's
assessment period scores the mean of its assessment periods (a quarterly
policy's year is the mean of its quarters).

Counting rules (conversions, allowances, leave limits, disqualifications)
count over their own windows — "beyond 6 midday leaves a quarter" counts
from the start of the quarter even when a month is being scored — so the
caller passes day results from :func:`lookback_start` on.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Iterable, Mapping, Sequence

from .errors import RulesError
from .model import DayResult, Deduction, Event, Staff, StaffPeriodResult, WindowPeriodResult
from .policy import PERIOD_ORDER, Policy


@dataclass(frozen=True, slots=True)
class Period:
    kind: str  # week | month | quarter | half | year
    key: str  # 2026-W12 | 2026-03 | 2026-Q1 | 2026-H1 | 2026
    start: date
    end: date  # exclusive

    def __contains__(self, day: date) -> bool:
        return self.start <= day < self.end

    def days(self) -> Iterable[date]:
        d = self.start
        while d < self.end:
            yield d
            d += timedelta(days=1)


_PATTERNS = (
    (re.compile(r"^(\d{4})-W(\d{2})$"), "week"),
    (re.compile(r"^(\d{4})-(\d{2})$"), "month"),
    (re.compile(r"^(\d{4})-Q([1-4])$"), "quarter"),
    (re.compile(r"^(\d{4})-H([12])$"), "half"),
    (re.compile(r"^(\d{4})$"), "year"),
)


def parse_period(text: str) -> Period:
    """``2026-03``, ``2026-Q1``, ``2026-H1``, ``2026`` or ``2026-W12``."""
    for pattern, kind in _PATTERNS:
        m = pattern.match(text.strip())
        if not m:
            continue
        year = int(m.group(1))
        try:
            if kind == "week":
                start = date.fromisocalendar(year, int(m.group(2)), 1)
                return Period("week", text.strip(), start, start + timedelta(days=7))
            if kind == "month":
                month = int(m.group(2))
                start = date(year, month, 1)
                return Period("month", text.strip(), start, _add_months(start, 1))
            if kind == "quarter":
                q = int(m.group(2))
                start = date(year, 3 * q - 2, 1)
                return Period("quarter", text.strip(), start, _add_months(start, 3))
            if kind == "half":
                h = int(m.group(2))
                start = date(year, 6 * h - 5, 1)
                return Period("half", text.strip(), start, _add_months(start, 6))
            return Period("year", text.strip(), date(year, 1, 1), date(year + 1, 1, 1))
        except ValueError:
            break
    raise RulesError("--period", f"expected 2026-03, 2026-Q1, 2026-H1, 2026 or 2026-W12, got {text!r}")


def _add_months(d: date, n: int) -> date:
    m = d.month - 1 + n
    return date(d.year + m // 12, m % 12 + 1, 1)


def period_of(kind: str, day: date) -> Period:
    """The period of ``kind`` that contains ``day``."""
    if kind == "week":
        y, w, _ = day.isocalendar()
        return parse_period(f"{y}-W{w:02d}")
    if kind == "month":
        return parse_period(f"{day.year}-{day.month:02d}")
    if kind == "quarter":
        return parse_period(f"{day.year}-Q{(day.month - 1) // 3 + 1}")
    if kind == "half":
        return parse_period(f"{day.year}-H{1 if day.month <= 6 else 2}")
    return parse_period(str(day.year))


def periods_in(kind: str, period: Period) -> list[Period]:
    """The periods of ``kind`` that overlap ``period``, in order."""
    out: list[Period] = []
    d = period.start
    while d < period.end:
        p = period_of(kind, d)
        out.append(p)
        d = p.end
    return out


def lookback_start(policy: Policy, period: Period) -> date:
    """The first day whose results the scoring of ``period`` needs."""
    start = period.start
    kinds = [c.per for c in policy.conversions] + [a.per for a in policy.allowances]
    kinds += [lim.per for lim in policy.leave_limits] + [r.per for r in policy.disqualify]
    for k in kinds:
        start = min(start, period_of(k, period.start).start)
    return start


# --- measures -----------------------------------------------------------------------


def _measures(days: Sequence[DayResult], extra: Sequence[Event]) -> dict[str, float]:
    m: dict[str, float] = defaultdict(float)
    for d in days:
        if d.absent_days >= 1:
            m["full_day_absences"] += 1
        if any(e.kind == "absence_day" for e in d.events):
            m["absence_count"] += 1  # one occurrence a day, whether half of it or the whole of it
        for e in d.events:
            _count(m, e, occurrence=False)
    for e in extra:
        _count(m, e)
    return m


def _count(m: dict[str, float], e: Event, occurrence: bool = True) -> None:
    k = e.kind
    if k in ("late", "serious_late"):
        m["late_count"] += 1
        if k == "serious_late":
            m["serious_late_count"] += 1
    elif k == "early":
        m["early_count"] += 1
    elif k == "missing_punch":
        m["missing_punches"] += 1
    elif k == "excused_punch":
        m["excused_punches"] += 1
    elif k == "absence_day":
        m["absent_days"] += e.count
        if occurrence:
            m["absence_count"] += 1
    elif k == "personal_leave_day":
        m["personal_leave_days"] += e.count
    elif k == "sick_leave_day":
        m["sick_leave_days"] += e.count
    elif k == "other_leave_day":
        m["other_leave_days"] += e.count
    elif k == "midday_leave":
        m["midday_leave_count"] += 1
    elif k in ("off_post", "roaming", "sleeping", "unrelated_activity"):
        m[f"{k}_count"] += 1


# --- scoring -------------------------------------------------------------------------


def _ordered_events(days: Sequence[DayResult], kinds: set[str]) -> list[Event]:
    return [e for d in days for e in d.events if e.kind in kinds]


def _derived(days: Sequence[DayResult], policy: Policy) -> tuple[list[Event], list[Deduction]]:
    """Events added by conversions, and deductions from allowances and leave limits,
    over all of ``days`` (the caller keeps those that fall in the period)."""
    events: list[Event] = []
    deductions: list[Deduction] = []
    staff_no = days[0].staff_no if days else ""
    for c in policy.conversions:
        counted: dict[str, int] = defaultdict(int)
        for e in _ordered_events(days, set(c.from_)):
            w = period_of(c.per, e.day).key
            counted[w] += 1
            n = counted[w]
            if n % c.every == 0:
                events.append(Event(
                    c.to, e.day, e.slot, count=c.amount,
                    evidence=f"{w} 第 {n} 次{'/'.join(_WORDS.get(k, k) for k in c.from_)}（每 {c.every} 次折 {_amount(c.amount, c.to)}）",
                    ref=f"{e.day.isoformat()}/{'+'.join(c.from_)}-{n}",
                ))
    for a in policy.allowances:
        counted = defaultdict(int)
        pts = a.points
        for e in _ordered_events(days, {a.event}):
            w = period_of(a.per, e.day).key
            counted[w] += 1
            n = counted[w]
            if n > a.free and pts > 0:
                deductions.append(Deduction(staff_no, a.rule, f"{e.ref}/over-{a.free}", pts, e.day, e.slot,
                                            f"{e.evidence}；{w} 第 {n} 次，超过 {a.free} 次"))
    for lim in policy.leave_limits:
        total: dict[str, float] = defaultdict(float)
        crossed: set[str] = set()
        for d in days:
            for e in d.events:
                if e.kind not in ("personal_leave_day", "sick_leave_day", "other_leave_day") or e.tag not in lim.kinds:
                    continue
                w = period_of(lim.per, e.day).key
                total[w] += e.count
                if total[w] > lim.over and w not in crossed and lim.points > 0:
                    crossed.add(w)
                    kinds = "+".join(lim.kinds)
                    deductions.append(Deduction(
                        staff_no, "leave_over_limit", f"{w}/leave-over-{kinds}", lim.points, e.day, None,
                        f"{w} {'、'.join(_WORDS.get(k, k) for k in lim.kinds)}累计 {total[w]:g} 天，超过 {lim.over:g} 天",
                    ))
    return events, deductions


_WORDS = {
    "late": "迟到", "serious_late": "严重迟到", "early": "早退", "missing_punch": "缺卡", "absence_day": "旷工",
    "personal": "事假", "sick": "病假", "midday_leave": "中途请假", "off_post": "脱岗", "roaming": "串岗",
    "sleeping": "睡岗", "unrelated_activity": "干与工作无关的事",
}


def _amount(amount: float, kind: str) -> str:
    if kind == "absence_day":
        return "旷工半天" if amount == 0.5 else f"旷工 {amount:g} 天"
    return f"{amount:g} 次{_WORDS.get(kind, kind)}"


def _event_points(policy: Policy, e: Event) -> float | None:
    pts = policy.points.of(e.kind)
    if pts is None and e.kind == "serious_late":
        pts = policy.points.late
    return pts


def score_staff(staff: Staff, days: Sequence[DayResult], period: Period, policy: Policy) -> StaffPeriodResult:
    """Score one staff member for ``period`` from day results starting at :func:`lookback_start`."""
    days = sorted(days, key=lambda d: d.day)
    if PERIOD_ORDER[period.kind] > PERIOD_ORDER[policy.period]:
        return _score_long(staff, days, period, policy)
    days = days[: bisect_left([d.day for d in days], period.end)]
    in_period = _within(days, period)
    derived, extra_deductions = _derived(days, policy)
    derived_in = [e for e in derived if e.day in period]
    deductions: list[Deduction] = []
    for d in in_period:
        for e in d.events:
            pts = _event_points(policy, e)
            if pts:
                deductions.append(Deduction(staff.staff_no, e.kind, e.ref, round(pts * e.count, 4), e.day, e.slot, e.evidence))
    for e in derived_in:
        pts = _event_points(policy, e)
        if pts:
            deductions.append(Deduction(staff.staff_no, e.kind, e.ref, round(pts * e.count, 4), e.day, e.slot, e.evidence))
    deductions += [x for x in extra_deductions if x.day is not None and x.day in period]
    deductions.sort(key=lambda x: (x.day or period.start, x.ref, x.rule))
    total = round(sum(x.points for x in deductions), 4)
    score = policy.max_points - (min(total, policy.max_points) if policy.overflow == "cap" else total)
    m = _measures(in_period, derived_in)
    result = _result(staff, policy, period, in_period, m, total, score, deductions)
    _disqualify(result, days, derived, period, policy)
    result.grade = grade_of(result, policy)
    return result


def _within(days: Sequence[DayResult], period: Period) -> list[DayResult]:
    """The days of ``period`` from a list sorted by day."""
    dates = [d.day for d in days]
    return list(days[bisect_left(dates, period.start):bisect_left(dates, period.end)])


def _score_long(staff: Staff, days: Sequence[DayResult], period: Period, policy: Policy) -> StaffPeriodResult:
    """A period longer than the assessment period: the mean of its assessment periods."""
    parts = [score_staff(staff, days, p, policy) for p in periods_in(policy.period, period)]
    scored = [p for p in parts if p.scheduled_days > 0] or parts
    score = sum(p.attendance_score for p in scored) / len(scored)
    in_period = _within(days, period)
    derived, _ = _derived(days, policy)
    m = _measures(in_period, [e for e in derived if e.day in period])
    deductions = [x for p in parts for x in p.deductions]
    total = round(sum(x.points for x in deductions), 4)
    result = _result(staff, policy, period, in_period, m, total, round(score, 4), deductions)
    _disqualify(result, days, derived, period, policy)
    for p in parts:  # a quarter that bars 优秀 bars it for the year too
        for r in p.no_excellent_reasons:
            if r not in result.no_excellent_reasons:
                result.no_excellent_reasons.append(r)
    if period.kind == "year" and policy.min_months_in_year is not None and staff.active_from is not None:
        months = (period.end.year - staff.active_from.year) * 12 + period.end.month - staff.active_from.month
        if staff.active_from > period.start and months < policy.min_months_in_year:
            result.in_assessment = False
    result.grade = grade_of(result, policy)
    return result


def _result(staff, policy, period, in_period, m, total, score, deductions) -> StaffPeriodResult:
    return StaffPeriodResult(
        staff_no=staff.staff_no,
        window=staff.window,
        policy=policy.name,
        period_kind=period.kind,
        period_key=period.key,
        scheduled_days=sum(1 for d in in_period if d.scheduled),
        present_days=sum(1 for d in in_period if d.present),
        late_count=int(m["late_count"]),
        early_count=int(m["early_count"]),
        missing_punches=int(m["missing_punches"]),
        excused_punches=int(m["excused_punches"]),
        absent_days=m["absent_days"],
        personal_leave_days=m["personal_leave_days"],
        sick_leave_days=m["sick_leave_days"],
        other_leave_days=m["other_leave_days"],
        midday_leave_count=int(m["midday_leave_count"]),
        off_post_count=int(m["off_post_count"]),
        deduction_points=total,
        max_points=policy.max_points,
        attendance_score=round(score, 4),
        deductions=list(deductions),
    )


def _disqualify(result: StaffPeriodResult, days, derived, period: Period, policy: Policy) -> None:
    dates = [d.day for d in days]
    cache: dict[tuple[date, date], dict[str, float]] = {}

    def measures(start: date, end: date) -> dict[str, float]:
        if (start, end) not in cache:
            span = days[bisect_left(dates, start):bisect_left(dates, end)]
            cache[(start, end)] = _measures(span, [e for e in derived if start <= e.day < end])
        return cache[(start, end)]

    for rule in policy.disqualify:
        if PERIOD_ORDER[rule.per] <= PERIOD_ORDER[period.kind]:
            windows = periods_in(rule.per, period)
        else:  # a longer window: count from its start up to the end of this period
            windows = [period_of(rule.per, period.start)]
        for w in windows:
            m = measures(w.start, min(w.end, period.end))
            value = sum(m[x] for x in rule.measure)
            hit = value > rule.value if rule.op == ">" else value >= rule.value
            if hit:
                reason = f"{rule.reason}（{w.key}：{value:g}）"
                (result.disqualify_reasons if rule.effect == "disqualified" else result.no_excellent_reasons).append(reason)
                break
    result.disqualified = bool(result.disqualify_reasons)


def grade_of(result: StaffPeriodResult, policy: Policy) -> str | None:
    """The grade band of the score (as a percentage of the maximum)."""
    if not policy.grades:
        return None
    percent = 100.0 * result.attendance_score / policy.max_points
    for i, g in enumerate(policy.grades):
        if percent >= g.min_percent - 1e-9:
            if i == 0 and result.no_excellent_reasons and len(policy.grades) > 1:
                continue
            return g.name
    return policy.grades[-1].name


def apply_excellent_quota(results: list[StaffPeriodResult], policy: Policy) -> None:
    """At most ``excellent_quota_percent`` of staff keep the top grade (highest scores first)."""
    if not policy.grades or policy.excellent_quota_percent is None or len(policy.grades) < 2:
        return
    top, second = policy.grades[0].name, policy.grades[1].name
    holders = sorted((r for r in results if r.grade == top), key=lambda r: (-r.attendance_score, r.staff_no))
    allowed = math.floor(len(results) * policy.excellent_quota_percent / 100 + 1e-9)
    for r in holders[allowed:]:
        r.grade = second
        r.no_excellent_reasons.append(f"优秀名额不超过 {policy.excellent_quota_percent:g}%")


# --- windows ----------------------------------------------------------------------------


def score_windows(
    windows: Mapping[str, str],
    staff_results: Sequence[StaffPeriodResult],
    policies: Mapping[str, Policy],
    period: Period,
    *,
    chiefs: Mapping[str, Sequence[DayResult]] | None = None,
) -> list[WindowPeriodResult]:
    """Window scores, ranking and red flags for ``period``.

    ``windows`` maps code → name, ``policies`` code → policy, ``chiefs``
    code → the chief's day results (for the on-site ratio).
    """
    by_window: dict[str, list[StaffPeriodResult]] = defaultdict(list)
    for r in staff_results:
        by_window[r.window].append(r)
    out: list[WindowPeriodResult] = []
    for code, name in windows.items():
        policy = policies[code]
        rows = by_window.get(code, [])
        wr = WindowPeriodResult(code, name, period.kind, period.key, staff_count=len(rows))
        maxp = policy.max_points * policy.window.weight
        wr.max_points = maxp
        if policy.window.aggregate == "sum_of_staff":
            wr.deductions = [x for r in rows for x in r.deductions]
            # A period longer than the assessment period is the mean of its assessment periods,
            # as for staff (宜黄 五、1: 年终总考评，以月平均分为基数), each capped on its own.
            parts = periods_in(policy.period, period) if PERIOD_ORDER[period.kind] > PERIOD_ORDER[policy.period] else [period]
            scores = []
            for part in parts:
                total = sum(x.points for x in wr.deductions if len(parts) == 1 or (x.day is not None and x.day in part))
                scores.append(policy.max_points - (min(total, policy.max_points) if policy.overflow == "cap" else total))
            score = sum(scores) / len(scores)
        else:
            weight = sum(r.scheduled_days for r in rows)
            score = (sum(r.attendance_score * r.scheduled_days for r in rows) / weight) if weight else policy.max_points
        score *= policy.window.weight
        chief_days = (chiefs or {}).get(code)
        if chief_days is not None and policy.window.chief_onsite_min is not None:
            ratios = []
            for month in periods_in("month", period):
                sched = [d for d in chief_days if d.day in month and d.scheduled]
                if not sched:
                    continue
                # a day someone else covered (顶岗) is not the chief in 窗口一线
                onsite = sum(1 for d in sched if d.present and d.covered_by is None)
                ratio = onsite / len(sched)
                ratios.append(ratio)
                if ratio < policy.window.chief_onsite_min and policy.window.chief_offsite_points:
                    pts = policy.window.chief_offsite_points
                    score -= pts
                    wr.deductions.append(Deduction(
                        sched[0].staff_no, "chief_offsite", f"{month.key}/chief-onsite", pts, None, None,
                        f"首席代表 {month.key} 在岗 {onsite}/{len(sched)} 天"
                        f"（{ratio:.0%}），低于 {policy.window.chief_onsite_min:.0%}",
                    ))
            wr.chief_onsite_ratio = round(min(ratios), 4) if ratios else None
        wr.attendance_score = round(score, 4)
        out.append(wr)
    ranked = sorted(out, key=lambda w: (-w.attendance_score, w.window))
    for i, w in enumerate(ranked):
        w.rank = 1 + next(j for j, x in enumerate(ranked) if x.attendance_score == w.attendance_score) if i else 1
        w.red_flag = w.rank <= policies[w.window].window.red_flags
    return out
