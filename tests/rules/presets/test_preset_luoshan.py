"""The luoshan preset against seed 003 (罗山县政务服务和大数据管理局窗口及窗口工作人员考核办法).

May 2026 for one window of five staff, hand-computed from the document's
numbers; then the second quarter (the assessment period) and the year.
Calendar facts used (chinesecalendar): 2026-05-01..05 are the Labour Day
holiday; Saturday 2026-05-09 is its make-up workday. May therefore has 19
workdays: 6, 7, 8, 9, 11–15, 18–22, 25–29.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from scenario import CAL, Pattern, at, evaluate, slots, timetable, variant

from rules import Exemption, Inputs, Inspection, Leave, RulesError, Staff, Substitution, build_timetable, resolve_policy

POLICY = resolve_policy("hall", "luoshan")
# The document's hours (第十章 一、二), with summer afternoons from 15 May (a centre's own
# seasonal variant: 13:30 and 17:30).
SUMMER = ("05-15", "09-30")
TIMETABLE = build_timetable(
    "luoshan",
    timetable(
        POLICY.timetable["slots"],
        variant(
            "summer",
            SUMMER,
            slots(
                ("08:55", "12:00", "13:30", "17:30"),
                [("06:00", "11:00"), ("11:01", "12:49"), ("13:20", "16:00"), ("16:01", "23:59")],
            ),
        ),
    ),
)
# Four punches on time for the timetable in force on a day (PUNCTUAL.day(d)); the workdays are the
# engine's calendar's.
PUNCTUAL = Pattern(
    ("08:45", "12:01", "12:55", "17:05"),
    summer=("08:45", "12:01", "13:25", "17:35"),
    season=SUMMER,
    is_workday=CAL.is_workday,
)
workdays = PUNCTUAL.workdays
STAFF = [
    Staff("101", "张伟", "gongan", "chief"),
    Staff("102", "李娜", "gongan"),
    Staff("103", "王芳", "gongan"),
    Staff("104", "赵强", "gongan"),
    Staff("105", "刘洋", "gongan"),
]


def build(*, substitution: bool = True) -> Inputs:
    punches: dict[str, list[datetime]] = {s.staff_no: [] for s in STAFF}
    punches["106"] = []
    punches["201"] = []  # the substitute, from 104's home department
    for d in workdays(date(2026, 1, 1), date(2026, 12, 31)):
        for s in [*STAFF, Staff("106", "周敏", "gongan")]:
            day = PUNCTUAL.day(d)
            no = s.staff_no
            if no == "102":
                if d == date(2026, 5, 6):
                    day[0] = at(d, "09:07")  # 12 minutes after 08:55
                if d == date(2026, 5, 7):
                    day[3] = at(d, "16:40")  # 20 minutes before 17:00
                if d == date(2026, 5, 11):
                    del day[1]  # no am_out punch
                if d == date(2026, 5, 12):
                    day[0] = at(d, "09:20")  # late, but excused with proof (E1)
                if d == date(2026, 5, 19):
                    day[2] = at(d, "13:40")  # summer hours: 10 minutes after 13:30
            if no == "103" and d in (date(2026, 5, 13), date(2026, 5, 14), date(2026, 5, 15), date(2026, 5, 21)):
                day = []  # personal leave, sick leave ×2, and one day absent without leave
            if no == "103" and d == date(2026, 5, 18):
                del day[1]  # on midday leave 10:00–12:30 over am_out
            if no == "104" and date(2026, 5, 25) <= d <= date(2026, 5, 29):
                punches["201"] += day  # 顶岗: 201 covers 104's post
                day = []
            if no == "105" and d == date(2026, 5, 9):
                day = []  # forgot the make-up Saturday
            punches[no] += day
    leaves = [
        Leave("103", "personal", at(date(2026, 5, 13), "08:00"), at(date(2026, 5, 13), "18:00"), "L1"),
        Leave("103", "sick", at(date(2026, 5, 14), "08:00"), at(date(2026, 5, 15), "18:00"), "L2"),
        Leave("103", "midday", at(date(2026, 5, 18), "10:00"), at(date(2026, 5, 18), "12:30"), "M4"),
    ]
    # eight midday leaves in the quarter: 3 in April, 3 in May (incl. M4), 2 in June
    for ref, d in (
        ("M1", date(2026, 4, 8)),
        ("M2", date(2026, 4, 15)),
        ("M3", date(2026, 4, 22)),
        ("M5", date(2026, 5, 20)),
        ("M6", date(2026, 5, 27)),
        ("M7", date(2026, 6, 3)),
        ("M8", date(2026, 6, 10)),
    ):
        leaves.append(Leave("103", "midday", at(d, "15:00"), at(d, "16:00"), ref))
    return Inputs(
        staff=STAFF,
        punches=punches,
        windows={"gongan": "公安窗口"},
        policies={"gongan": POLICY},
        timetables={"luoshan": TIMETABLE},
        window_timetable={"gongan": "luoshan"},
        calendar=CAL,
        leaves=leaves,
        exemptions=[Exemption("102", date(2026, 5, 12), "am_in", "交通管制证明", "E1")],
        inspections=[
            Inspection("103", at(date(2026, 5, 20), "10:15"), "roaming", 0, "串岗聊天", "I1"),
            Inspection("104", at(date(2026, 5, 8), "09:30"), "off_post", 130, "擅自离岗", "I2"),
        ],
        substitutions=[Substitution("201", "104", date(2026, 5, 25), date(2026, 5, 29), "S1")] if substitution else [],
    )


@pytest.fixture(scope="module")
def may():
    return evaluate(build(), "2026-05")


def by_staff(ev):
    return {r.staff_no: r for r in ev.staff}


def test_may_has_19_workdays_with_the_make_up_saturday(may):
    """2026-05-01..05 are holidays; Saturday 05-09 is a workday (调休)."""
    r = by_staff(may)["101"]
    assert r.scheduled_days == 19 and r.present_days == 19
    days = {d.day: d for d in may.days["101"]}
    assert not days[date(2026, 5, 4)].scheduled and days[date(2026, 5, 4)].day_kind == "holiday"
    assert days[date(2026, 5, 9)].scheduled and days[date(2026, 5, 9)].day_kind == "workday"


def test_perfect_month_keeps_all_25_points(may):
    """第四条: 出勤值勤（25分）."""
    r = by_staff(may)["101"]
    assert (r.deduction_points, r.attendance_score, r.deductions) == (0, 25, [])


def test_late_early_missing_and_an_excused_late(may):
    """附件1: 迟到、早退 每次扣3分; 未按时录入考勤 … 每人每次扣10分（有证明不扣分）.

    102: late 05-06 (3) + early 05-07 (3) + missing am_out 05-11 (10) + late on summer
    hours 05-19 (3) = 19 → 25 − 19 = 6; the 05-12 late is excused (E1).
    """
    r = by_staff(may)["102"]
    assert [(d.rule, d.ref, d.points) for d in r.deductions] == [
        ("late", "2026-05-06/am_in", 3),
        ("early", "2026-05-07/pm_out", 3),
        # issue 10 (12): 视同旷工 — the forgotten punch makes its morning 旷工, one 次 at 10 points
        ("punch_absence", "2026-05-11/absence-1", 10),
        ("late", "2026-05-19/pm_in", 3),
    ]
    assert (r.late_count, r.early_count, r.missing_punches, r.excused_punches) == (2, 1, 1, 1)
    assert r.attendance_score == 6
    assert "09:07:00" in r.deductions[0].evidence and "12 分钟" in r.deductions[0].evidence


def test_summer_variant_moves_the_afternoon(may):
    """The 05-19 pm_in at 13:40 is late by 10 minutes against the summer 13:30, not 40."""
    day = next(d for d in may.days["102"] if d.day == date(2026, 5, 19))
    pm_in = next(s for s in day.slots if s.slot == "pm_in")
    assert (pm_in.status, pm_in.minutes) == ("late", 10)


def test_leave_midday_leave_inspection_and_absence(may):
    """附件1: 请私假每天扣1分，请病假每天扣0.5分; 中途请假超过2小时的 每次扣0.5分;
    串岗 每次扣3分; 旷工每天扣10分.

    103: personal 1 day (1) + sick 2 days (0.5 × 2 = 1) + midday leave of 150 min (0.5)
    + roaming (3) + no punch at all on 05-21 (未按时录入考勤 … 视同旷工 每人每次扣10分: two 次, the
    morning and the afternoon, 20) = 25.5 → 0 (扣完为止). Three midday leaves in May, none over
    the quarter's six yet (3 in April + 3 = 6).
    """
    r = by_staff(may)["103"]
    # issue 10 (12): a day without punches is two sessions of 视同旷工 at 10 each (was 2 × 5)
    assert sorted((d.rule, d.points) for d in r.deductions) == sorted(
        [
            ("personal_leave_day", 1),
            ("sick_leave_day", 0.5),
            ("sick_leave_day", 0.5),
            ("midday_leave_long", 0.5),
            ("roaming", 3),
            ("punch_absence", 10),
            ("punch_absence", 10),
        ]
    )
    assert r.deduction_points == 25.5 and r.attendance_score == 0
    assert (r.personal_leave_days, r.sick_leave_days, r.absent_days, r.midday_leave_count) == (1, 2, 1, 3)
    # the midday leave covered am_out on 05-18: not a missing punch
    assert r.missing_punches == 0


def test_off_post_over_two_hours_is_half_a_day_absent(may):
    """第十章 三、1: 擅自脱岗超过2小时按缺勤半天登记 → 10 × 0.5 = 5 → 20."""
    r = by_staff(may)["104"]
    assert [(d.rule, d.points) for d in r.deductions] == [("absence_day", 5)]
    assert r.absent_days == 0.5 and r.attendance_score == 20
    assert "130 分钟" in r.deductions[0].evidence


def test_substitute_punches_count_for_the_covered_staff(may):
    """第十四条: 顶替人员的考评分记给被顶替的窗口工作人员."""
    assert by_staff(may)["104"].present_days == 19
    without = by_staff(evaluate(build(substitution=False), "2026-05"))["104"]
    assert without.absent_days == 5.5 and without.attendance_score == 0  # 55 points, capped at 25


def test_missing_the_make_up_workday_is_a_day_absent(may):
    r = by_staff(may)["105"]
    # issue 10 (12): 未按时录入考勤 … 视同旷工 每人每次扣10分 — each session 10 (was 5)
    assert [(d.rule, d.ref, d.points) for d in r.deductions] == [
        ("punch_absence", "2026-05-09/absence-1", 10),
        ("punch_absence", "2026-05-09/absence-2", 10),
    ]
    assert r.attendance_score == 5 and r.absent_days == 1


def test_window_score_is_the_weighted_mean(may):
    """附件2 工作考勤（25分）: 窗口所有工作人员 … 以加权平均数 … 作为窗口工作考勤得分.
    (25 + 6 + 0 + 20 + 5) / 5 with 19 workdays each = 11.2 (issue 10 (12): 103 and 105's days
    without punches are two 次 of 视同旷工 each)."""
    (w,) = may.windows
    assert w.attendance_score == pytest.approx(11.2)
    assert w.max_points == 25 and w.rank == 1


def test_grades_and_the_excellent_quota(may):
    """第十二条 grades the whole 100-point 考核 (80分以上优秀, 60分以上称职), not the 25-point 出勤值勤:
    the preset grades nobody (issue 10). A centre that grades the category itself on the same bands
    (``grades_on = "attendance"``, as % of 25) meets 第十九条's 优秀 ≤ 15%: of five staff that is none
    (0.75 rounds down), so 25 and 20 points are 称职 — with a quota note, not a finding."""
    assert {no: r.grade for no, r in by_staff(may).items()} == dict.fromkeys(("101", "102", "103", "104", "105"))
    graded = build()
    own = resolve_policy("hall", "luoshan", {"grades_on": "attendance"})
    graded.policies = {"gongan": own}
    r = by_staff(evaluate(graded, "2026-05"))
    assert {no: x.grade for no, x in r.items()} == {
        "101": "称职",
        "102": "基本称职",
        "103": "基本称职",
        "104": "称职",
        "105": "基本称职",
    }  # issue 10 (12): 105's day without punches costs 20, not 10
    assert "15%" in r["101"].grade_note and not r["101"].no_excellent_reasons  # missing the quota is no penalty


def test_quarter_counts_midday_leave_beyond_six():
    """附件1: 中途请假每季度超过6次，每超过一次扣0.5分: the 7th (06-03) and 8th (06-10)."""
    q2 = by_staff(evaluate(build(), "2026-Q2"))["103"]
    over = [(d.rule, d.day, d.points) for d in q2.deductions if d.rule == "midday_leave_over_quota"]
    assert over == [
        ("midday_leave_over_quota", date(2026, 6, 3), 0.5),
        ("midday_leave_over_quota", date(2026, 6, 10), 0.5),
    ]
    assert q2.midday_leave_count == 8
    # issue 10 (12): 05-21 without punches is 20 (two 次 of 视同旷工), so 26.5 points, capped at 25
    assert q2.deduction_points == 26.5 and q2.attendance_score == 0
    june = by_staff(evaluate(build(), "2026-06"))["103"]
    assert june.deduction_points == 1.0  # the month view counts from the quarter's start


def test_five_days_absent_in_a_quarter_bars_excellent():
    """第十五条: 因故中途缺勤5个工作日及以上的，当季度不得被评为"优秀"."""
    inputs = build(substitution=False)  # 104 absent 5.5 days in May
    q2 = by_staff(evaluate(inputs, "2026-Q2"))["104"]
    assert q2.no_excellent_reasons and "第十五条" in q2.no_excellent_reasons[0]


def test_annual_disqualification_and_six_months_rule():
    """第十章 四、6: 迟到、早退、缺岗8次以上 … 取消年度评优; 第十三条: 进大厅少于6个月不参加年度考核."""
    inputs = build()
    late_joiner = Staff("106", "周敏", "gongan", active_from=date(2026, 8, 1))
    inputs.staff = [*STAFF, late_joiner]
    punches = dict(inputs.punches)
    punches["102"] = list(punches["102"])
    for d in workdays(date(2026, 6, 1), date(2026, 6, 5)):  # four more lates in June: 2 + 1 + 1 + 4 = 8
        punches["102"] = [p if p != at(d, "08:45") else at(d, "09:05") for p in punches["102"]]
    inputs.punches = punches
    year = by_staff(evaluate(inputs, "2026"))
    assert year["102"].disqualified
    assert any("8次以上" in r for r in year["102"].disqualify_reasons)
    assert not year["101"].disqualified
    assert year["106"].in_assessment is False and year["101"].in_assessment is True


def test_overrides_and_bad_keys():
    stricter = resolve_policy("x", "luoshan", {"points": {"late": 5}, "day.grace_minutes": 2})
    assert stricter.points.late == 5 and stricter.day.grace_minutes == 2 and stricter.points.early == 3
    with pytest.raises(RulesError) as err:
        resolve_policy("x", "luoshan", {"points": {"lat": 1}})
    assert err.value.path == "policies.x.points.lat"
    with pytest.raises(RulesError) as err:
        resolve_policy("x", "luoshen")
    assert err.value.path == "policies.x.preset" and "luoshan" in str(err.value)
