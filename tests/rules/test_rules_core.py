"""The rules' building blocks: calendar, timetables, slot matching, periods, rosters, windows."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from scenario import slots, timetable

from rules import (
    CalendarUnknown,
    DutyAssignment,
    Exemption,
    Inputs,
    RulesError,
    Staff,
    WorkCalendar,
    build_timetable,
    evaluate_day,
    evaluate_period,
    parse_period,
    period_of,
    resolve_policy,
)
from rules.model import StaffPeriodResult
from rules.period import score_windows

# 周六、节假日公安值班时间(周日轮值服务)：上午 9:00-11:00 下午 14:00-16:00 (the duty timetables below)
DUTY_HOURS = timetable(
    slots(
        ("09:00", "11:00", "14:00", "16:00"),
        [("07:30", "10:30"), ("10:31", "12:30"), ("12:31", "15:00"), ("15:01", "19:00")],
    )
)

SLOTS = [
    {"name": "am_in", "kind": "in", "at": "09:00", "accept": ["07:00", "10:30"]},
    {"name": "am_out", "kind": "out", "at": "12:00", "accept": ["11:00", "12:50"]},
    {"name": "pm_in", "kind": "in", "at": "13:00", "accept": ["12:30", "15:00"]},
    {"name": "pm_out", "kind": "out", "at": "17:00", "accept": ["16:00", "20:00"]},
]
STANDARD = build_timetable("standard", {"slots": SLOTS})
POLICY = resolve_policy("p", "luoshan")
D = date(2026, 3, 2)


def t(hhmm: str, d: date = D, s: int = 0) -> datetime:
    h, m = map(int, hhmm.split(":"))
    return datetime.combine(d, time(h, m, s))


# --- calendar ----------------------------------------------------------------------


def test_statutory_holidays_and_make_up_workdays():
    cal = WorkCalendar()
    assert cal.day_kind(date(2026, 10, 1)) == "holiday"
    assert cal.day_kind(date(2026, 10, 10)) == "workday"  # Saturday 调休
    assert cal.day_kind(date(2026, 10, 11)) == "rest"


def test_local_overrides():
    cal = WorkCalendar(closures=frozenset({date(2026, 3, 3)}), workdays=frozenset({date(2026, 3, 7)}))
    assert cal.day_kind(date(2026, 3, 3)) == "holiday" and cal.day_kind(date(2026, 3, 7)) == "workday"


def test_unknown_year_stops_with_the_way_out():
    with pytest.raises(CalendarUnknown) as err:
        WorkCalendar().day_kind(date(2031, 1, 6))
    assert "2031" in str(err.value) and "[calendar] years" in str(err.value)
    declared = WorkCalendar(years=frozenset({2031}), closures=frozenset({date(2031, 1, 1)}))
    assert declared.day_kind(date(2031, 1, 6)) == "workday" and declared.day_kind(date(2031, 1, 1)) == "holiday"


def test_evaluating_an_unknown_year_fails_before_any_result():
    staff = [Staff("1", "a", "w")]
    inputs = Inputs(
        staff=staff,
        punches={},
        windows={"w": "W"},
        policies={"w": POLICY},
        timetables={"standard": STANDARD},
        window_timetable={"w": "standard"},
    )
    with pytest.raises(CalendarUnknown):
        evaluate_period(inputs, parse_period("2031-01"))


# --- timetables ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "change, path",
    [
        ({2: {"at": "11:30", "accept": ["11:00", "12:00"]}}, "timetables.t.slots[2].at"),  # before am_out
        ({2: {"accept": ["11:30", "15:00"]}}, "timetables.t.slots[2].accept"),  # reaches am_out's 12:00
        ({1: {"accept": ["12:10", "12:50"]}}, "timetables.t.slots[1].accept"),  # does not contain 12:00
        ({0: {"at": "9:60"}}, "timetables.t.slots[0].at"),
        ({1: {"kind": "in"}}, "timetables.t.slots[1].kind"),
        ({3: {"name": "am_in"}}, "timetables.t.slots[3].name"),
        ({0: {"grace": -1}}, "timetables.t.slots[0].grace"),
        ({0: {"bogus": 1}}, "timetables.t.slots[0].bogus"),
    ],
)
def test_bad_timetables_name_the_key_path(change, path):
    slots = [dict(s) for s in SLOTS]
    for i, c in change.items():
        slots[i].update(c)
    with pytest.raises(RulesError) as err:
        build_timetable("t", {"slots": slots})
    assert err.value.path == path


def test_seasonal_variants_and_their_overlap():
    summer = [dict(s) for s in SLOTS]
    summer[2] = {"name": "pm_in", "kind": "in", "at": "14:30", "accept": ["13:00", "16:00"]}
    summer[3] = {"name": "pm_out", "kind": "out", "at": "18:00", "accept": ["16:30", "21:00"]}
    tt = build_timetable(
        "t", {"slots": SLOTS, "variants": [{"name": "summer", "from": "07-01", "to": "09-30", "slots": summer}]}
    )
    assert tt.slots_on(date(2026, 7, 1))[2].at == time(14, 30)
    assert tt.slots_on(date(2026, 10, 1))[2].at == time(13)
    winter = {"name": "winter", "from": "11-01", "to": "02-28", "slots": SLOTS}
    assert build_timetable("t", {"slots": SLOTS, "variants": [winter]}).slots_on(date(2027, 1, 5)) == STANDARD.slots
    with pytest.raises(RulesError) as err:
        build_timetable(
            "t",
            {
                "slots": SLOTS,
                "variants": [
                    {"name": "a", "from": "06-01", "to": "08-31", "slots": summer},
                    {"name": "b", "from": "08-01", "to": "09-30", "slots": summer},
                ],
            },
        )
    assert err.value.path == "timetables.t.variants[1].from"


# --- one day ------------------------------------------------------------------------


def day(punches, **kw):
    return evaluate_day(Staff("1", "a", "w"), D, "workday", STANDARD.slots, sorted(punches), rules=POLICY.day, **kw)


def test_overlapping_windows_go_to_the_nearest_due_time():
    r = day([t("08:58"), t("12:40"), t("17:02")])  # 12:40 is in am_out's and pm_in's windows
    assert [(s.slot, s.status) for s in r.slots] == [
        ("am_in", "ok"),
        ("am_out", "missing"),
        ("pm_in", "ok"),
        ("pm_out", "ok"),
    ]


def test_first_in_last_out():
    r = day([t("08:50"), t("09:30"), t("11:55"), t("12:05"), t("12:55"), t("16:30"), t("17:10")])
    assert [s.punch for s in r.slots] == [t("08:50"), t("12:05"), t("12:55"), t("17:10")]
    assert r.events == ()


def test_a_double_punch_is_one_punch():
    """De-bouncing: 12:49:58 and 12:50:03 are one action, not an am_out and a pm_in."""
    r = evaluate_day(
        Staff("1", "a", "w"),
        D,
        "workday",
        build_timetable(
            "b",
            {
                "slots": [
                    SLOTS[0],
                    {"name": "am_out", "kind": "out", "at": "12:00", "accept": ["11:00", "12:49"]},
                    {"name": "pm_in", "kind": "in", "at": "13:00", "accept": ["12:50", "15:00"]},
                    SLOTS[3],
                ]
            },
        ).slots,
        [t("08:50"), t("12:49", s=58), t("12:50", s=3), t("17:05")],
        rules=POLICY.day,
    )
    assert [s.status for s in r.slots] == ["ok", "ok", "missing", "ok"]


def test_a_double_sign_out_counts_its_later_press():
    """A sign-out pressed twice within the debounce (16:59:30, 17:00:10) is one punch; the later press
    is when the person left (first in, last out), so it is on time — and removing the earlier press
    cannot make the day cheaper (found by test_one_more_missing_punch_never_makes_a_day_cheaper)."""
    both = day([t("09:00"), t("12:00"), t("13:00"), t("16:59", s=30), t("17:00", s=10)])
    assert both.events == () and both.slots[3].punch == t("17:00", s=10)
    # a sign-in pressed twice keeps its first press, as before
    twice_in = day([t("08:59", s=40), t("09:00", s=20), t("12:00"), t("13:00"), t("17:00")])
    assert twice_in.events == () and twice_in.slots[0].punch == t("08:59", s=40)


def test_minute_resolution_and_grace():
    assert day([t("09:00", s=59), t("12:00"), t("13:00"), t("17:00")]).events == ()
    r = day([t("09:01"), t("12:00"), t("13:00"), t("16:59", s=30)])
    assert [(e.kind, e.minutes) for e in r.events] == [("late", 1), ("early", 1)]
    lenient = POLICY.day.model_copy(update={"grace_minutes": 5})
    assert (
        evaluate_day(
            Staff("1", "a", "w"),
            D,
            "workday",
            STANDARD.slots,
            [t("09:05"), t("12:00"), t("13:00"), t("17:00")],
            rules=lenient,
        ).events
        == ()
    )


def test_no_punch_at_all_is_a_whole_day_absent():
    r = day([])
    # issue 10 (12): under luoshan a session without punches is 视同旷工, one punch_absence each
    assert r.absent_days == 1 and [e.kind for e in r.events] == ["punch_absence", "punch_absence"]
    assert r.events[0].evidence == "全天无打卡，视同旷工"
    by_day = evaluate_day(
        Staff("1", "x", "w"), D, "workday", STANDARD.slots, [], rules=resolve_policy("p", "yihuang").day
    )
    assert [e.kind for e in by_day.events] == ["absence_day", "absence_day"] and by_day.events[
        0
    ].evidence == "全天无打卡"


def test_exemption_all_excuses_the_day():
    r = day([], exemptions=[Exemption("1", D, "all", "外出办事", "E9")])
    assert r.absent_days == 0 and {s.status for s in r.slots} == {"excused"}
    assert all("#E9" in e.evidence for e in r.events if e.kind == "excused_punch")


def test_exemption_quota_per_month():
    policy = resolve_policy("q", "luoshan", {"day": {"exemption_quota_per_month": 1}})
    staff = [Staff("1", "a", "w")]
    punches = {
        "1": [
            p
            for d in (date(2026, 3, 2), date(2026, 3, 3))
            for p in (t("09:20", d), t("12:00", d), t("13:00", d), t("17:00", d))
        ]
    }
    inputs = Inputs(
        staff=staff,
        punches=punches,
        windows={"w": "W"},
        policies={"w": policy},
        timetables={"standard": STANDARD},
        window_timetable={"w": "standard"},
        exemptions=[
            Exemption("1", date(2026, 3, 3), "am_in", "", "E2"),
            Exemption("1", date(2026, 3, 2), "am_in", "", "E1"),
        ],
    )
    ev = evaluate_period(inputs, parse_period("2026-W10"))
    (r,) = ev.staff
    # the first exemption of the month (03-02) is used; 03-03's is over the quota of one
    assert r.excused_punches == 1 and [(d.rule, d.ref) for d in r.deductions if d.rule == "late"] == [
        ("late", "2026-03-03/am_in")
    ]


def test_duty_roster_works_a_holiday_on_its_own_timetable():
    """004 第四篇: 公安窗口 … 周六、节假日公安值班时间 上午 9:00-11:00 下午 14:00-16:00."""
    duty_tt = build_timetable(
        "police-duty",
        DUTY_HOURS,
    )
    holiday = date(2026, 10, 2)
    staff = [Staff("1", "a", "police"), Staff("2", "b", "tax")]
    inputs = Inputs(
        staff=staff,
        punches={"1": [t("08:55", holiday), t("11:01", holiday), t("14:20", holiday), t("16:02", holiday)]},
        windows={"police": "公安", "tax": "税务"},
        policies={"police": POLICY, "tax": POLICY},
        timetables={"standard": STANDARD, "police-duty": duty_tt},
        window_timetable={"police": "standard", "tax": "standard"},
        duty=[DutyAssignment(holiday, "police-duty", window="police")],
    )
    ev = evaluate_period(inputs, parse_period("2026-W40"))
    police = next(d for d in ev.days["1"] if d.day == holiday)
    tax = next(d for d in ev.days["2"] if d.day == holiday)
    assert police.scheduled and police.day_kind == "duty"
    assert [(e.kind, e.minutes) for e in police.events] == [("late", 20)]
    assert not tax.scheduled and tax.day_kind == "holiday"


def test_staff_active_dates_and_exempt_staff():
    inputs = Inputs(
        staff=[Staff("1", "a", "w", active_from=date(2026, 3, 16)), Staff("2", "b", "w", exempt=True)],
        punches={},
        windows={"w": "W"},
        policies={"w": POLICY},
        timetables={"standard": STANDARD},
        window_timetable={"w": "standard"},
    )
    rows = {r.staff_no: r for r in evaluate_period(inputs, parse_period("2026-03")).staff}
    assert rows["1"].scheduled_days == 12  # 16–31 March: 12 workdays, all absent
    assert rows["1"].absent_days == 12
    assert rows["2"].deductions == [] and rows["2"].attendance_score == POLICY.max_points


# --- periods and windows --------------------------------------------------------------


@pytest.mark.parametrize(
    "key, start, end",
    [
        ("2026-03", date(2026, 3, 1), date(2026, 4, 1)),
        ("2026-Q4", date(2026, 10, 1), date(2027, 1, 1)),
        ("2026-H2", date(2026, 7, 1), date(2027, 1, 1)),
        ("2026", date(2026, 1, 1), date(2027, 1, 1)),
        ("2026-W12", date(2026, 3, 16), date(2026, 3, 23)),
    ],
)
def test_periods(key, start, end):
    p = parse_period(key)
    assert (p.start, p.end) == (start, end)
    assert period_of(p.kind, start) == p


@pytest.mark.parametrize("bad", ["2026-13", "2026-Q5", "26-03", "2026-W60", "march", "2026-H3"])
def test_bad_periods(bad):
    with pytest.raises(RulesError) as err:
        parse_period(bad)
    assert err.value.path == "--period"


def test_ranking_ties_share_a_rank_and_red_flags_go_to_the_top():
    """Competition ranking (1, 1, 3); no flags unless the group flags on attendance; a tie at the
    boundary is left out unless the group says ties share (see tests/daemon/test_rankings.py for more)."""
    from rules import RankingGroup

    policy = resolve_policy("p", "luoshan", {"window": {"red_flags": 2}})
    rows = [
        StaffPeriodResult(no, w, "p", "month", "2026-03", scheduled_days=20, attendance_score=s)
        for no, w, s in (("1", "a", 20.0), ("2", "b", 25.0), ("3", "c", 20.0), ("4", "d", 10.0))
    ]

    def run(group=None):
        groups = {c: group for c in "abcd"} if group else None
        return {
            w.window: w
            for w in score_windows(
                {c: c for c in "abcd"}, rows, {c: policy for c in "abcd"}, parse_period("2026-03"), groups=groups
            )
        }

    out = run()
    assert [(c, out[c].rank, out[c].red_flag) for c in "abcd"] == [
        ("a", 2, False),
        ("b", 1, False),
        ("c", 2, False),
        ("d", 4, False),
    ]
    out = run(RankingGroup(flags_on="attendance"))
    assert [c for c in "abcd" if out[c].red_flag] == ["b"]
    out = run(RankingGroup(flags_on="attendance", ties="share"))
    assert [c for c in "abcd" if out[c].red_flag] == ["a", "b", "c"]


def test_unknown_policy_keys_and_values_name_their_path():
    for overrides, path in (
        ({"max_points": 0}, "policies.p.max_points"),
        ({"overflow": "spill"}, "policies.p.overflow"),
        ({"conversions": [{"from": ["tardy"], "every": 10, "to": "absence_day"}]}, "policies.p.conversions[0].from"),
        (
            {"disqualify": [{"measure": ["x"], "value": 1, "per": "year", "reason": "r"}]},
            "policies.p.disqualify[0].measure",
        ),
        ({"period": "fortnight"}, "policies.p.period"),
    ):
        with pytest.raises(RulesError) as err:
            resolve_policy("p", "luoshan", overrides)
        assert err.value.path == path, overrides


def test_standing_rota_police_weekends_and_holidays_and_a_rotating_sunday():
    """004 第四篇 平湖: 周日部分窗口实行轮值服务。公安窗口全年无休 … 双休、节假日均有值班。"""
    from rules import DutyRule

    duty_tt = build_timetable(
        "duty",
        DUTY_HOURS,
    )
    staff = [Staff("1", "a", "police"), Staff("2", "b", "tax"), Staff("3", "c", "tax")]
    inputs = Inputs(
        staff=staff,
        punches={},
        windows={"police": "公安", "tax": "税务"},
        policies={"police": POLICY, "tax": POLICY},
        timetables={"standard": STANDARD, "duty": duty_tt},
        window_timetable={"police": "standard", "tax": "standard"},
        duty_rules=[
            DutyRule("duty", window="police", day_kinds=frozenset({"rest", "holiday"})),
            DutyRule("duty", staff_no="2", weekdays=frozenset({6}), start=date(2026, 10, 11), end=date(2026, 10, 11)),
        ],
    )
    days = evaluate_period(inputs, parse_period("2026-10")).days
    kinds = lambda no: {d.day: (d.day_kind, d.scheduled) for d in days[no]}  # noqa: E731
    assert kinds("1")[date(2026, 10, 1)] == ("duty", True)  # National Day
    assert kinds("1")[date(2026, 10, 11)] == ("duty", True)  # a Sunday
    assert kinds("1")[date(2026, 10, 12)] == ("workday", True)
    assert kinds("2")[date(2026, 10, 11)] == ("duty", True) and kinds("2")[date(2026, 10, 18)] == ("rest", False)
    assert kinds("3")[date(2026, 10, 11)] == ("rest", False)
    assert kinds("2")[date(2026, 10, 10)] == ("workday", True)  # the make-up Saturday is a workday for all


def test_a_rotation_of_three_takes_every_third_sunday_each():
    """004 第四篇 平湖: 周日部分窗口实行轮值服务 — three people, one Sunday each in turn
    (``every_weeks`` counted from each rule's start)."""
    from rules import DutyRule

    duty_tt = build_timetable("duty", DUTY_HOURS)
    staff = [Staff(no, no, "tax") for no in ("1", "2", "3")]
    first = date(2026, 10, 4)  # a Sunday
    inputs = Inputs(
        staff=staff,
        punches={},
        windows={"tax": "税务"},
        policies={"tax": POLICY},
        timetables={"standard": STANDARD, "duty": duty_tt},
        window_timetable={"tax": "standard"},
        duty_rules=[
            DutyRule("duty", staff_no=no, weekdays=frozenset({6}), start=first + timedelta(weeks=i), every_weeks=3)
            for i, no in enumerate(("1", "2", "3"))
        ],
    )
    days = evaluate_period(inputs, parse_period("2026-10")).days
    on_duty = {no: sorted(d.day.day for d in days[no] if d.day_kind == "duty") for no in ("1", "2", "3")}
    # Sundays of October 2026: 4 (国庆 holiday, still a Sunday), 11, 18, 25
    assert on_duty == {"1": [4, 25], "2": [11], "3": [18]}


def test_a_chief_covered_by_a_substitute_is_not_on_site():
    """000 上虞: 首席代表（窗口负责人）在窗口一线的工作时间少于80%: a day 顶岗 by someone else
    keeps the chief's score whole but is not the chief at the window."""
    from rules import Substitution

    policy = resolve_policy("p", "shangyu")
    chief = Staff("1", "a", "w", "chief")
    month = parse_period("2026-03")
    workdays = [d for d in month.days() if WorkCalendar().is_workday(d)]
    punches = {"9": [t(x, d) for d in workdays for x in ("08:55", "12:01", "12:58", "17:02")]}
    inputs = Inputs(
        staff=[chief],
        punches=punches,
        windows={"w": "W"},
        policies={"w": policy},
        timetables={"standard": STANDARD},
        window_timetable={"w": "standard"},
        substitutions=[Substitution("9", "1", workdays[0], workdays[-1], "S1")],
    )
    ev = evaluate_period(inputs, month)
    assert ev.staff[0].deduction_points == 0  # the substitute's punches count for the chief's score
    (w,) = ev.windows
    assert w.chief_onsite_ratio == 0 and [d.rule for d in w.deductions] == ["chief_offsite"]
