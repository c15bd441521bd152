"""The yihuang and yihuang-staff presets against seed 004, 第一篇 (宜黄县行政服务中心).

Sources quoted below:

* 《窗口服务考评办法》 四、(三) 文明服务（45分）: "1、迟到或早退每人次扣0.5分，旷工一天每人扣5分。
  2、串岗、脱岗，上班期间玩电脑游戏，影响工作的，每发现一次扣2分"; 五、1 "每月一评比，前5名为流动红旗
  窗口"; 五、2 "扣分扣完大项分数为止".
* 《窗口工作人员考勤制度》 1: "全体窗口工作人员实行考勤指纹打卡，上午两次、下午两次。在规定的上班时间
  迟到10分钟以上，在规定的下班时间提前10分钟以上，分别按迟到、早退处理，10次折旷工半天，没有打卡算旷工。"
  2: "工作人员上班时间不得干私活、脱岗、离岗、串岗，不得做与工作无关的事，发现一次按早退一次处理；发现
  二次按旷工半天处理". 3: "窗口工作人员获准请假的，单位应派人顶岗并办理换岗手续。窗口工作人员全年请私假
  超过20天、病假超过30天的不再享受公休假，同时丧失评先资格。"
* 《先进个人评选办法》 三、3 勤（30分）: "(1)发现有玩电脑游戏、干私活、串岗等现象，每次扣2分；(2)旷工1天
  扣5分，缺勤1次扣1分；(3)迟到、早退一次扣0.5分".
* 第四篇 (平湖) hours, the presets' documented default: "周一至周五工作日 上午8:30——11:30；下午2:00——
  5:30。中午部分窗口实行错时服务。周日部分窗口实行轮值服务。公安窗口全年无休，工作日中午、双休、节假日
  均有值班。周六、节假日公安值班时间(周日轮值服务)：上午 9:00-11:00 下午 14:00-16:00。"

Calendar facts used (chinesecalendar, checked in test_october_2026_calendar): 2026-10-01..07 are the
National Day holiday; Saturday 2026-10-10 is a make-up workday (调休); Sunday 10-11 is a rest day.
October 2026 therefore has 18 workdays: 8, 9, 10, 12–16, 19–23, 26–30.
August 2026 has no holiday (08-03 is a Monday, 08-03..28 is 20 workdays); 09-07..11 is Mon–Fri.
"""

from __future__ import annotations

from datetime import date

import chinese_calendar
import pytest
from scenario import (
    CAL,
    Pattern,
    at,
    attendance_flags,
    ded,
    evaluate,
    pinghu_punches,
    pinghu_timetables,
    window_inputs,
    workdays,
)

from rules import DutyAssignment, Exemption, Inputs, Inspection, Leave, RulesError, Staff, Substitution, resolve_policy

POLICY = resolve_policy("yihuang-hall", "yihuang")
D = date


# --- timetables ----------------------------------------------------------------------------

# The 平湖 hours from the preset (08:30–11:30, 14:00–17:30), with a winter variant: a centre's own
# choice, as the documents give no seasonal hours — from 16 October to 30 April the afternoon is
# 13:30–17:00. The variant runs across the new year.
# (With pinghu-noon and police-duty: see scenario.pinghu_timetables.)
TIMETABLES = pinghu_timetables(
    POLICY,
    "冬令作息",
    ("10-16", "04-30"),
    ("08:30", "11:30", "13:30", "17:00"),
    [("06:00", "09:59"), ("10:00", "12:29"), ("12:30", "15:14"), ("15:15", "23:59")],
)
PINGHU = TIMETABLES["pinghu"]

# On-time punches: valid for both the 平湖 hours and the winter variant (13:25 is before 13:30 and
# 14:00; 17:32 is after 17:00 and 17:30).
WORK = Pattern(("08:25", "11:31", "13:25", "17:32"))

# --- the October 2026 scenario ---------------------------------------------------------------

WINDOWS = {"gongan": "公安窗口", "shuiwu": "税务窗口", "shichang": "市场监管窗口"}
WINDOW_TT = {"gongan": "pinghu", "shuiwu": "pinghu-noon", "shichang": "pinghu"}
STAFF = [
    Staff("101", "张伟", "gongan", "chief"),
    Staff("102", "李娜", "gongan"),
    Staff("201", "王强", "shuiwu", "chief"),
    Staff("202", "赵敏", "shuiwu"),
    Staff("301", "陈刚", "shichang", "chief"),
    Staff("302", "刘洋", "shichang"),
    Staff("303", "孙丽", "shichang"),
]
# 公安窗口全年无休 … 节假日均有值班: the police staff rotate over the National Day holiday; the
# window works every Saturday (周六 … 公安值班); Sundays rotate (周日轮值服务). Saturday 10-10 is a
# make-up workday: the ordinary hours apply, no duty roster.
DUTY_ROSTER = (
    [DutyAssignment(D(2026, 10, d), "police-duty", staff_no="101") for d in (1, 3, 5, 7, 11, 25)]
    + [DutyAssignment(D(2026, 10, d), "police-duty", staff_no="102") for d in (2, 4, 6, 18)]
    + [DutyAssignment(D(2026, 10, d), "police-duty", window="gongan") for d in (17, 24, 31)]
)
DUTY_DAYS = {"101": [1, 3, 5, 7, 11, 17, 24, 25, 31], "102": [2, 4, 6, 17, 18, 24, 31]}

# Planted punches for October: (staff, day) → the day's punches (missing slots simply absent).
PLANTED: dict[tuple[str, date], tuple[str, ...]] = {
    # 101: 12 minutes late on holiday duty (due 09:00); no am_out punch on 10-21 (补卡 BK-01).
    ("101", D(2026, 10, 3)): ("09:12", "11:01", "13:55", "16:01"),
    ("101", D(2026, 10, 21)): ("08:25", "13:25", "17:32"),
    # 102: the 10-minute boundary, both ways; no punch at all on its holiday duty day 10-04.
    ("102", D(2026, 10, 12)): ("08:39", "11:31", "13:25", "17:32"),  # 9 min after 08:30
    ("102", D(2026, 10, 13)): ("08:40", "11:31", "13:25", "17:32"),  # 10 min after 08:30
    ("102", D(2026, 10, 14)): ("08:25", "11:31", "13:25", "17:21"),  # 9 min before 17:30
    ("102", D(2026, 10, 15)): ("08:25", "11:31", "13:25", "17:20"),  # 10 min before 17:30
    ("102", D(2026, 10, 4)): (),
    # 202: leaves at 12:00 for lunch from a staggered window (due 12:30); back 13:35 (5 min).
    ("202", D(2026, 10, 23)): ("08:25", "12:00", "13:35", "17:32"),
    # 301: 10-15 is still on the 平湖 hours (17:30), 10-16 and 10-19 on winter hours (17:00, 13:30).
    ("301", D(2026, 10, 15)): ("08:25", "11:31", "13:25", "17:05"),
    ("301", D(2026, 10, 16)): ("08:25", "11:31", "13:25", "17:05"),
    ("301", D(2026, 10, 19)): ("08:25", "11:31", "13:45", "17:32"),
    ("301", D(2026, 10, 9)): ("13:25", "17:32"),  # morning on personal leave
    ("301", D(2026, 10, 21)): ("08:25", "11:31", "13:25"),  # 中途请假 15:30–17:00, gone home
    # 302: forgets the make-up Saturday entirely; no pm_out punch on 10-20.
    ("302", D(2026, 10, 10)): (),
    ("302", D(2026, 10, 20)): ("08:25", "11:31", "13:25"),
    # 303: away on department training 10-22..23 (901 顶岗), 30 minutes late on 10-26 (补卡 BK-02).
    ("303", D(2026, 10, 22)): (),
    ("303", D(2026, 10, 23)): (),
    ("303", D(2026, 10, 26)): ("09:00", "11:31", "13:25", "17:32"),
}
# 201: 15 minutes late (08:45 for 08:30) on the first ten workdays of October.
TEN_LATE_DAYS = [D(2026, 10, d) for d in (8, 9, 10, 12, 13, 14, 15, 16, 19, 20)]
for _d in TEN_LATE_DAYS:
    PLANTED[("201", _d)] = ("08:45", "12:31", "13:25", "17:32")
# Whole days of leave: no punches.
LEAVE_DAYS = {
    "202": workdays(D(2026, 8, 3), D(2026, 8, 28))
    + workdays(D(2026, 9, 7), D(2026, 9, 11))
    + workdays(D(2026, 10, 26), D(2026, 10, 30)),
    "301": workdays(D(2026, 8, 3), D(2026, 8, 28)),
    "302": workdays(D(2026, 10, 12), D(2026, 10, 16)),
}


def leaves() -> list[Leave]:
    return [
        # 202: 病假 20 + 5 days before October, 5 in October: 30 in the year, not over 30.
        Leave("202", "sick", at(D(2026, 8, 3), "00:00"), at(D(2026, 8, 28), "23:59"), "QJ-202-1"),
        Leave("202", "sick", at(D(2026, 9, 7), "00:00"), at(D(2026, 9, 11), "23:59"), "QJ-202-2"),
        Leave("202", "sick", at(D(2026, 10, 26), "00:00"), at(D(2026, 10, 30), "23:59"), "QJ-202-3"),
        # 301: 私假 20 days in August, half a day on 10-09: 20.5 in the year, over 20.
        Leave("301", "personal", at(D(2026, 8, 3), "00:00"), at(D(2026, 8, 28), "23:59"), "QJ-301-1"),
        Leave("301", "personal", at(D(2026, 10, 9), "08:00"), at(D(2026, 10, 9), "12:00"), "QJ-301-2"),
        Leave("301", "midday", at(D(2026, 10, 21), "15:30"), at(D(2026, 10, 21), "17:00"), "ZT-301"),
        # 302: 年休假 10-12..16.
        Leave("302", "annual", at(D(2026, 10, 12), "00:00"), at(D(2026, 10, 16), "23:59"), "NX-302"),
    ]


def build(*, extra_leaves: tuple[Leave, ...] = (), policy=POLICY) -> Inputs:
    duty = {no: [D(2026, 10, n) for n in ns] for no, ns in DUTY_DAYS.items()}
    punches = pinghu_punches(STAFF, WORK, D(2026, 1, 1), D(2026, 10, 31), PLANTED, LEAVE_DAYS, duty)
    punches["901"] = []  # 303's colleague from the department, sent to 顶岗; not hall staff
    # 901 covers 303 on 10-22 (on time) and 10-23 (08:50: 20 minutes late).
    punches["901"] += WORK.day(D(2026, 10, 22))
    punches["901"] += WORK.day(D(2026, 10, 23), {"am_in": "08:50"})
    return window_inputs(
        WINDOWS,
        policy,
        TIMETABLES,
        WINDOW_TT,
        staff=STAFF,
        punches=punches,
        ranking_groups=attendance_flags(WINDOWS),  # 五、1 top 5, opted in on attendance alone
        leaves=[*leaves(), *extra_leaves],
        exemptions=[
            Exemption("101", D(2026, 10, 21), "am_out", "被派往不动产登记现场，有窗口负责人签字证明", "BK-01"),
            Exemption("303", D(2026, 10, 26), "am_in", "上午在企业现场勘验，有分管领导签字证明", "BK-02"),
        ],
        inspections=[
            Inspection("101", at(D(2026, 10, 20), "10:00"), "off_post", 25, "脱岗", "XC-101"),
            Inspection("102", at(D(2026, 10, 22), "10:05"), "off_post", 20, "脱岗", "XC-102a"),
            Inspection("102", at(D(2026, 10, 27), "15:00"), "roaming", 0, "串岗聊天", "XC-102b"),
        ],
        substitutions=[Substitution("901", "303", D(2026, 10, 22), D(2026, 10, 23), "HG-303")],
        duty=DUTY_ROSTER,
    )


@pytest.fixture(scope="module")
def october():
    return evaluate(build(), "2026-10")


def by_staff(ev):
    return {r.staff_no: r for r in ev.staff}


def by_window(ev):
    return {w.window: w for w in ev.windows}


def day_of(ev, staff_no: str, d: date):
    return next(x for x in ev.days[staff_no] if x.day == d)


# --- the preset -------------------------------------------------------------------------------


def test_october_2026_calendar():
    """The statutory facts the scenario relies on (chinesecalendar)."""
    assert not any(chinese_calendar.is_workday(D(2026, 10, d)) for d in range(1, 8))
    assert chinese_calendar.is_workday(D(2026, 10, 10))  # Saturday: 国庆 make-up workday
    assert not chinese_calendar.is_workday(D(2026, 10, 11))
    assert len(workdays(D(2026, 10, 1), D(2026, 10, 31))) == 18
    assert len(workdays(D(2026, 8, 3), D(2026, 8, 28))) == 20


def test_yihuang_preset_values_are_the_documents():
    p = POLICY
    assert (p.subject, p.category, p.max_points, p.overflow, p.period) == ("window", "文明服务", 45, "cap", "month")
    # 文明服务 1: 迟到或早退每人次扣0.5分，旷工一天每人扣5分
    assert (p.points.late, p.points.early, p.points.absence_day) == (0.5, 0.5, 5)
    # 文明服务 2: 串岗、脱岗，上班期间玩电脑游戏 … 每发现一次扣2分
    assert (p.points.off_post, p.points.roaming, p.points.unrelated_activity) == (2, 2, 2)
    assert p.points.missing_punch is None and p.points.personal_leave_day is None
    # 考勤制度 1: 迟到10分钟以上 (以上 includes 10 → late from the 10th minute); 没有打卡算旷工
    assert (p.day.grace_minutes, p.day.missing_punch) == (9, "absence")
    # 考勤制度 1: 10次折旷工半天
    c = p.conversions[0]
    assert (c.from_, c.every, c.to, c.amount, c.per) == (["late", "early"], 10, "absence_day", 0.5, "month")
    # 五、1: 每月一评比，前5名为流动红旗窗口
    assert (p.window.aggregate, p.window.red_flags) == ("sum_of_staff", 5)
    # 第四篇 (平湖) hours as the documented default
    assert [(s["name"], s["at"]) for s in p.timetable["slots"]] == [
        ("am_in", "08:30"),
        ("am_out", "11:30"),
        ("pm_in", "14:00"),
        ("pm_out", "17:30"),
    ]


def test_unknown_override_key_names_its_path():
    with pytest.raises(RulesError) as exc:
        resolve_policy("x", "yihuang", {"points": {"lat": 1}})
    assert exc.value.path == "policies.x.points.lat"
    with pytest.raises(RulesError) as exc:
        resolve_policy("x", "yihuang-staff", {"day": {"grace": 10}})
    assert exc.value.path == "policies.x.day.grace"
    with pytest.raises(RulesError) as exc:
        resolve_policy("x", "yihuang", {"conversions": [{"from": ["lates"], "every": 10, "to": "absence_day"}]})
    assert exc.value.path == "policies.x.conversions[0].from"


# --- October 2026, seven staff in three windows ----------------------------------------------------


def test_scheduled_days_follow_calendar_and_duty_roster(october):
    """18 workdays (with the make-up Saturday 10-10); the police add their duty days:
    101: 18 + holidays 1, 3, 5, 7 + Saturdays 17, 24, 31 + Sundays 11, 25 = 27;
    102: 18 + holidays 2, 4, 6 + Saturdays 17, 24, 31 + Sunday 18 = 25."""
    s = by_staff(october)
    assert {no: r.scheduled_days for no, r in s.items()} == {
        "101": 27,
        "102": 25,
        "201": 18,
        "202": 18,
        "301": 18,
        "302": 18,
        "303": 18,
    }
    # present: 102 missed 10-04; 202 was on sick leave 5 days, 302 on annual leave 5 days and
    # absent 10-10.
    assert {no: r.present_days for no, r in s.items()} == {
        "101": 27,
        "102": 24,
        "201": 18,
        "202": 13,
        "301": 18,
        "302": 12,
        "303": 18,
    }
    assert day_of(october, "101", D(2026, 10, 3)).day_kind == "duty"
    assert day_of(october, "201", D(2026, 10, 10)).day_kind == "workday"
    assert not day_of(october, "201", D(2026, 10, 3)).scheduled  # tax window: holiday


def test_101_holiday_duty_late_off_post_once_and_a_missing_punch_excused(october):
    """Duty hours 9:00 (周六、节假日公安值班时间 上午 9:00): 09:12 is 12 minutes late → 0.5.
    脱岗 found once: 2 (文明服务 2) + one early (考勤制度 2 发现一次按早退一次处理) 0.5.
    No am_out punch on 10-21 with a 补卡 record: no deduction.
    Total 0.5 + 2 + 0.5 = 3.0; score 45 − 3 = 42."""
    r = by_staff(october)["101"]
    assert ded(r) == sorted(
        [
            ("late", "2026-10-03/am_in", 0.5),
            ("off_post", "XC-101", 2.0),
            ("early", "2026-10-20/off_post+roaming+unrelated_activity-1", 0.5),
        ]
    )
    assert (r.deduction_points, r.attendance_score) == (3.0, 42.0)
    assert (r.late_count, r.early_count, r.off_post_count, r.excused_punches, r.absent_days) == (1, 1, 1, 1, 0)
    late = next(x for x in r.deductions if x.rule == "late")
    assert "应 09:00" in late.evidence and "迟到 12 分钟" in late.evidence
    assert not r.disqualified


def test_102_ten_minute_boundary_absent_on_duty_and_two_findings(october):
    """考勤制度 1: 迟到10分钟以上 / 提前10分钟以上 → 08:39 and 17:21 (9 minutes) are fine,
    08:40 and 17:20 (10 minutes) are late / early: 0.5 + 0.5.
    没有打卡算旷工: no punch on holiday duty 10-04 → a day, 5 (2.5 per half day).
    考勤制度 2 twice (脱岗 10-22, 串岗 10-27): 2 × 2 + 2 earlies × 0.5 + half a day 2.5 = 7.5.
    Total 0.5 + 0.5 + 5 + 7.5 = 13.5; score 31.5."""
    r = by_staff(october)["102"]
    assert ded(r) == sorted(
        [
            ("late", "2026-10-13/am_in", 0.5),
            ("early", "2026-10-15/pm_out", 0.5),
            ("absence_day", "2026-10-04/absence-1", 2.5),
            ("absence_day", "2026-10-04/absence-2", 2.5),
            ("off_post", "XC-102a", 2.0),
            ("early", "2026-10-22/off_post+roaming+unrelated_activity-1", 0.5),
            ("roaming", "XC-102b", 2.0),
            ("early", "2026-10-27/off_post+roaming+unrelated_activity-2", 0.5),
            ("absence_day", "2026-10-27/off_post+roaming+unrelated_activity-2", 2.5),
        ]
    )
    assert (r.deduction_points, r.attendance_score) == (13.5, 31.5)
    # lates 1; earlies 1 punched + 2 from findings; absence 1 day + half a day
    assert (r.late_count, r.early_count, r.absent_days, r.off_post_count) == (1, 3, 1.5, 1)
    assert [s.status for s in day_of(october, "102", D(2026, 10, 12)).slots] == ["ok"] * 4
    assert [s.status for s in day_of(october, "102", D(2026, 10, 14)).slots] == ["ok"] * 4


def test_201_ten_lates_add_half_a_day(october):
    """考勤制度 1: 10次折旷工半天 — ten lates (08:45, 15 minutes; one on the make-up Saturday
    10-10) cost 10 × 0.5 = 5, and the tenth adds half a day of absence: 2.5. Total 7.5; 37.5."""
    r = by_staff(october)["201"]
    expected = [("late", f"{d.isoformat()}/am_in", 0.5) for d in TEN_LATE_DAYS]
    expected.append(("absence_day", "2026-10-20/late+early-10", 2.5))
    assert ded(r) == sorted(expected)
    assert (r.late_count, r.absent_days, r.deduction_points, r.attendance_score) == (10, 0.5, 7.5, 37.5)


def test_202_staggered_noon_window_and_30_days_sick_leave_is_not_over_30(october):
    """中午部分窗口实行错时服务: the tax window's morning ends 12:30, so 12:00 is 30 minutes
    early → 0.5 (on the 平湖 hours 12:00 would be after 11:30); 13:35 is 5 minutes after 13:30: fine.
    病假超过30天 … 丧失评先资格: 20 (August) + 5 (September) + 5 (October) = 30, not over 30."""
    r = by_staff(october)["202"]
    assert ded(r) == [("early", "2026-10-23/am_out", 0.5)]
    assert (r.attendance_score, r.sick_leave_days, r.disqualified) == (44.5, 5.0, False)


def test_202_over_30_days_sick_leave_loses_award_eligibility():
    """One more half day of sick leave (10-23 afternoon) makes 30.5 > 30: 丧失评先资格."""
    extra = Leave("202", "sick", at(D(2026, 10, 23), "13:00"), at(D(2026, 10, 23), "18:00"), "QJ-202-4")
    r = by_staff(evaluate(build(extra_leaves=(extra,)), "2026-10"))["202"]
    assert r.disqualified
    assert r.disqualify_reasons == ["全年请病假超过30天，丧失评先资格（考勤制度第3条）（2026：30.5）"]
    assert r.sick_leave_days == 5.5 and ded(r) == [("early", "2026-10-23/am_out", 0.5)]


def test_301_winter_hours_half_day_leave_and_midday_leave(october):
    """10-15 (平湖 hours, out 17:30): 17:05 is 25 minutes early → 0.5. 10-16 (winter, out 17:00):
    17:05 is fine. 10-19 (winter, in 13:30): 13:45 is 15 minutes late → 0.5.
    中途请假 15:30–17:00 on 10-21 covers pm_out: no punch needed, no deduction.
    私假: 20 days in August + half a day on 10-09 = 20.5 > 20 → 丧失评先资格. Total 1.0; 44."""
    r = by_staff(october)["301"]
    assert ded(r) == sorted([("early", "2026-10-15/pm_out", 0.5), ("late", "2026-10-19/pm_in", 0.5)])
    assert (r.attendance_score, r.personal_leave_days, r.midday_leave_count) == (44.0, 0.5, 1)
    assert r.disqualified
    assert r.disqualify_reasons == ["全年请私假超过20天，丧失评先资格（考勤制度第3条）（2026：20.5）"]
    assert [s.status for s in day_of(october, "301", D(2026, 10, 16)).slots] == ["ok"] * 4
    assert [s.status for s in day_of(october, "301", D(2026, 10, 21)).slots] == ["ok", "ok", "ok", "leave"]
    assert [s.status for s in day_of(october, "301", D(2026, 10, 9)).slots] == ["leave", "leave", "ok", "ok"]


def test_302_no_punch_is_absence_even_on_the_make_up_saturday(october):
    """没有打卡算旷工: no punch on the make-up workday 10-10 → a day, 5; no pm_out punch on 10-20
    → that half day, 2.5. 年休假 10-12..16 costs nothing. Total 7.5; 37.5."""
    r = by_staff(october)["302"]
    assert ded(r) == sorted(
        [
            ("absence_day", "2026-10-10/absence-1", 2.5),
            ("absence_day", "2026-10-10/absence-2", 2.5),
            ("absence_day", "2026-10-20/absence-2", 2.5),
        ]
    )
    assert (r.absent_days, r.other_leave_days, r.attendance_score) == (1.5, 5.0, 37.5)


def test_303_substitute_punches_count_and_late_punch_excused(october):
    """考勤制度 3: 单位应派人顶岗: 901's punches count for 303 on 10-22..23; 901 came 08:50 on
    10-23 (20 minutes late) → 303 is charged 0.5. 10-26 09:00 is excused by 补卡 BK-02. 44.5."""
    r = by_staff(october)["303"]
    assert ded(r) == [("late", "2026-10-23/am_in", 0.5)]
    assert (r.attendance_score, r.present_days, r.excused_punches) == (44.5, 18, 1)
    assert day_of(october, "303", D(2026, 10, 23)).first_punch == at(D(2026, 10, 23), "08:50")
    assert "901" not in by_staff(october)


def test_windows_sum_their_staff_and_rank(october):
    """四、(三) 1 is per person-time, so a window loses the sum of its staff's deductions:
    公安 101 3.0 + 102 13.5 = 16.5 → 28.5; 税务 201 7.5 + 202 0.5 = 8.0 → 37.0;
    市场监管 301 1.0 + 302 7.5 + 303 0.5 = 9.0 → 36.0.
    Ranking 税务 1, 市场监管 2, 公安 3 — all three within 前5名 → 流动红旗."""
    w = by_window(october)
    assert {k: (v.attendance_score, v.rank, v.red_flag) for k, v in w.items()} == {
        "shuiwu": (37.0, 1, True),
        "shichang": (36.0, 2, True),
        "gongan": (28.5, 3, True),
    }
    assert w["gongan"].max_points == 45 and w["gongan"].staff_count == 2
    assert round(sum(x.points for x in w["shichang"].deductions), 4) == 9.0


# --- focused rules, March 2026 (22 workdays, no holiday; the winter variant: pm 13:30–17:00) -------

MARCH = workdays(D(2026, 3, 1), D(2026, 3, 31))


def one_window(punches, *, policy=POLICY, inspections=(), exemptions=(), period="2026-03", staff=None):
    staff = staff or [Staff("1", "甲", "w")]
    return evaluate(
        Inputs(
            staff=staff,
            punches=punches,
            windows={"w": "窗口"},
            policies={"w": policy},
            timetables={"pinghu": PINGHU},
            window_timetable={"w": "pinghu"},
            calendar=CAL,
            inspections=list(inspections),
            exemptions=list(exemptions),
        ),
        period,
    )


def month_punches(late_days=(), skip=(), first_in="08:45", days_=None):
    """On-time punches on ``days_`` (March), ``first_in`` on the ``late_days``, none on ``skip``."""
    return WORK.on(days_ or MARCH, {d: {"am_in": first_in} for d in late_days}, away=skip)


def test_march_has_22_workdays():
    assert len(MARCH) == 22


@pytest.mark.parametrize("lates, conversions", [(9, 0), (10, 1), (19, 1), (20, 2)])
def test_every_tenth_late_adds_half_a_day_and_lates_keep_their_points(lates, conversions):
    """考勤制度 1: 10次折旷工半天 — n lates cost n × 0.5 plus 2.5 per complete ten."""
    r = one_window({"1": month_punches(MARCH[:lates])}).staff[0]
    assert r.late_count == lates
    assert r.absent_days == 0.5 * conversions
    assert r.deduction_points == 0.5 * lates + 2.5 * conversions


def test_lates_and_earlies_count_together_per_month():
    """The ten are 迟到 and 早退 together ("分别按迟到、早退处理，10次折旷工半天"), counted per month:
    6 lates and 4 earlies in March → half a day; 9 more lates in April start again from zero."""
    p = month_punches(MARCH[:6])
    # 16:45 on the next four days: 15 minutes before 17:00 (March is on the winter hours)
    p = [x if not (x.date() in MARCH[6:10] and x.hour == 17) else x.replace(hour=16, minute=45) for x in p]
    april = workdays(D(2026, 4, 1), D(2026, 4, 30))
    p += month_punches(april[:9], days_=april)
    ev = one_window({"1": p}, period="2026-04")
    assert ev.staff[0].deduction_points == 9 * 0.5 and ev.staff[0].absent_days == 0
    r = one_window({"1": p}).staff[0]
    assert (r.late_count, r.early_count) == (6, 4)
    assert ("absence_day", f"{MARCH[9].isoformat()}/late+early-10", 2.5) in ded(r)
    assert r.deduction_points == 10 * 0.5 + 2.5


def test_grace_boundary_and_the_spec_reading_as_an_override():
    """ "迟到10分钟以上": the preset counts 10 minutes as late (以上 includes the number); a window
    that reads it as "more than 10 minutes" (SPEC §5.1) overrides day.grace_minutes = 10."""
    d1, d2, d3 = MARCH[:3]
    punches = {
        "1": [
            at(d1, "08:39"),
            at(d1, "11:31"),
            at(d1, "13:25"),
            at(d1, "17:32"),
            at(d2, "08:40"),
            at(d2, "11:31"),
            at(d2, "13:25"),
            at(d2, "17:32"),
            at(d3, "08:41"),
            at(d3, "11:31"),
            at(d3, "13:25"),
            at(d3, "17:32"),
        ]
        + month_punches(days_=MARCH[3:])
    }
    assert ded(one_window(punches).staff[0]) == [
        ("late", f"{d2.isoformat()}/am_in", 0.5),
        ("late", f"{d3.isoformat()}/am_in", 0.5),
    ]
    spec = resolve_policy("w", "yihuang", {"day": {"grace_minutes": 10}})
    assert ded(one_window(punches, policy=spec).staff[0]) == [("late", f"{d3.isoformat()}/am_in", 0.5)]


def test_no_punch_is_absence_unless_excused():
    """没有打卡算旷工: one missing punch → its half day (5 × ½ = 2.5); no punch all day → 5;
    a 补卡 record for the slot (or the whole day) → nothing."""
    d1, d2, d3, d4 = MARCH[:4]
    p = [x for x in month_punches() if not (x.date() == d1 and x.hour == 11)]  # no am_out on d1
    p = [x for x in p if x.date() not in (d2, d3)]  # nothing on d2, d3
    p = [x for x in p if not (x.date() == d4 and x.hour == 17)]  # no pm_out on d4
    ex = [
        Exemption("1", d3, "all", "全天外出办理联审，有证明", "BK-3"),
        Exemption("1", d4, "pm_out", "指纹机故障", "BK-4"),
    ]
    r = one_window({"1": p}, exemptions=ex).staff[0]
    assert ded(r) == sorted(
        [
            ("absence_day", f"{d1.isoformat()}/absence-1", 2.5),
            ("absence_day", f"{d2.isoformat()}/absence-1", 2.5),
            ("absence_day", f"{d2.isoformat()}/absence-2", 2.5),
        ]
    )
    assert (r.absent_days, r.excused_punches, r.attendance_score) == (1.5, 5, 37.5)


@pytest.mark.parametrize(
    "findings, points",
    [
        (1, 2 + 0.5),  # 发现一次按早退一次处理
        (2, 2 * 2 + 2 * 0.5 + 2.5),  # 发现二次按旷工半天处理 (additive: 7.5)
        (3, 3 * 2 + 3 * 0.5 + 2.5),  # the third starts a new pair: 10.0
        (4, 4 * 2 + 4 * 0.5 + 2 * 2.5),  # 15.0
    ],
)
def test_off_post_findings(findings, points):
    """文明服务 2: 串岗、脱岗，上班期间玩电脑游戏 … 每发现一次扣2分, with 考勤制度 2's early / half day."""
    kinds = ["off_post", "roaming", "unrelated_activity", "off_post"]
    ins = [Inspection("1", at(MARCH[i], "10:00"), kinds[i], 15, "", f"X{i}") for i in range(findings)]
    r = one_window({"1": month_punches()}, inspections=ins).staff[0]
    assert r.deduction_points == points
    assert r.early_count == findings and r.absent_days == 0.5 * (findings // 2)


def test_findings_pair_within_a_month_only():
    """One finding in March and one in April: each month has one (no half day)."""
    april = workdays(D(2026, 4, 1), D(2026, 4, 30))
    ins = [
        Inspection("1", at(MARCH[-1], "10:00"), "off_post", 15, "", "X1"),
        Inspection("1", at(april[0], "10:00"), "off_post", 15, "", "X2"),
    ]
    r = one_window({"1": month_punches() + month_punches(days_=april)}, inspections=ins, period="2026-04").staff[0]
    assert r.deduction_points == 2.5 and r.absent_days == 0


def test_sleeping_is_not_a_listed_finding():
    """文明服务 2 names 串岗、脱岗、玩电脑游戏; 睡岗 is not scored by this preset."""
    ins = [Inspection("1", at(MARCH[0], "10:00"), "sleeping", 10, "", "X1")]
    assert one_window({"1": month_punches()}, inspections=ins).staff[0].deduction_points == 0


def test_top_five_windows_get_the_red_flag_and_deductions_stop_at_45():
    """五、1: 前5名为流动红旗窗口; 五、2: 扣分扣完大项分数为止. Seven windows, one person each, with
    0, 1, 2, 3, 4, 4, and all 22 days absent (22 × 5 = 110 → 0). Ties share a rank (45, 44.5, 44,
    43.5, 43, 43, 0). Flags on attendance alone are opted in (issue 10: the document awards them on
    the whole assessment); the two windows tied for 5th both get one only where the centre says
    ties share (``ties = "share"``), else neither does: never more flags than 5."""
    lates = {"a": 0, "b": 1, "c": 2, "d": 3, "e": 4, "f": 4}
    staff = [Staff(k, k, k) for k in [*lates, "g"]]
    punches = {k: month_punches(MARCH[:n]) for k, n in lates.items()}
    punches["g"] = []

    def run(**group):
        return evaluate(
            Inputs(
                staff=staff,
                punches=punches,
                windows={s.window: s.window for s in staff},
                policies={s.window: POLICY for s in staff},
                timetables={"pinghu": PINGHU},
                window_timetable={s.window: "pinghu" for s in staff},
                calendar=CAL,
                ranking_groups=attendance_flags([s.window for s in staff], **group),
            ),
            "2026-03",
        )

    ev = run(ties="share")
    got = {w.window: (w.attendance_score, w.rank, w.red_flag) for w in ev.windows}
    assert got == {
        "a": (45.0, 1, True),
        "b": (44.5, 2, True),
        "c": (44.0, 3, True),
        "d": (43.5, 4, True),
        "e": (43.0, 5, True),
        "f": (43.0, 5, True),
        "g": (0.0, 7, False),
    }
    assert {w.window for w in run().windows if w.red_flag} == {"a", "b", "c", "d"}
    g = next(r for r in ev.staff if r.staff_no == "g")
    assert (g.deduction_points, g.attendance_score, g.absent_days) == (110.0, 0.0, 22.0)


def test_a_window_loses_the_sum_of_its_staff_capped_at_45():
    """Two people, each absent 5 days (25 each): the window's 50 stops at 45 → 0; each person 20."""
    staff = [Staff("1", "甲", "w"), Staff("2", "乙", "w")]
    p = month_punches(skip=MARCH[:5])
    ev = one_window({"1": p, "2": p}, staff=staff)
    assert [r.attendance_score for r in ev.staff] == [20.0, 20.0]
    assert ev.windows[0].attendance_score == 0.0


# --- yihuang-staff -----------------------------------------------------------------------------------

STAFF_POLICY = resolve_policy("yihuang-people", "yihuang-staff")


def test_a_windows_quarter_and_year_are_the_mean_of_its_months():
    """五、1: 年终总考评，以月平均分为基数 — a longer period is the mean of the monthly window scores,
    each month capped on its own. Two people; in January one is absent 4 days (20) and the other 6
    days (30): 50 → January 0 (扣完为止), February and March 45 → Q1 (0 + 45 + 45) / 3 = 30 (not
    45 − 50 capped = 0)."""
    jan = workdays(D(2026, 1, 1), D(2026, 1, 31))
    feb = workdays(D(2026, 2, 1), D(2026, 2, 28))
    rest = month_punches(days_=feb) + month_punches()
    staff = [Staff("1", "甲", "w"), Staff("2", "乙", "w")]
    punches = {"1": month_punches(skip=jan[:4], days_=jan) + rest, "2": month_punches(skip=jan[:6], days_=jan) + rest}
    assert one_window(punches, staff=staff, period="2026-01").windows[0].attendance_score == 0.0
    q1 = one_window(punches, staff=staff, period="2026-Q1")
    assert q1.windows[0].attendance_score == 30.0
    # each person's quarter is the mean of their months: (25 + 45 + 45) / 3 and (15 + 45 + 45) / 3
    assert [r.attendance_score for r in q1.staff] == [38.3333, 35.0]


def test_punch_seconds_do_not_count():
    """The punch's clock minute is compared with the due time (as the terminal software does):
    08:39:59 is 9 minutes after 08:30 (fine), 17:20:59 is 10 minutes before 17:30 on the 平湖
    hours (early); 17:21:00 is 9 (fine)."""
    d1, d2 = workdays(D(2026, 5, 11), D(2026, 5, 12))  # outside the winter variant: out 17:30
    p = [
        at(d1, "08:39").replace(second=59),
        at(d1, "11:31"),
        at(d1, "13:25"),
        at(d1, "17:21"),
        at(d2, "08:25"),
        at(d2, "11:31"),
        at(d2, "13:25"),
        at(d2, "17:20").replace(second=59),
    ]
    r = one_window({"1": p}, period="2026-05").staff[0]
    assert [x for x in ded(r) if x[0] != "absence_day"] == [("early", f"{d2.isoformat()}/pm_out", 0.5)]


def test_yihuang_staff_preset_values_are_the_documents():
    p = STAFF_POLICY
    assert (p.subject, p.category, p.max_points, p.overflow, p.period) == ("staff", "勤", 30, "cap", "month")
    # 勤 (2) 旷工1天扣5分，缺勤1次扣1分；(3) 迟到、早退一次扣0.5分
    assert (p.points.late, p.points.early, p.points.absence_day, p.points.missing_punch) == (0.5, 0.5, 5, 1)
    # 勤 (1) 玩电脑游戏、干私活、串岗等现象，每次扣2分
    assert (p.points.unrelated_activity, p.points.roaming, p.points.off_post) == (2, 2, 2)
    # the same 考勤制度 as the window preset
    assert p.day == POLICY.day and p.conversions == POLICY.conversions and p.disqualify == POLICY.disqualify
    # 一、评选对象: 连续上班1年以上的方可参加年度评选
    assert p.min_months_in_year == 12
    assert p.window.red_flags == 0


def test_yihuang_staff_missing_punch_is_absence_and_queqin_only_with_the_override():
    """考勤制度 1 没有打卡算旷工: by default a missing am_out costs its half day (2.5). A window
    that reads a single missing punch as 缺勤 (勤 (2) 缺勤1次扣1分) sets day.missing_punch = "event":
    it then costs 1, while a session with no punch at all stays 旷工 (2.5)."""
    d1, d2 = MARCH[:2]
    p = [x for x in month_punches() if not (x.date() == d1 and x.hour == 11)]
    p = [x for x in p if not (x.date() == d2 and x.hour in (13, 17))]  # whole afternoon missing
    r = one_window({"1": p}, policy=STAFF_POLICY).staff[0]
    assert ded(r) == [
        ("absence_day", f"{d1.isoformat()}/absence-1", 2.5),
        ("absence_day", f"{d2.isoformat()}/absence-2", 2.5),
    ]
    assert r.attendance_score == 25.0
    queqin = resolve_policy("w", "yihuang-staff", {"day": {"missing_punch": "event"}})
    r = one_window({"1": p}, policy=queqin).staff[0]
    assert ded(r) == [
        ("absence_day", f"{d2.isoformat()}/absence-2", 2.5),
        ("missing_punch", f"{d1.isoformat()}/am_out", 1.0),
    ]
    assert (r.missing_punches, r.attendance_score) == (1, 26.5)


def test_yihuang_staff_findings_and_the_30_point_cap():
    """勤 (1): 玩电脑游戏 2 + 考勤制度 2 one early 0.5; then 7 days absent (35) → stops at 30."""
    ins = [Inspection("1", at(MARCH[10], "10:00"), "unrelated_activity", 0, "玩电脑游戏", "X1")]
    r = one_window({"1": month_punches()}, policy=STAFF_POLICY, inspections=ins).staff[0]
    assert ded(r) == sorted(
        [
            ("unrelated_activity", "X1", 2.0),
            ("early", f"{MARCH[10].isoformat()}/off_post+roaming+unrelated_activity-1", 0.5),
        ]
    )
    r = one_window({"1": month_punches(skip=MARCH[:7])}, policy=STAFF_POLICY, inspections=ins).staff[0]
    assert (r.deduction_points, r.attendance_score) == (37.5, 0.0)


def test_yihuang_staff_quarter_is_the_mean_of_its_months():
    """评选办法 四、2 年终评选以每月的评选结果为依据: January 1 late (29.5), February none (30),
    March 2 lates (29) → Q1 (29.5 + 30 + 29) / 3 = 29.5."""
    jan = workdays(D(2026, 1, 1), D(2026, 1, 31))
    feb = workdays(D(2026, 2, 1), D(2026, 2, 28))
    p = month_punches(jan[:1], days_=jan) + month_punches(days_=feb) + month_punches(MARCH[:2])
    r = one_window({"1": p}, policy=STAFF_POLICY, period="2026-Q1").staff[0]
    assert r.attendance_score == 29.5 and r.late_count == 3


def test_yihuang_staff_annual_selection_needs_a_year_in_the_hall():
    """一、评选对象: 连续上班1年以上的方可参加年度评选 — joined 2026-03-01: not in 2026's selection;
    joined 2025-06-01: in it."""
    year = workdays(D(2026, 1, 1), D(2026, 12, 31))
    staff = [Staff("1", "甲", "w", active_from=D(2026, 3, 1)), Staff("2", "乙", "w", active_from=D(2025, 6, 1))]
    p = month_punches(days_=year)
    ev = one_window({"1": p, "2": p}, policy=STAFF_POLICY, period="2026", staff=staff)
    assert {r.staff_no: r.in_assessment for r in ev.staff} == {"1": False, "2": True}
    assert all(r.attendance_score == 30 for r in ev.staff)
