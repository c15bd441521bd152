"""The county-004-5 preset against seed 004, 第五篇 《县行政服务中心窗口服务考核实施细则》.

The clause (二、窗口工作人员考核办法 3、出勤值勤 ①): "自觉遵守中心考勤制度，得7分。病事假全年累计超过
15天，扣5分；迟到、早退每次扣分；擅自离岗，每次扣1分；旷工每半天扣2分；" — the number after
"每次扣" is missing from the document; the preset's 0.5 is attendd's documented default.
一、"中心对各窗口每月考核一次" — assessed monthly. The hours are 第四篇 (平湖)'s, the preset's
documented default: "周一至周五工作日 上午8:30——11:30；下午2:00——5:30。中午部分窗口实行错时服务。
周日部分窗口实行轮值服务。公安窗口全年无休，工作日中午、双休、节假日均有值班。周六、节假日公安值班时间
(周日轮值服务)：上午 9:00-11:00 下午 14:00-16:00。"

Calendar facts used (chinesecalendar, checked in test_may_2026_calendar): 2026-05-01..05 are the
Labour Day holiday; Saturday 2026-05-09 is its make-up workday. May has 19 workdays: 6, 7, 8, 9,
11–15, 18–22, 25–29. March 2026 has no holiday; 03-02 is a Monday (03-02..13 is 10 workdays).
"""

from __future__ import annotations

from datetime import date

import chinese_calendar
import pytest
from scenario import (
    NOON_WORK,
    Pattern,
    at,
    ded,
    evaluate,
    pinghu_punches,
    pinghu_timetables,
    window_inputs,
    workdays,
)

from rules import DutyAssignment, Exemption, Inputs, Inspection, Leave, RulesError, Staff, Substitution, resolve_policy

POLICY = resolve_policy("county-hall", "county-004-5")
D = date


# --- timetables -------------------------------------------------------------------------------

# The 平湖 hours (08:30–11:30, 14:00–17:30) with a summer variant — the centre's own, as the
# documents give no seasonal hours: from 18 May to 30 September the afternoon starts at 14:30.
# (With pinghu-noon and police-duty: see scenario.pinghu_timetables.)
TIMETABLES = pinghu_timetables(
    POLICY,
    "夏令作息",
    ("05-18", "09-30"),
    ("08:30", "11:30", "14:30", "17:30"),
    [("06:00", "09:59"), ("10:00", "12:59"), ("13:00", "15:59"), ("16:00", "23:59")],
)

# On time for both the 平湖 hours and the summer variant (the preset has no grace minutes).
WORK = Pattern(("08:25", "11:31", "13:55", "17:32"))

# --- May 2026: five staff in two windows ---------------------------------------------------------

WINDOWS = {"gongan": "公安窗口", "shuiwu": "税务窗口"}
WINDOW_TT = {"gongan": "pinghu", "shuiwu": "pinghu-noon"}
STAFF = [
    Staff("111", "周杰", "gongan", "chief"),
    Staff("112", "吴芳", "gongan"),
    Staff("113", "郑涛", "gongan"),
    Staff("211", "冯丽", "shuiwu", "chief"),
    Staff("212", "何军", "shuiwu"),
]
# 公安窗口全年无休: holiday rotation 05-01..05; the window on Saturdays 16, 23, 30 (05-02 is a
# holiday, 05-09 a make-up workday); Sunday rotation 10, 17, 24, 31.
DUTY_DAYS = {"111": [1, 2, 10, 16, 23, 30, 31], "112": [3, 4, 16, 17, 23, 30], "113": [5, 16, 23, 24, 30]}
ROSTER = [
    DutyAssignment(D(2026, 5, d), "police-duty", staff_no=no)
    for no, ds in (("111", (1, 2, 10, 31)), ("112", (3, 4, 17)), ("113", (5, 24)))
    for d in ds
] + [DutyAssignment(D(2026, 5, d), "police-duty", window="gongan") for d in (16, 23, 30)]

PLANTED: dict[tuple[str, date], tuple[str, ...]] = {
    # 111: 5 minutes late on holiday duty (due 09:00); the morning of 05-18 on personal leave.
    ("111", D(2026, 5, 2)): ("09:05", "11:01", "13:55", "16:01"),
    ("111", D(2026, 5, 18)): ("13:55", "17:32"),
    # 112: no punch at all on its holiday duty day 05-03; no pm_in punch on 05-21 (补卡 BK-112).
    ("112", D(2026, 5, 3)): (),
    ("112", D(2026, 5, 21)): ("08:25", "11:31", "17:32"),
    # 113: 14:20 on 05-15 (due 14:00) and on 05-18 (summer, due 14:30).
    ("113", D(2026, 5, 15)): ("08:25", "11:31", "14:20", "17:32"),
    ("113", D(2026, 5, 18)): ("08:25", "11:31", "14:20", "17:32"),
    # 211: leaves 12:10 from the staggered window (due 12:30); away 05-25..26 (911 顶岗).
    ("211", D(2026, 5, 14)): ("08:25", "12:10", "13:25", "17:32"),
    ("211", D(2026, 5, 25)): (),
    ("211", D(2026, 5, 26)): (),
    # 212: forgets the make-up Saturday; no am_out on 05-19; 1 minute late; 1 and 30 minutes early.
    ("212", D(2026, 5, 9)): (),
    ("212", D(2026, 5, 19)): ("08:25", "13:25", "17:32"),
    ("212", D(2026, 5, 20)): ("08:31", "12:31", "13:25", "17:32"),
    ("212", D(2026, 5, 21)): ("08:25", "12:31", "13:25", "17:29"),
    ("212", D(2026, 5, 22)): ("08:25", "12:31", "13:25", "17:00"),
}
LEAVE_DAYS = {
    "111": workdays(D(2026, 3, 2), D(2026, 3, 13)) + workdays(D(2026, 5, 11), D(2026, 5, 15)),
    "212": workdays(D(2026, 5, 6), D(2026, 5, 8)) + [D(2026, 5, 11)],
}


def leaves() -> list[Leave]:
    return [
        # 111: 病假 10 days in March, 事假 5 days 05-11..15 (15: not over 15), then the morning of
        # 05-18 (15.5: over 15).
        Leave("111", "sick", at(D(2026, 3, 2), "00:00"), at(D(2026, 3, 13), "23:59"), "QJ-111-1"),
        Leave("111", "personal", at(D(2026, 5, 11), "00:00"), at(D(2026, 5, 15), "23:59"), "QJ-111-2"),
        Leave("111", "personal", at(D(2026, 5, 18), "08:00"), at(D(2026, 5, 18), "12:00"), "QJ-111-3"),
        # 211: 中途请假 15:00–16:00, no check point inside it.
        Leave("211", "midday", at(D(2026, 5, 27), "15:00"), at(D(2026, 5, 27), "16:00"), "ZT-211"),
        # 212: 年休假 05-06..08 and 事假 05-11.
        Leave("212", "annual", at(D(2026, 5, 6), "00:00"), at(D(2026, 5, 8), "23:59"), "NX-212"),
        Leave("212", "personal", at(D(2026, 5, 11), "00:00"), at(D(2026, 5, 11), "23:59"), "QJ-212"),
    ]


LAST_DAY = D(2026, 6, 30)  # the scenario's punches run to the end of June


def build(*, policy=POLICY, extra_leaves=(), until: date = LAST_DAY) -> Inputs:
    duty = {no: [D(2026, 5, n) for n in ns] for no, ns in DUTY_DAYS.items()}
    punches = pinghu_punches(STAFF, WORK, D(2026, 1, 1), until, PLANTED, LEAVE_DAYS, duty)
    punches["911"] = []  # from the tax bureau, sent to cover 211's post; not hall staff
    punches["911"] += NOON_WORK.day(D(2026, 5, 25))
    punches["911"] += NOON_WORK.day(D(2026, 5, 26), {"am_in": "08:35"})
    return window_inputs(
        WINDOWS,
        policy,
        TIMETABLES,
        WINDOW_TT,
        staff=STAFF,
        punches=punches,
        leaves=[*leaves(), *extra_leaves],
        exemptions=[Exemption("112", D(2026, 5, 21), "pm_in", "下午参加项目联审会，有会议签到表", "BK-112")],
        inspections=[
            Inspection("112", at(D(2026, 5, 20), "10:30"), "off_post", 30, "擅自离岗", "XC-112"),
            Inspection("113", at(D(2026, 5, 19), "15:00"), "off_post", 20, "擅自离岗", "XC-113a"),
            Inspection("113", at(D(2026, 5, 26), "10:00"), "off_post", 40, "擅自离岗", "XC-113b"),
        ],
        substitutions=[Substitution("911", "211", D(2026, 5, 25), D(2026, 5, 26), "HG-211")],
        duty=ROSTER,
    )


@pytest.fixture(scope="module")
def may():
    return evaluate(build(), "2026-05")


def by_staff(ev):
    return {r.staff_no: r for r in ev.staff}


def test_may_2026_calendar():
    assert not any(chinese_calendar.is_workday(D(2026, 5, d)) for d in range(1, 6))
    assert chinese_calendar.is_workday(D(2026, 5, 9))  # Saturday: 劳动节 make-up workday
    assert len(workdays(D(2026, 5, 1), D(2026, 5, 31))) == 19
    assert len(workdays(D(2026, 3, 2), D(2026, 3, 13))) == 10


def test_preset_values_are_the_documents():
    p = POLICY
    assert (p.subject, p.category, p.max_points, p.overflow, p.period) == ("staff", "考勤", 7, "cap", "month")
    # 迟到、早退每次扣分 (number missing → documented default 0.5); 擅自离岗，每次扣1分; 旷工每半天扣2分
    assert (p.points.late, p.points.early, p.points.off_post, p.points.absence_day) == (0.5, 0.5, 1, 4)
    assert p.points.roaming is None and p.points.missing_punch is None
    # 病事假全年累计超过15天，扣5分
    (lim,) = p.leave_limits
    assert (sorted(lim.kinds), lim.over, lim.per, lim.points) == (["personal", "sick"], 15, "year", 5)
    assert p.grades == [] and p.conversions == [] and p.disqualify == []
    assert (p.day.grace_minutes, p.day.missing_punch) == (0, "absence")
    assert [(s["name"], s["at"]) for s in p.timetable["slots"]] == [
        ("am_in", "08:30"),
        ("am_out", "11:30"),
        ("pm_in", "14:00"),
        ("pm_out", "17:30"),
    ]


def test_unknown_override_key_names_its_path():
    with pytest.raises(RulesError) as exc:
        resolve_policy("x", "county-004-5", {"points": {"lat": 1}})
    assert exc.value.path == "policies.x.points.lat"
    with pytest.raises(RulesError) as exc:
        resolve_policy("x", "county-004-5", {"leave_limits": [{"kinds": ["private"], "over": 15, "points": 5}]})
    assert exc.value.path == "policies.x.leave_limits[0].kinds"


def test_scheduled_days(may):
    """19 workdays; the police add duty days: 111 19 + 1, 2 + Sat 16, 23, 30 + Sun 10, 31 = 26;
    112 19 + 3, 4 + 3 Saturdays + Sun 17 = 25; 113 19 + 5 + 3 Saturdays + Sun 24 = 24."""
    s = by_staff(may)
    assert {no: r.scheduled_days for no, r in s.items()} == {"111": 26, "112": 25, "113": 24, "211": 19, "212": 19}
    # present: 111 on leave 05-11..15 (5); 112 missed 05-03; 212 on leave 05-06..08, 05-11 and absent 05-09
    assert {no: r.present_days for no, r in s.items()} == {"111": 21, "112": 24, "113": 24, "211": 19, "212": 14}


def test_111_leave_over_15_days_costs_5_once(may):
    """病事假全年累计超过15天，扣5分: 10 days sick in March + 5 days personal 05-11..15 = 15 (not
    over); the morning of 05-18 makes 15.5 → 5 points, dated 05-18. Late 5 minutes on holiday duty
    05-02 (due 09:00; the document gives no grace) → 0.5. Total 5.5; 7 − 5.5 = 1.5."""
    r = by_staff(may)["111"]
    assert ded(r) == sorted(
        [("late", "2026-05-02/am_in", 0.5), ("leave_over_limit", "2026/leave-over-personal+sick", 5.0)]
    )
    assert next(x.day for x in r.deductions if x.rule == "leave_over_limit") == D(2026, 5, 18)
    assert (r.attendance_score, r.personal_leave_days, r.sick_leave_days) == (1.5, 5.5, 0.0)


def test_111_is_charged_once_a_year():
    """The 5 points are for crossing 15 days in the year: two more days of 事假 in June (17.5)
    cost nothing more (leave itself costs nothing by the day)."""
    extra = Leave("111", "personal", at(D(2026, 6, 1), "00:00"), at(D(2026, 6, 2), "23:59"), "QJ-111-4")
    r = by_staff(evaluate(build(extra_leaves=(extra,)), "2026-06"))["111"]
    assert (r.personal_leave_days, r.deductions, r.attendance_score) == (2.0, [], 7.0)


def test_exactly_15_days_is_not_over():
    """Without the 05-18 morning the year's total is 15: "超过15天" is not met."""
    inputs = build()
    inputs.leaves = [x for x in inputs.leaves if x.ref != "QJ-111-3"]
    inputs.punches["111"] = [*inputs.punches["111"], at(D(2026, 5, 18), "08:25"), at(D(2026, 5, 18), "11:31")]
    r = by_staff(evaluate(inputs, "2026-05"))["111"]
    assert ded(r) == [("late", "2026-05-02/am_in", 0.5)]


def test_112_absent_on_holiday_duty_off_post_and_an_excused_punch(may):
    """旷工每半天扣2分: no punch on holiday duty 05-03 → 2 half days, 4. 擅自离岗，每次扣1分 → 1.
    The missing pm_in on 05-21 has a 补卡 record: nothing. Total 5; 2."""
    r = by_staff(may)["112"]
    assert ded(r) == sorted(
        [
            ("absence_day", "2026-05-03/absence-1", 2.0),
            ("absence_day", "2026-05-03/absence-2", 2.0),
            ("off_post", "XC-112", 1.0),
        ]
    )
    assert (r.attendance_score, r.absent_days, r.off_post_count, r.excused_punches) == (2.0, 1.0, 1, 1)


def test_113_summer_hours_and_two_off_posts(may):
    """05-15 (平湖 hours, due 14:00): 14:20 is late → 0.5; 05-18 (summer, due 14:30): on time.
    擅自离岗 twice → 2 × 1 (this document has no conversion of findings). Total 2.5; 4.5."""
    r = by_staff(may)["113"]
    assert ded(r) == sorted(
        [("late", "2026-05-15/pm_in", 0.5), ("off_post", "XC-113a", 1.0), ("off_post", "XC-113b", 1.0)]
    )
    assert r.attendance_score == 4.5


def test_211_staggered_noon_substitute_and_midday_leave(may):
    """Staggered morning ends 12:30: 12:10 is 20 minutes early → 0.5. 911 顶岗 on 05-25..26 and
    came 08:35 on 05-26 (5 minutes late, no grace) → 211 is charged 0.5. 中途请假 15:00–16:00
    covers no check point and costs nothing. Total 1.0; 6."""
    r = by_staff(may)["211"]
    assert ded(r) == sorted([("early", "2026-05-14/am_out", 0.5), ("late", "2026-05-26/am_in", 0.5)])
    assert (r.attendance_score, r.midday_leave_count, r.present_days) == (6.0, 1, 19)


def test_212_deductions_stop_at_7(may):
    """No punch on the make-up Saturday 05-09 → 2 half days, 4; no am_out on 05-19 → its half day,
    2 (a missing punch is absence: the document is silent, the preset's default); 08:31 late 0.5;
    17:29 and 17:00 early 0.5 + 0.5. 4 + 2 + 1.5 = 7.5 → the item's 7 points are gone: 0.
    年休假 3 days and 事假 1 day: 1 day of 病事假 in the year, far from 15."""
    r = by_staff(may)["212"]
    assert ded(r) == sorted(
        [
            ("absence_day", "2026-05-09/absence-1", 2.0),
            ("absence_day", "2026-05-09/absence-2", 2.0),
            ("absence_day", "2026-05-19/absence-1", 2.0),
            ("late", "2026-05-20/am_in", 0.5),
            ("early", "2026-05-21/pm_out", 0.5),
            ("early", "2026-05-22/pm_out", 0.5),
        ]
    )
    assert (r.deduction_points, r.attendance_score) == (7.5, 0.0)
    assert (r.other_leave_days, r.personal_leave_days, r.absent_days) == (3.0, 1.0, 1.5)


def test_windows_are_the_workday_weighted_mean(may):
    """公安: (1.5 × 26 + 2.0 × 25 + 4.5 × 24) / 75 = (39 + 50 + 108) / 75 = 197 / 75 = 2.6267;
    税务: (6.0 × 19 + 0 × 19) / 38 = 3.0. No red flags (the 细则 names 示范窗口 yearly, 3–5)."""
    w = {x.window: x for x in may.windows}
    assert (w["gongan"].attendance_score, w["shuiwu"].attendance_score) == (2.6267, 3.0)
    assert (w["shuiwu"].rank, w["gongan"].rank) == (1, 2)
    assert not w["shuiwu"].red_flag and not w["gongan"].red_flag


def test_the_missing_number_is_a_window_override(may):
    """ "迟到、早退每次扣分": a centre that fills in 1 point overrides points.late / points.early.
    211 then loses 1 + 1 = 2 (5); 113 1 + 2 = 3 (4)."""
    p = resolve_policy("county-hall", "county-004-5", {"points": {"late": 1, "early": 1}})
    s = by_staff(evaluate(build(policy=p), "2026-05"))
    assert (s["211"].attendance_score, s["113"].attendance_score) == (5.0, 4.0)
    dotted = resolve_policy("w", "county-004-5", {"points.late": 1})
    assert (dotted.points.late, dotted.points.early) == (1, 0.5)
