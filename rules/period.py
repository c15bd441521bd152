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
import unicodedata
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from .errors import RulesError
from .model import (
    ON_DUTY_LEAVE,
    DayResult,
    Deduction,
    Event,
    RankingGroup,
    Staff,
    StaffPeriodResult,
    WindowPeriodResult,
)
from .policy import PERIOD_ORDER, Disqualify, Policy


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


# re.ASCII: ``\d`` is 0-9 only; :func:`_canonical_text` has turned other digits into these.
_PATTERNS = (
    (re.compile(r"^(\d{4})-W(\d{2})$", re.ASCII), "week"),
    (re.compile(r"^(\d{4})-(\d{2})$", re.ASCII), "month"),
    (re.compile(r"^(\d{4})-Q([1-4])$", re.ASCII), "quarter"),
    (re.compile(r"^(\d{4})-H([12])$", re.ASCII), "half"),
    (re.compile(r"^(\d{4})$", re.ASCII), "year"),
)


def _canonical_text(text: str) -> str:
    """``２０２６－q1`` → ``2026-Q1``: NFKC (full-width forms), every Unicode decimal digit
    (Arabic-Indic, Devanagari …) as its ASCII digit, every dash as ``-``, upper case."""
    if text.isascii():  # the common case (period_of, every key we wrote ourselves)
        return text.strip().upper()
    out = []
    for ch in unicodedata.normalize("NFKC", text).strip():
        if not ch.isascii() and unicodedata.decimal(ch, None) is not None:
            ch = str(unicodedata.decimal(ch))
        elif unicodedata.category(ch) == "Pd":
            ch = "-"
        out.append(ch)
    return "".join(out).upper()


def parse_period(text: str) -> Period:
    """``2026-03``, ``2026-Q1``, ``2026-H1``, ``2026`` or ``2026-W12``.

    The key is canonical ASCII whatever the spelling (``２０２６-03``, ``٢٠٢٦-03``,
    ``2026-q1``), so one period never has two keys in the store or the scoring DB.
    """
    canonical = _canonical_text(text)
    for pattern, kind in _PATTERNS:
        m = pattern.match(canonical)
        if not m:
            continue
        year = int(m.group(1))
        try:
            if kind == "week":
                week = int(m.group(2))
                start = date.fromisocalendar(year, week, 1)
                return Period("week", f"{year:04d}-W{week:02d}", start, start + timedelta(days=7))
            if kind == "month":
                month = int(m.group(2))
                start = date(year, month, 1)
                return Period("month", f"{year:04d}-{month:02d}", start, _add_months(start, 1))
            if kind == "quarter":
                q = int(m.group(2))
                start = date(year, 3 * q - 2, 1)
                return Period("quarter", f"{year:04d}-Q{q}", start, _add_months(start, 3))
            if kind == "half":
                h = int(m.group(2))
                start = date(year, 6 * h - 5, 1)
                return Period("half", f"{year:04d}-H{h}", start, _add_months(start, 6))
            return Period("year", f"{year:04d}", date(year, 1, 1), date(year + 1, 1, 1))
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


_LEAVE_EVENTS = ("personal_leave_day", "sick_leave_day", "other_leave_day")


def _measures(days: Sequence[DayResult], extra: Sequence[Event]) -> defaultdict[str, float]:
    """The counts of ``days`` and ``extra``; a measure nothing counted reads 0."""
    m: defaultdict[str, float] = defaultdict(float)
    for d in days:
        if d.absent_days >= 1:
            m["full_day_absences"] += 1
        # a day's own 旷工, whether priced by the day (absence_day) or per session (punch_absence)
        m["absent_days"] += d.absent_days
        if any(e.kind in ("absence_day", "punch_absence") for e in d.events):
            m["absence_count"] += 1  # one occurrence a day, whether half of it or the whole of it
        for e in d.events:
            _count(m, e, occurrence=False)
    for e in extra:
        _count(m, e)
    # absence_any_days depends on the rule's excluded leave kinds: _disqualify counts it per rule
    return m


def _away_days(days: Sequence[DayResult], excluded: Sequence[str]) -> float:
    """Workdays away from the post for any reason (罗山 第十五条 因故中途缺勤 … 含临时顶替): a day
    covered by a substitute (顶岗) is a whole day, less any leave of an ``excluded`` kind
    (公伤、婚假、产假 按有关规定办理); otherwise its 旷工 plus its leave of other kinds; at most one a day."""
    total = 0.0
    for d in days:
        if not d.scheduled:
            continue
        left_out = included = 0.0
        for e in d.events:
            if e.kind in _LEAVE_EVENTS:
                if e.tag in excluded:
                    left_out += e.count
                else:
                    included += e.count
        if d.covered_by is not None:
            total += max(0.0, 1.0 - left_out)
        else:
            total += min(1.0, d.absent_days + included)
    return round(total, 4)


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
    elif k == "punch_absence":
        if e.tag == "missing_punch":  # 缺卡 still counts the forgotten punch; its 旷工 is in absent_days
            m["missing_punches"] += 1
    elif k == "excused_punch":
        m["excused_punches"] += 1
    elif k == "absence_day":
        if occurrence:  # a derived event (a conversion); a day's own 旷工 is its DayResult.absent_days
            m["absent_days"] += e.count
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
                events.append(
                    Event(
                        c.to,
                        e.day,
                        e.slot,
                        count=c.amount,
                        evidence=f"{w} 第 {n} 次{'/'.join(_WORDS.get(k, k) for k in c.from_)}（每 {c.every} 次折 {_amount(c.amount, c.to)}）",
                        ref=f"{e.day.isoformat()}/{'+'.join(c.from_)}-{n}",
                    )
                )
    for a in policy.allowances:
        counted = defaultdict(int)
        pts = a.points
        for e in _ordered_events(days, {a.event}):
            w = period_of(a.per, e.day).key
            counted[w] += 1
            n = counted[w]
            if n > a.free and pts > 0:
                deductions.append(
                    Deduction(
                        staff_no,
                        a.rule,
                        f"{e.ref}/over-{a.free}",
                        pts,
                        e.day,
                        e.slot,
                        f"{e.evidence}；{w} 第 {n} 次，超过 {a.free} 次",
                    )
                )
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
                    deductions.append(
                        Deduction(
                            staff_no,
                            "leave_over_limit",
                            f"{w}/leave-over-{kinds}",
                            lim.points,
                            e.day,
                            None,
                            f"{w} {'、'.join(_WORDS.get(k, k) for k in lim.kinds)}累计 {total[w]:g} 天，超过 {lim.over:g} 天",
                        )
                    )
    return events, deductions


_WORDS = {
    "late": "迟到",
    "serious_late": "严重迟到",
    "early": "早退",
    "missing_punch": "缺卡",
    "absence_day": "旷工",
    "personal": "事假",
    "sick": "病假",
    "midday_leave": "中途请假",
    "off_post": "脱岗",
    "roaming": "串岗",
    "sleeping": "睡岗",
    "unrelated_activity": "干与工作无关的事",
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
                deductions.append(
                    Deduction(staff.staff_no, e.kind, e.ref, round(pts * e.count, 4), e.day, e.slot, e.evidence)
                )
    for e in derived_in:
        pts = _event_points(policy, e)
        if pts:
            deductions.append(
                Deduction(staff.staff_no, e.kind, e.ref, round(pts * e.count, 4), e.day, e.slot, e.evidence)
            )
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
    return list(days[bisect_left(dates, period.start) : bisect_left(dates, period.end)])


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
    # A quarter that bars 优秀 bars it for the year too — unless its rule holds for a shorter
    # period only (002 四: 取消当季评优资格; 罗山 第十五条: 当季度不得被评为优秀).
    local = [r.reason for r in policy.disqualify if not _applies(r, period)]
    for p in parts:
        for r in p.no_excellent_reasons:
            if r not in result.no_excellent_reasons and not any(r.startswith(x) for x in local):
                result.no_excellent_reasons.append(r)
    if period.kind == "year" and policy.min_months_in_year is not None and staff.active_from is not None:
        months = (period.end.year - staff.active_from.year) * 12 + period.end.month - staff.active_from.month
        if staff.active_from > period.start and months < policy.min_months_in_year and result.in_assessment:
            result.in_assessment, result.not_assessed = False, "joined_late"
    result.grade = grade_of(result, policy)
    return result


def not_assessed(staff: Staff, in_period: Sequence[DayResult]) -> str | None:
    """Why ``staff`` is not assessed over these days, or None when they are.

    Not assessed: exempt from attendance; no scheduled workday because they
    had not joined yet or had left (``inactive``) or because the period has
    none (``no_workday``); or every scheduled day wholly excused or on official
    duty (公假, ``exempt_duty``). Such a person gets no period row, does not count
    among a window's staff or the 优秀 quota's base, and is listed apart.
    """
    if staff.exempt:
        return "exempt"
    scheduled = [d for d in in_period if d.scheduled]
    if not scheduled:
        if any(not staff.active_on(d.day) for d in in_period):
            return "inactive"
        return "no_workday"
    if all(
        d.slots
        and all(s.status == "excused" or (s.status == "leave" and d.leave_kind in ON_DUTY_LEAVE) for s in d.slots)
        for d in scheduled
    ):
        return "exempt_duty"
    return None


def _result(
    staff: Staff,
    policy: Policy,
    period: Period,
    in_period: Sequence[DayResult],
    m: defaultdict[str, float],
    total: float,
    score: float,
    deductions: Iterable[Deduction],
) -> StaffPeriodResult:
    result = StaffPeriodResult(
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
    why = not_assessed(staff, in_period)
    if why is not None:
        result.in_assessment, result.not_assessed = False, why
    return result


def _disqualify(
    result: StaffPeriodResult, days: Sequence[DayResult], derived: Sequence[Event], period: Period, policy: Policy
) -> None:
    dates = [d.day for d in days]
    cache: dict[tuple[date, date], defaultdict[str, float]] = {}

    def measures(start: date, end: date) -> defaultdict[str, float]:
        if (start, end) not in cache:
            span = days[bisect_left(dates, start) : bisect_left(dates, end)]
            cache[(start, end)] = _measures(span, [e for e in derived if start <= e.day < end])
        return cache[(start, end)]

    for rule in policy.disqualify:
        if not _applies(rule, period):
            continue  # a finding for the quarter (当季) stays on the quarter
        if PERIOD_ORDER[rule.per] <= PERIOD_ORDER[period.kind]:
            windows = periods_in(rule.per, period)
        else:  # a longer window: count from its start up to the end of this period
            windows = [period_of(rule.per, period.start)]
        for w in windows:
            m = measures(w.start, min(w.end, period.end))
            value = sum(m[x] for x in rule.measure if x != "absence_any_days")
            if "absence_any_days" in rule.measure:
                span = days[bisect_left(dates, w.start) : bisect_left(dates, min(w.end, period.end))]
                value = round(value + _away_days(span, rule.excluded_leave), 4)
            hit = value > rule.value if rule.op == ">" else value >= rule.value
            if hit:
                reason = f"{rule.reason}（{w.key}：{value:g}）"
                (result.disqualify_reasons if rule.effect == "disqualified" else result.no_excellent_reasons).append(
                    reason
                )
                break
    result.disqualified = bool(result.disqualify_reasons)


def _applies(rule: Disqualify, period: Period) -> bool:
    """Whether a disqualification rule's finding holds for ``period`` (``applies_to``)."""
    return rule.applies_to is None or PERIOD_ORDER[period.kind] <= PERIOD_ORDER[rule.applies_to]


def grade_of(result: StaffPeriodResult, policy: Policy) -> str | None:
    """The grade band of the score (as a percentage of the maximum)."""
    if not policy.grades or policy.grades_on != "attendance" or not result.in_assessment:
        return None
    percent = 100.0 * result.attendance_score / policy.max_points
    for i, g in enumerate(policy.grades):
        if percent >= g.min_percent - 1e-9:
            if i == 0 and result.no_excellent_reasons and len(policy.grades) > 1:
                continue
            return g.name
    return policy.grades[-1].name


def apply_excellent_quota(results: list[StaffPeriodResult], policy: Policy) -> None:
    """At most ``excellent_quota_percent`` of the assessed staff keep the top grade (highest scores first).

    Those beyond the quota get the next grade and a quota note (``grade_note``),
    not a finding: missing the quota is not a penalty, so it is not among the
    reasons that bar 优秀 (不得评优). Ties at the boundary are broken by staff
    number, the order the clerk's roster gives.
    """
    if not policy.grades or policy.excellent_quota_percent is None or len(policy.grades) < 2:
        return
    top, second = policy.grades[0].name, policy.grades[1].name
    assessed = [r for r in results if r.in_assessment]
    holders = sorted((r for r in assessed if r.grade == top), key=lambda r: (-r.attendance_score, r.staff_no))
    allowed = math.floor(len(assessed) * policy.excellent_quota_percent / 100 + 1e-9)
    for r in holders[allowed:]:
        r.grade = second
        r.grade_note = (
            f"{top}名额不超过参评人数的 {policy.excellent_quota_percent:g}%"
            f"（{len(assessed)} 人中 {allowed} 名），按{second}评定"
        )


# --- windows ----------------------------------------------------------------------------


def score_windows(
    windows: Mapping[str, str],
    staff_results: Sequence[StaffPeriodResult],
    policies: Mapping[str, Policy],
    period: Period,
    *,
    chiefs: Mapping[str, Sequence[DayResult]] | None = None,
    groups: Mapping[str, RankingGroup] | None = None,
) -> list[WindowPeriodResult]:
    """Window scores, ranking and red flags for ``period``.

    ``windows`` maps code → name, ``policies`` code → policy, ``chiefs``
    code → the chief's day results (for the on-site ratio), ``groups`` code →
    its :class:`RankingGroup` (absent: one group for the whole centre). Only
    staff in the assessment count (:func:`not_assessed`).
    """
    by_window: dict[str, list[StaffPeriodResult]] = defaultdict(list)
    for r in staff_results:
        if r.in_assessment:
            by_window[r.window].append(r)
    out: list[WindowPeriodResult] = []
    for code, name in windows.items():
        policy = policies[code]
        rows = by_window.get(code, [])
        wr = WindowPeriodResult(code, name, period.kind, period.key, staff_count=len(rows))
        wr.ranking_group = (groups or {}).get(code, _CENTRE).name
        wr.staff_days = sum(r.scheduled_days for r in rows)
        maxp = policy.max_points * policy.window.weight
        wr.max_points = maxp
        # A period longer than the assessment period is the mean of its assessment periods,
        # as for staff (宜黄 五、1: 年终总考评，以月平均分为基数; 上虞 一、3), each capped on its own.
        long = PERIOD_ORDER[period.kind] > PERIOD_ORDER[policy.period]
        if policy.window.aggregate == "sum_of_staff":
            wr.deductions = [x for r in rows for x in r.deductions]
            parts = periods_in(policy.period, period) if long else [period]
            scores = []
            for part in parts:
                total = sum(x.points for x in wr.deductions if len(parts) == 1 or (x.day is not None and x.day in part))
                scores.append(
                    policy.max_points - (min(total, policy.max_points) if policy.overflow == "cap" else total)
                )
            score = sum(scores) / len(scores)
        else:
            weight = wr.staff_days
            score = (sum(r.attendance_score * r.scheduled_days for r in rows) / weight) if weight else policy.max_points
        score *= policy.window.weight
        chief_days = (chiefs or {}).get(code)
        onsite_min = policy.window.chief_onsite_min
        if chief_days is not None and onsite_min is not None:
            score -= _chief_onsite(wr, chief_days, policy, period, onsite_min)
        wr.attendance_score = round(score, 4)
        out.append(wr)
    _rank(out, policies, groups or {})
    return out


_CENTRE = RankingGroup()


def _chief_onsite(
    wr: WindowPeriodResult, chief_days: Sequence[DayResult], policy: Policy, period: Period, onsite_min: float
) -> float:
    """The points the chief's time in 窗口一线 costs the window over ``period`` (上虞 倒扣 7).

    The rule is monthly: a month below ``onsite_min`` (the policy's
    ``window.chief_onsite_min``) costs its points once. A longer period is the
    mean of its months like any other score, so each month's deduction counts
    ``1/n`` of its points in an ``n``-month period (a chief at 70 % all year
    costs 5 points, not 60). Sets the window's lowest monthly ratio and records
    each month's deduction with its evidence.
    """
    months = periods_in("month", period)
    share = 1 / len(months) if PERIOD_ORDER[period.kind] > PERIOD_ORDER["month"] else 1.0
    ratios: list[float] = []
    cost = 0.0
    for month in months:
        sched = [d for d in chief_days if d.day in month and d.day in period and d.scheduled]
        if not sched:
            continue
        # a day someone else covered (顶岗) is not the chief in 窗口一线
        onsite = sum(1 for d in sched if d.present and d.covered_by is None)
        ratio = onsite / len(sched)
        ratios.append(ratio)
        pts = policy.window.chief_offsite_points
        if ratio < onsite_min and pts:
            charged = round(pts * share, 4)
            cost += pts * share  # unrounded: three thirds of 5 make 5
            note = "" if share == 1 else f"该月扣 {pts:g} 分，{period.key} 按 {len(months)} 个月平均计 {charged:g} 分"
            wr.deductions.append(
                Deduction(
                    sched[0].staff_no,
                    "chief_offsite",
                    f"{month.key}/chief-onsite",
                    charged,
                    None,
                    None,
                    f"首席代表 {month.key} 在岗 {onsite}/{len(sched)} 天（{ratio:.0%}），低于 {onsite_min:.0%}",
                    note,
                )
            )
    wr.chief_onsite_ratio = round(min(ratios), 4) if ratios else None
    return cost


def _rank(out: list[WindowPeriodResult], policies: Mapping[str, Policy], groups: Mapping[str, RankingGroup]) -> None:
    """Rank each group's windows on their score as a share of their maximum; flag where the group says.

    Competition ranking: equal shares share a rank and the next rank skips
    (1, 1, 3). Windows with different maxima are never compared on raw points.
    """
    members: dict[str, list[WindowPeriodResult]] = defaultdict(list)
    for w in out:
        members[w.ranking_group].append(w)
    for ws in members.values():
        group = next((groups[w.window] for w in ws if w.window in groups), _CENTRE)
        ranked = sorted(ws, key=lambda w: (-w.score_ratio, w.window))
        for i, w in enumerate(ranked):
            w.rank = i + 1 if i == 0 or w.score_ratio != ranked[i - 1].score_ratio else ranked[i - 1].rank
            w.red_flag = False
        if group.flags_on != "attendance":
            continue
        count = group.red_flags
        if count is None:
            count = max(policies[w.window].window.red_flags for w in ws)
        flagged = 0
        eligible = [w for w in ranked if w.attendance_score > 0 and w.staff_days > 0]
        i = 0
        while i < len(eligible) and flagged < count:
            tied = [w for w in eligible[i:] if w.score_ratio == eligible[i].score_ratio]
            if flagged + len(tied) > count and group.ties != "share":
                break  # the tie at the boundary: flagging them all would exceed the count
            for w in tied:
                w.red_flag = True
            flagged += len(tied)
            i += len(tied)
