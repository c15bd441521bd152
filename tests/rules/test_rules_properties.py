"""Properties every preset must keep, over random months (hypothesis).

- a score stays within [0, max] unless the preset carries the excess (倒扣);
- making an on-time arrival late never raises a score;
- results do not depend on the order of the inputs;
- evaluating twice gives identical results.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, time, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scenario import slots, timetable

from rules import (
    PRESETS,
    Inputs,
    Inspection,
    Leave,
    Staff,
    WorkCalendar,
    build_timetable,
    evaluate_period,
    parse_period,
    resolve_policy,
)

STANDARD = build_timetable(
    "standard",
    timetable(
        slots(
            ("09:00", "12:00", "13:00", "17:00"),
            [("07:00", "10:30"), ("11:00", "12:29"), ("12:30", "15:00"), ("16:00", "20:00")],
        )
    ),
)
DUE = (time(9), time(12), time(13), time(17))
MONTH = parse_period("2026-03")
CAL = WorkCalendar()
WORKDAYS = [d for d in MONTH.days() if CAL.is_workday(d)]

# per slot: None (missing) or minutes after the due time
offsets = st.one_of(st.none(), st.integers(-120, 150), st.integers(-5, 5))
staff_month = st.lists(st.tuples(*[offsets] * 4), min_size=len(WORKDAYS), max_size=len(WORKDAYS))
extras = st.lists(
    st.tuples(
        st.sampled_from(["leave", "midday", "inspection"]),
        st.integers(0, len(WORKDAYS) - 1),
        st.sampled_from(["personal", "sick", "annual"]),
        st.sampled_from(["off_post", "roaming", "sleeping"]),
        st.integers(5, 200),
    ),
    max_size=6,
)


def build(policy_name: str, months: list, extra: list) -> Inputs:
    policy = resolve_policy("p", policy_name)
    staff = [
        Staff(str(100 + i), f"s{i}", "w1" if i % 2 == 0 else "w2", "chief" if i < 2 else "staff")
        for i in range(len(months))
    ]
    punches: dict[str, list[datetime]] = {}
    for s, month in zip(staff, months, strict=True):
        mine = []
        for d, offs in zip(WORKDAYS, month, strict=True):
            for due, off in zip(DUE, offs, strict=True):
                if off is not None:
                    mine.append(datetime.combine(d, due) + timedelta(minutes=off))
        punches[s.staff_no] = mine
    leaves, inspections = [], []
    for i, (what, day_i, leave_kind, ins_kind, minutes) in enumerate(extra):
        s = staff[i % len(staff)]
        d = WORKDAYS[day_i]
        if what == "leave":
            leaves.append(
                Leave(s.staff_no, leave_kind, datetime.combine(d, time(8)), datetime.combine(d, time(18)), f"L{i}")
            )
        elif what == "midday":
            start = datetime.combine(d, time(14))
            leaves.append(Leave(s.staff_no, "midday", start, start + timedelta(minutes=minutes), f"M{i}"))
        else:
            inspections.append(
                Inspection(s.staff_no, datetime.combine(d, time(10, 30)), ins_kind, minutes, "", f"I{i}")
            )
    return Inputs(
        staff=staff,
        punches=punches,
        windows={"w1": "一号窗口", "w2": "二号窗口"},
        policies={"w1": policy, "w2": policy},
        timetables={"standard": STANDARD},
        window_timetable={"w1": "standard", "w2": "standard"},
        calendar=CAL,
        leaves=leaves,
        inspections=inspections,
    )


def summary(ev) -> list:
    return [
        (
            r.staff_no,
            r.attendance_score,
            r.grade,
            r.disqualified,
            sorted((d.rule, d.ref, d.points) for d in r.deductions),
        )
        for r in ev.staff
    ] + [(w.window, w.attendance_score, w.rank, w.red_flag) for w in ev.windows]


SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


@SETTINGS
@given(preset=st.sampled_from(PRESETS), months=st.lists(staff_month, min_size=1, max_size=3), extra=extras)
def test_scores_stay_within_bounds(preset, months, extra):
    ev = evaluate_period(build(preset, months, extra), MONTH)
    policy = resolve_policy("p", preset)
    for r in ev.staff:
        if policy.overflow == "cap":
            assert 0 <= r.attendance_score <= policy.max_points
        else:
            assert r.attendance_score <= policy.max_points
        assert r.deduction_points == round(sum(d.points for d in r.deductions), 4)


@SETTINGS
@given(preset=st.sampled_from(PRESETS), month=staff_month, extra=extras, data=st.data())
def test_making_an_arrival_late_never_raises_the_score(preset, month, extra, data):
    # an arrival on time inside its acceptance window (am_in from 07:00, pm_in from 12:30) …
    earliest = {0: -120, 2: -30}
    on_time = [
        (i, s) for i, day in enumerate(month) for s in (0, 2) if day[s] is not None and earliest[s] <= day[s] <= 0
    ]
    if not on_time:
        return
    i, slot = data.draw(st.sampled_from(on_time))
    # … made late, still inside the window (am_in until 10:30, pm_in until 15:00)
    later = data.draw(st.integers(1, 90 if slot == 0 else 120))
    worse = list(month)
    day = list(worse[i])
    day[slot] = later
    worse[i] = tuple(day)
    before = evaluate_period(build(preset, [month], extra), MONTH).staff[0]
    after = evaluate_period(build(preset, [worse], extra), MONTH).staff[0]
    assert after.attendance_score <= before.attendance_score
    assert after.deduction_points >= before.deduction_points


@SETTINGS
@given(
    preset=st.sampled_from(PRESETS),
    months=st.lists(staff_month, min_size=2, max_size=3),
    extra=extras,
    seed=st.integers(0, 10_000),
)
def test_results_do_not_depend_on_input_order(preset, months, extra, seed):
    inputs = build(preset, months, extra)
    rng = random.Random(seed)
    shuffled = replace(
        inputs,
        staff=rng.sample(list(inputs.staff), len(inputs.staff)),
        punches={k: rng.sample(list(v), len(v)) for k, v in reversed(list(inputs.punches.items()))},
        leaves=rng.sample(list(inputs.leaves), len(inputs.leaves)),
        inspections=rng.sample(list(inputs.inspections), len(inputs.inspections)),
        windows=dict(reversed(list(inputs.windows.items()))),
    )
    a, b = evaluate_period(inputs, MONTH), evaluate_period(shuffled, MONTH)
    assert sorted(summary(a), key=str) == sorted(summary(b), key=str)


@SETTINGS
@given(preset=st.sampled_from(PRESETS), months=st.lists(staff_month, min_size=1, max_size=2), extra=extras)
def test_evaluating_twice_is_identical(preset, months, extra):
    inputs = build(preset, months, extra)
    first, second = evaluate_period(inputs, MONTH), evaluate_period(inputs, MONTH)
    assert summary(first) == summary(second)
    assert first.days == second.days


def test_quarter_of_a_monthly_preset_is_the_mean_of_its_months():
    """A period longer than the assessment period scores the mean of its assessment periods."""
    rng = random.Random(3)
    month = [tuple(rng.choice([0, 0, 0, 20, None]) for _ in range(4)) for _ in WORKDAYS]
    inputs = build("yihuang-staff", [month], [])
    q = evaluate_period(inputs, parse_period("2026-Q1")).staff[0]
    months = [
        evaluate_period(inputs, parse_period(k)).staff[0].attendance_score for k in ("2026-01", "2026-02", "2026-03")
    ]
    assert q.attendance_score == round(sum(months) / 3, 4)


# --- issue 10 (12): one more missing punch never makes a session or a day cheaper ----------------

_POLICIES = {name: resolve_policy("p", name) for name in PRESETS}
_TIMETABLES = {
    "standard": STANDARD,
    **{name: build_timetable(name, p.timetable) for name, p in _POLICIES.items() if p.timetable},
}
_DAY = WORKDAYS[0]
_ANYONE = Staff("1", "s", "w")


def _day_points(policy, result) -> float:
    """What the day's own events cost under ``policy`` (period rules aside)."""
    total = 0.0
    for e in result.events:
        pts = policy.points.of(e.kind)
        if pts is None and e.kind == "serious_late":
            pts = policy.points.late
        total += (pts or 0.0) * e.count
    return round(total, 6)


day_offsets = st.tuples(*[st.one_of(st.none(), st.integers(-150, 200), st.integers(-5, 5))] * 4)
day_extras = st.lists(
    st.one_of(
        st.tuples(
            st.just("leave"),
            st.sampled_from(["personal", "sick", "marriage", "midday"]),
            st.integers(6 * 60, 17 * 60),
            st.integers(30, 600),
        ),
        st.tuples(
            st.just("inspection"),
            st.sampled_from(["off_post", "roaming", "sleeping"]),
            st.integers(9 * 60, 17 * 60),
            st.integers(5, 200),
        ),
        st.tuples(
            st.just("exemption"), st.sampled_from(["am_in", "am_out", "pm_in", "pm_out"]), st.just(0), st.just(0)
        ),
    ),
    max_size=2,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    preset=st.sampled_from(PRESETS),
    tt=st.sampled_from(sorted(_TIMETABLES)),
    offs=day_offsets,
    extra=day_extras,
    data=st.data(),
)
def test_one_more_missing_punch_never_makes_a_day_cheaper(preset, tt, offs, extra, data):
    """Issue 10 (12), over every preset and its own timetable: with nothing else changed, removing
    one punch (one more unexcused missing punch) never lowers what the day costs — 罗山 附件1
    未按时录入考勤 … 视同旷工 每人每次扣10分 must not make the whole half day (旷工每天扣10分) cheaper."""
    from rules import Exemption, evaluate_day

    policy, slots = _POLICIES[preset], _TIMETABLES[tt].slots
    punches = sorted(
        datetime.combine(_DAY, s.at) + timedelta(minutes=off)
        for s, off in zip(slots, offs, strict=True)
        if off is not None
    )
    punches = [p for p in punches if p.date() == _DAY]
    if not punches:
        return
    leaves, inspections, exemptions = [], [], []
    for i, (what, kind, start, minutes) in enumerate(extra):
        at = datetime.combine(_DAY, time()) + timedelta(minutes=start)
        if what == "leave":
            leaves.append(Leave("1", kind, at, at + timedelta(minutes=minutes), f"L{i}"))
        elif what == "inspection":
            inspections.append(Inspection("1", at, kind, minutes, "", f"I{i}"))
        else:
            exemptions.append(Exemption("1", _DAY, kind, "", f"E{i}"))

    def cost(ps):
        r = evaluate_day(
            _ANYONE,
            _DAY,
            "workday",
            slots,
            ps,
            rules=policy.day,
            leaves=leaves,
            exemptions=exemptions,
            inspections=inspections,
        )
        return _day_points(policy, r)

    gone = data.draw(st.integers(0, len(punches) - 1))
    fewer = punches[:gone] + punches[gone + 1 :]
    assert cost(fewer) >= cost(punches), (preset, tt, [p.time() for p in punches], gone)
