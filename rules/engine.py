"""Putting it together: who works which day on which timetable, and a period's results.

:class:`Inputs` is everything the rules read (the daemon builds it from its
store); :func:`evaluate_period` returns day results, staff results and
window results for one period. Deterministic: the same inputs in any order
give the same results.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol, TypeVar

from .calendar import WorkCalendar
from .day import SlotPlans, evaluate_day
from .errors import RulesError
from .model import (
    DayResult,
    DutyAssignment,
    DutyRule,
    Exemption,
    Inspection,
    Leave,
    RankingGroup,
    Staff,
    StaffPeriodResult,
    Substitution,
    WindowPeriodResult,
)
from .period import Period, apply_excellent_quota, lookback_start, score_staff, score_windows
from .policy import Policy
from .timetable import Slot, Timetable


@dataclass
class Inputs:
    staff: Sequence[Staff]
    punches: Mapping[str, Sequence[datetime]]  # staff_no → punch times
    windows: Mapping[str, str]  # window code → name
    policies: Mapping[str, Policy]  # window code → policy
    timetables: Mapping[str, Timetable]  # timetable name → timetable
    window_timetable: Mapping[str, str]  # window code → timetable name
    calendar: WorkCalendar = field(default_factory=WorkCalendar)
    leaves: Sequence[Leave] = ()
    exemptions: Sequence[Exemption] = ()
    inspections: Sequence[Inspection] = ()
    substitutions: Sequence[Substitution] = ()
    duty: Sequence[DutyAssignment] = ()
    duty_rules: Sequence[DutyRule] = ()
    ranking_groups: Mapping[str, RankingGroup] = field(default_factory=dict)  # window code → its group


@dataclass
class Evaluation:
    period: Period
    days: dict[str, list[DayResult]]
    staff: list[StaffPeriodResult]
    windows: list[WindowPeriodResult]


class _OfStaff(Protocol):
    """A record about one staff member (an exemption, an inspection)."""

    @property
    def staff_no(self) -> str: ...


_R = TypeVar("_R", bound=_OfStaff)


def _by_staff_day(items: Iterable[_R], day_of: Callable[[_R], date]) -> dict[tuple[str, date], list[_R]]:
    out: dict[tuple[str, date], list[_R]] = defaultdict(list)
    for x in items:
        out[(x.staff_no, day_of(x))].append(x)
    return out


def _leaves_by_day(leaves: Sequence[Leave]) -> dict[tuple[str, date], list[Leave]]:
    out: dict[tuple[str, date], list[Leave]] = defaultdict(list)
    for lv in sorted(leaves, key=lambda x: (x.start, x.end, x.kind, x.ref)):
        d = lv.start.date()
        while d <= lv.end.date():
            out[(lv.staff_no, d)].append(lv)
            d += timedelta(days=1)
    return out


def _exemptions_within_quota(exemptions: Sequence[Exemption], quota: Mapping[str, int | None]) -> list[Exemption]:
    """Keep, per staff and month, the first ``quota`` exemptions (by date, slot)."""
    kept: list[Exemption] = []
    used: dict[tuple[str, int, int], int] = defaultdict(int)
    for e in sorted(exemptions, key=lambda x: (x.staff_no, x.day, x.slot, x.ref)):
        q = quota.get(e.staff_no)
        k = (e.staff_no, e.day.year, e.day.month)
        if q is not None and used[k] >= q:
            continue
        used[k] += 1
        kept.append(e)
    return kept


def evaluate_days(inputs: Inputs, start: date, end: date) -> dict[str, list[DayResult]]:
    """Day results for every staff member from ``start`` to ``end`` (exclusive)."""
    if end > start:
        inputs.calendar.check_years(start, end - timedelta(days=1))
    for s in inputs.staff:
        if s.window not in inputs.policies:
            raise RulesError(f"staff {s.staff_no}", f"window {s.window!r} has no policy")
    quota = {s.staff_no: inputs.policies[s.window].day.exemption_quota_per_month for s in inputs.staff}
    exemptions = _by_staff_day(_exemptions_within_quota(inputs.exemptions, quota), lambda e: e.day)
    inspections = _by_staff_day(sorted(inputs.inspections, key=lambda i: (i.at, i.kind, i.ref)), lambda i: i.at.date())
    leaves = _leaves_by_day(inputs.leaves)
    punches_by_day: dict[str, dict[date, list[datetime]]] = {}
    for no, times in inputs.punches.items():
        buckets: dict[date, list[datetime]] = defaultdict(list)
        for t in sorted(times):
            buckets[t.date()].append(t)
        punches_by_day[no] = buckets
    covering: dict[tuple[str, date], str] = {}
    for subst in sorted(inputs.substitutions, key=lambda x: (x.start, x.covered_no, x.substitute_no)):
        d = max(subst.start, start)
        while d <= subst.end and d < end:
            covering[(subst.covered_no, d)] = subst.substitute_no
            d += timedelta(days=1)
    duty_staff = {(a.staff_no, a.day): a.timetable for a in inputs.duty if a.staff_no}
    duty_window = {(a.window, a.day): a.timetable for a in inputs.duty if a.window}
    # standing rotas apply to days off; a person's own rota before their window's
    rota: dict[str, tuple[DutyRule, ...]] = defaultdict(tuple)
    for r in inputs.duty_rules:
        owner = r.staff_no or r.window
        if owner:
            rota[owner] = rota[owner] + (r,)

    dates: list[date] = []
    d = start
    while d < end:
        dates.append(d)
        d += timedelta(days=1)
    kinds = [inputs.calendar.day_kind(x) for x in dates]
    slots_cache: dict[tuple[str, date], tuple[Slot, ...]] = {}
    plans = SlotPlans()  # this call's: a timetable's slots are planned once per evaluation

    def slots_of(name: str, day: date) -> tuple[Slot, ...]:
        k = (name, day)
        if k not in slots_cache:
            tt = inputs.timetables.get(name)
            if tt is None:
                raise RulesError(f"duty {day.isoformat()}", f"unknown timetable {name!r}")
            slots_cache[k] = tt.slots_on(day)
        return slots_cache[k]

    out: dict[str, list[DayResult]] = {}
    empty: list[datetime] = []
    none: tuple[()] = ()
    for s in sorted(inputs.staff, key=lambda x: x.staff_no):
        rules = inputs.policies[s.window].day
        default_name = inputs.window_timetable[s.window]
        results: list[DayResult] = []
        own = punches_by_day.get(s.staff_no, {})
        for d, kind in zip(dates, kinds, strict=True):
            tt_name = duty_staff.get((s.staff_no, d)) if duty_staff else None
            if tt_name is None and duty_window:
                tt_name = duty_window.get((s.window, d))
            if tt_name is None and kind != "workday":
                for rule in rota.get(s.staff_no, ()) + rota.get(s.window, ()):
                    if rule.matches(d, kind):
                        tt_name = rule.timetable
                        break
            if tt_name is not None:
                slots, day_kind, scheduled = slots_of(tt_name, d), "duty", True
            else:
                slots, day_kind, scheduled = slots_of(default_name, d), kind, kind == "workday"
            if scheduled and not s.active_on(d):
                scheduled = False
            sub = covering.get((s.staff_no, d)) if covering else None
            if sub is not None:  # 顶岗: the substitute's punches count for the covered staff
                day_punches = punches_by_day.get(sub, {}).get(d, empty)
            else:
                day_punches = own.get(d, empty)
            key = (s.staff_no, d)
            result = evaluate_day(
                s,
                d,
                day_kind,
                slots,
                day_punches,
                rules=rules,
                scheduled=scheduled,
                leaves=leaves.get(key, none) if leaves else none,
                exemptions=exemptions.get(key, none) if exemptions else none,
                inspections=inspections.get(key, none) if inspections else none,
                plans=plans,
            )
            if sub is not None:
                result.covered_by = sub
            results.append(result)
        out[s.staff_no] = results
    return out


def evaluate_period(inputs: Inputs, period: Period) -> Evaluation:
    """Everything for one period: day results, staff scores and grades, window ranking.

    A year of a thousand staff allocates millions of small objects: the caller may pause the
    cyclic garbage collector around it (:func:`daemon.period_results.no_cyclic_gc`), which is
    process-wide state the rules do not touch.
    """
    start = min((lookback_start(inputs.policies[s.window], period) for s in inputs.staff), default=period.start)
    days = evaluate_days(inputs, start, period.end)
    staff_results: list[StaffPeriodResult] = []
    for s in sorted(inputs.staff, key=lambda x: x.staff_no):
        policy = inputs.policies[s.window]
        staff_results.append(score_staff(s, days[s.staff_no], period, policy))
    by_policy: dict[str, list[StaffPeriodResult]] = defaultdict(list)
    for r in staff_results:
        by_policy[r.policy].append(r)
    policy_by_name = {p.name: p for p in inputs.policies.values()}
    for name, rows in sorted(by_policy.items()):
        apply_excellent_quota(rows, policy_by_name[name])
    chiefs: dict[str, list[DayResult]] = {}
    for s in inputs.staff:
        if s.role == "chief":
            chiefs[s.window] = days[s.staff_no]
    windows = score_windows(
        inputs.windows, staff_results, inputs.policies, period, chiefs=chiefs, groups=inputs.ranking_groups
    )
    in_period = {no: [d for d in ds if d.day in period] for no, ds in days.items()}
    return Evaluation(period, in_period, staff_results, windows)
