"""三江 preset (seed 001), a half-year of punches checked against hand arithmetic.

Seed 001:《三江侗族自治县2022年"优秀政务服务工作者"、"优质服务窗口"、"政务服务标杆大厅"评选活动方案》,
附件1《三江县"优秀政务服务工作者"考评标准及评分细则》:

  一、工作纪律（25分）
    1.无故迟到、早退、离岗的，每次扣5分（以考勤记录、请假记录为准，迟到早退超过1.5小时的按旷工处理）。
    2.工作时间内做化妆、串岗聊天、…、睡觉、…等与工作无关的活动 …，每次扣5分。
  五、一票否决（出现以下情形之一，取消本次评比资格）2.出现空岗或旷工。
  方案 三、(一) 优秀政务服务工作者。每半年评比一次。

The site (a test config, the document gives no hours): a 广西 hall with winter hours 08:00–12:00,
14:30–17:30 and summer hours (05-01 … 09-30) 08:00–12:00, 15:00–18:00; three windows; the 2026
statutory calendar. Everyone punches on time every workday except for the events listed per person.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import chinese_calendar
import pytest
from scenario import (
    GX_HALL,
    GX_TIMETABLE,
    at,
    attendance_flags,
    evaluate,
    hall_inputs,
)

from rules import Exemption, Inputs, Inspection, Leave, RulesError, Staff, Substitution, build_timetable, resolve_policy

# --- the site ----------------------------------------------------------------------------

# The 广西 hall's hours (scenario.GX_TIMETABLE) and 2026 January–June holiday lists; on-time punches
# (in 3–14 min early, out 1–9 min late) every workday of them: workdays(start, end) and
# punches(no, start, end, changes, away, extra).
TIMETABLE = GX_TIMETABLE
workdays, punches = GX_HALL.workdays, GX_HALL.punches


H1_START, H1_END = date(2026, 1, 1), date(2026, 6, 30)
D = date


def site_inputs(policy_overrides: dict | None = None) -> Inputs:
    p = resolve_policy("hall", "sanjiang", policy_overrides)
    staff = [
        Staff("101", "韦丽", "gongan", role="chief"),
        Staff("102", "吴刚", "gongan"),
        Staff("103", "覃海", "gongan"),
        Staff("201", "杨梅", "shuiwu", role="chief"),
        Staff("202", "石磊", "shuiwu"),
        Staff("301", "龙芳", "shichang", role="chief"),
        Staff("302", "潘军", "shichang"),
    ]
    pun = {
        # 101: late 7 min on the 1月4日 make-up Sunday, late 12 min on 03-10; came in on the 2月17日
        # holiday (punches on a holiday cost nothing); punched twice at 03-11 am_in and am_out.
        "101": punches(
            "101",
            H1_START,
            H1_END,
            {
                D(2026, 1, 4): {"am_in": "08:07:10"},
                D(2026, 3, 10): {"am_in": "08:12:40"},
                D(2026, 3, 11): {"am_in": "07:51:00", "am_out": "12:01:00"},
            },
            extra=[
                at(D(2026, 2, 17), "09:12"),
                at(D(2026, 2, 17), "11:40"),
                at(D(2026, 3, 11), "07:51:30"),
                at(D(2026, 3, 11), "12:06:00"),
            ],
        ),
        # 102: late 89 min (03-16), late 91 min (03-17), early by exactly 90 min in summer (06-02).
        "102": punches(
            "102",
            H1_START,
            H1_END,
            {
                D(2026, 3, 16): {"am_in": "09:29:05"},
                D(2026, 3, 17): {"am_in": "09:31:20"},
                D(2026, 6, 2): {"pm_out": "16:30:10"},
            },
        ),
        # 103: no punches at all on the 2月28日 make-up Saturday; 年休假 02-24 … 02-27.
        "103": punches("103", H1_START, H1_END, away={D(2026, 2, 28), *(D(2026, 2, d) for d in (24, 25, 26, 27))}),
        # 201: 病假 03-02 … 03-04; 中途请假 03-18 10:30–12:30 (no am_out punch); pm_in 14:50 on 04-30
        # (winter: late 20) and on 05-06 (summer: on time); pm_out 17:45 on 05-07 (summer: early 15).
        "201": punches(
            "201",
            H1_START,
            H1_END,
            {
                D(2026, 3, 18): {"am_out": None},
                D(2026, 4, 30): {"pm_in": "14:50:30"},
                D(2026, 5, 6): {"pm_in": "14:50:30"},
                D(2026, 5, 7): {"pm_out": "17:45:00"},
            },
            away={D(2026, 3, 2), D(2026, 3, 3), D(2026, 3, 4)},
        ),
        # 202: pm_out missing 01-20 (补卡, terminal fault); am_out missing 03-25 (no proof);
        # pm_out 17:00 on 03-26 (early 30); 事假 half a day 04-08 morning.
        "202": punches(
            "202",
            H1_START,
            H1_END,
            {
                D(2026, 1, 20): {"pm_out": None},
                D(2026, 3, 25): {"am_out": None},
                D(2026, 3, 26): {"pm_out": "17:00:15"},
                D(2026, 4, 8): {"am_in": None, "am_out": None},
            },
        ),
        # 301: away at training 05-12 … 05-13, 顶岗 by 901 (no punches of her own those days).
        "301": punches("301", H1_START, H1_END, away={D(2026, 5, 12), D(2026, 5, 13)}),
        # 901: the A/B-post colleague from 市场监管局; late 20 min on 05-13 while covering 301.
        "901": punches("901", D(2026, 5, 12), D(2026, 5, 13), {D(2026, 5, 13): {"am_in": "08:20:00"}}),
        # 302: late 25 min (04-14), late 3 min (05-19, summer), early 20 min at am_out (06-10).
        "302": punches(
            "302",
            H1_START,
            H1_END,
            {
                D(2026, 4, 14): {"am_in": "08:25:00"},
                D(2026, 5, 19): {"am_in": "08:03:00"},
                D(2026, 6, 10): {"am_out": "11:40:00"},
            },
        ),
    }
    return hall_inputs(
        {"gongan": "公安窗口", "shuiwu": "税务窗口", "shichang": "市场监管窗口"},
        p,
        "sanjiang-hall",
        TIMETABLE,
        staff=staff,
        punches=pun,
        leaves=[
            Leave("103", "annual", datetime(2026, 2, 24, 8, 0), datetime(2026, 2, 27, 18, 0), "L1"),
            Leave("201", "sick", datetime(2026, 3, 2, 8, 0), datetime(2026, 3, 4, 18, 0), "L2"),
            Leave("201", "midday", datetime(2026, 3, 18, 10, 30), datetime(2026, 3, 18, 12, 30), "L3"),
            Leave("202", "personal", datetime(2026, 4, 8, 8, 0), datetime(2026, 4, 8, 12, 0), "L4"),
        ],
        exemptions=[Exemption("202", D(2026, 1, 20), "pm_out", "考勤机故障，值班长证明", "E1")],
        inspections=[
            Inspection("201", datetime(2026, 4, 15, 10, 20), "roaming", 0, "串岗聊天", "I1"),
            Inspection("302", datetime(2026, 1, 13, 15, 10), "off_post", 60, "离岗未请假", "I2"),
            Inspection("302", datetime(2026, 2, 5, 10, 40), "unrelated_activity", 0, "玩手机游戏", "I3"),
            Inspection("302", datetime(2026, 3, 19, 15, 20), "sleeping", 0, "趴桌睡觉", "I4"),
        ],
        substitutions=[Substitution("901", "301", D(2026, 5, 12), D(2026, 5, 13), "S1")],
    )


@pytest.fixture(scope="module")
def h1():
    return evaluate(site_inputs(), "2026-H1")


def _by_no(ev):
    return {r.staff_no: r for r in ev.staff}


def _ded(r):
    return [(x.day, x.rule, x.ref, x.points) for x in r.deductions]


# --- the preset ---------------------------------------------------------------------------


def test_calendar_lists_agree_with_chinesecalendar():
    # 2026 January–June: 21 + 16 + 22 + 21 + 19 + 21 = 120 workdays
    days = workdays(H1_START, H1_END)
    assert len(days) == 120
    d = H1_START
    while d <= H1_END:
        assert chinese_calendar.is_workday(d) == (d in days), d
        d += timedelta(days=1)


def test_preset_transcribes_the_document():
    p = resolve_policy("hall", "sanjiang")
    # 一、工作纪律 分值 25; 方案 三、(一) 每半年评比一次
    assert (p.category, p.max_points, p.period, p.overflow, p.subject) == ("工作纪律", 25, "half", "cap", "staff")
    # 一、1 无故迟到、早退、离岗的，每次扣5分; 一、2 串岗聊天 … 睡觉 … 与工作无关的活动 每次扣5分
    pts = p.points
    assert (pts.late, pts.early, pts.off_post) == (5, 5, 5)
    assert (pts.roaming, pts.sleeping, pts.unrelated_activity) == (5, 5, 5)
    # no number for 旷工 in the document: 20 a day, so that half a day costs what a late and an early
    # in one session cost (5 + 5), and a missing punch (10) what the 旷工 it may hide costs
    assert pts.absence_day * 0.5 >= pts.late + pts.early and pts.missing_punch >= pts.absence_day * 0.5
    # 一、1 迟到早退超过1.5小时的按旷工处理
    assert p.day.absence_after_minutes == 90
    # 五、一票否决 2. 出现空岗或旷工 — any absence in the half-year
    [rule] = p.disqualify
    assert (rule.measure, rule.op, rule.value, rule.per, rule.effect) == (
        ["absence_count"],
        ">",
        0,
        "half",
        "disqualified",
    )
    assert p.leave_limits == [] and p.conversions == [] and p.grades == []


# --- the half-year --------------------------------------------------------------------------


def test_half_year_deductions_each_with_its_evidence(h1):
    r = _by_no(h1)
    # 101 韦丽: 一、1 无故迟到 每次扣5分 — 7 min late on the 1月4日 make-up Sunday, 12 min on 03-10.
    # Her punches on the 2月17日 holiday and the double punches on 03-11 cost nothing.
    assert _ded(r["101"]) == [
        (D(2026, 1, 4), "late", "2026-01-04/am_in", 5),
        (D(2026, 3, 10), "late", "2026-03-10/am_in", 5),
    ]
    # 102 吴刚: 89 min late is a late (5); 91 min is "迟到…超过1.5小时的按旷工处理": half a day of 旷工
    # = 0.5 × 20 = 10; leaving 90 min early (06-02, summer pm_out 18:00 → 16:30) is not "超过1.5小时": early 5.
    assert _ded(r["102"]) == [
        (D(2026, 3, 16), "late", "2026-03-16/am_in", 5),
        (D(2026, 3, 17), "absence_day", "2026-03-17/absence-1", 10),
        (D(2026, 6, 2), "early", "2026-06-02/pm_out", 5),
    ]
    absence = r["102"].deductions[1]
    assert absence.slot == "am_in"
    assert absence.evidence == "打卡 09:31:20（应 08:00，迟到 91 分钟） 超过 90 分钟按旷工"
    assert r["102"].deductions[0].evidence == "打卡 09:29:05（应 08:00，迟到 89 分钟）"
    # 103 覃海: no punches on the 2月28日 make-up Saturday — a whole day of 旷工; each session with
    # neither punch costs its two missing punches (10 + 10), so 2 × 20 = 40;
    # 年休假 02-24 … 02-27 costs nothing.
    assert _ded(r["103"]) == [
        (D(2026, 2, 28), "punch_absence", "2026-02-28/absence-1", 20),
        (D(2026, 2, 28), "punch_absence", "2026-02-28/absence-2", 20),
    ]
    assert r["103"].deductions[0].evidence == "全天无打卡，视同旷工"
    # 201 杨梅: 串岗聊天 (一、2) 5; pm_in 14:50 on 04-30 is 20 min late on winter hours (5); the same
    # 14:50 on 05-06 is on time on summer hours (15:00); pm_out 17:45 on 05-07 leaves 15 min before
    # the summer 18:00 (5). 病假 and 中途请假 (请假记录) cost nothing.
    assert _ded(r["201"]) == [
        (D(2026, 4, 15), "roaming", "I1", 5),
        (D(2026, 4, 30), "late", "2026-04-30/pm_in", 5),
        (D(2026, 5, 7), "early", "2026-05-07/pm_out", 5),
    ]
    assert r["201"].deductions[1].evidence == "打卡 14:50:30（应 14:30，迟到 20 分钟）"
    assert r["201"].deductions[2].evidence == "打卡 17:45:00（应 18:00，早退 15 分钟）"
    # 202 石磊: missing am_out on 03-25 without proof (attendd's default: as the half day of 旷工 it
    # may hide, 10); 17:00 on 03-26 is 30 min early (5); the 01-20 pm_out with 补卡 and the 事假
    # morning cost nothing.
    assert _ded(r["202"]) == [
        (D(2026, 3, 25), "missing_punch", "2026-03-25/am_out", 10),
        (D(2026, 3, 26), "early", "2026-03-26/pm_out", 5),
    ]
    # 301 龙芳: 顶岗 by 901 on 05-12 … 05-13 — the substitute's 08:20 on 05-13 is her late (5).
    assert _ded(r["301"]) == [(D(2026, 5, 13), "late", "2026-05-13/am_in", 5)]
    assert r["301"].deductions[0].evidence == "打卡 08:20:00（应 08:00，迟到 20 分钟）"
    # 302 潘军: 离岗 (一、1), 玩手机游戏 and 睡觉 (一、2), two lates and an early: 6 × 5 = 30.
    assert _ded(r["302"]) == [
        (D(2026, 1, 13), "off_post", "I2", 5),
        (D(2026, 2, 5), "unrelated_activity", "I3", 5),
        (D(2026, 3, 19), "sleeping", "I4", 5),
        (D(2026, 4, 14), "late", "2026-04-14/am_in", 5),
        (D(2026, 5, 19), "late", "2026-05-19/am_in", 5),
        (D(2026, 6, 10), "early", "2026-06-10/am_out", 5),
    ]
    assert r["302"].deductions[0].evidence == "巡查 15:10 off_post 60 分钟：离岗未请假"


def test_half_year_scores_counts_and_one_vote_veto(h1):
    r = _by_no(h1)
    # score = 25 − deductions, stopping at 25 (扣完为止)
    #   101: 25 − 10 = 15      102: 25 − 20 = 5      103: 25 − min(40, 25) = 0
    #   201: 25 − 15 = 10      202: 25 − 15 = 10
    #   301: 25 − 5 = 20       302: 25 − min(30, 25) = 0
    expect = {
        "101": (10, 15),
        "102": (20, 5),
        "103": (40, 0),
        "201": (15, 10),
        "202": (15, 10),
        "301": (5, 20),
        "302": (30, 0),
    }
    for no, (points, score) in expect.items():
        assert (r[no].deduction_points, r[no].attendance_score, r[no].max_points) == (points, score, 25), no
        assert (r[no].period_kind, r[no].period_key, r[no].policy) == ("half", "2026-H1", "hall")
        assert r[no].scheduled_days == 120, no  # leave and 顶岗 days are scheduled days
        assert r[no].grade is None  # the document grades nobody on this item
    # 五、一票否决 2. 出现旷工 → 取消本次评比资格: 102 (half a day, 03-17) and 103 (the whole 02-28,
    # one occurrence); nobody else, however many points they lost (302 has 0 points left).
    reason = "出现旷工，取消本次评比资格（附件1 五、一票否决 2）（2026-H1：1）"
    assert r["102"].disqualify_reasons == [reason]
    assert r["103"].disqualify_reasons == [reason]
    assert {no for no, x in r.items() if x.disqualified} == {"102", "103"}
    # counts
    assert (r["101"].late_count, r["101"].present_days) == (2, 120)
    assert (r["102"].late_count, r["102"].early_count, r["102"].absent_days, r["102"].present_days) == (1, 1, 0.5, 120)
    assert (r["103"].absent_days, r["103"].other_leave_days, r["103"].present_days) == (1.0, 4.0, 115)  # 120 − 1 − 4
    assert (r["201"].sick_leave_days, r["201"].midday_leave_count, r["201"].present_days) == (3.0, 1, 117)
    assert (r["201"].late_count, r["201"].early_count) == (1, 1)
    assert (r["202"].missing_punches, r["202"].excused_punches, r["202"].personal_leave_days) == (1, 1, 0.5)
    assert r["202"].present_days == 120  # the 事假 morning's afternoon was worked
    assert (r["301"].late_count, r["301"].present_days) == (1, 120)
    assert (r["302"].off_post_count, r["302"].late_count, r["302"].early_count) == (1, 2, 1)


def test_window_ranking(h1):
    w = {x.window: x for x in h1.windows}
    # weighted by scheduled days (120 each), i.e. the plain mean here:
    #   公安 (15 + 5 + 0) / 3 = 6.6667;  税务 (10 + 10) / 2 = 10;  市场监管 (20 + 0) / 2 = 10
    assert w["gongan"].attendance_score == 6.6667
    assert w["shuiwu"].attendance_score == 10.0
    assert w["shichang"].attendance_score == 10.0
    assert [(x.window, x.rank) for x in sorted(h1.windows, key=lambda x: (x.rank, x.window))] == [
        ("shichang", 1),
        ("shuiwu", 1),
        ("gongan", 3),
    ]
    assert {x.window: x.staff_count for x in h1.windows} == {"gongan": 3, "shuiwu": 2, "shichang": 2}
    # 优质服务窗口 (8 a half-year) is judged on 附件2, not on this item: no red flag by default
    assert not any(x.red_flag for x in h1.windows)
    assert all(x.max_points == 25 and x.chief_onsite_ratio is None for x in h1.windows)


def test_red_flags_by_override():
    # a centre that marks the attendance ranking's top window opts in (ranking group flags_on) and
    # overrides window.red_flags
    inp = site_inputs({"window": {"red_flags": 2}})
    inp.ranking_groups = attendance_flags(inp.windows)
    ev = evaluate(inp, "2026-H1")
    # 税务 and 市场监管 tie at the top (10): the two flags are theirs
    assert {x.window: x.red_flag for x in ev.windows} == {"gongan": False, "shuiwu": True, "shichang": True}
    # one flag for a tie of two flags nobody (ties are not shared unless the group says so)
    inp = site_inputs({"window": {"red_flags": 1}})
    inp.ranking_groups = attendance_flags(inp.windows)
    assert not any(x.red_flag for x in evaluate(inp, "2026-H1").windows)


def test_monthly_bulletin_march():
    # the monthly 考勤通报 scores March on its own (25 − March's deductions); the 一票否决 counts the
    # half-year from 1 January to the end of March.
    ev = evaluate(site_inputs(), "2026-03")
    r = _by_no(ev)
    # 101: 03-10 late 5 → 20;  102: 03-16 late 5 + 03-17 旷工 half day 10 → 10;  103: nothing in March → 25
    # 201: 病假, 中途请假 → 25;  202: missing 10 + early 5 → 10;  301: 25;  302: 睡觉 5 → 20
    assert {no: x.attendance_score for no, x in r.items()} == {
        "101": 20,
        "102": 10,
        "103": 25,
        "201": 25,
        "202": 10,
        "301": 25,
        "302": 20,
    }
    assert all(x.scheduled_days == 22 for x in r.values())  # March 2026: 22 workdays
    # 103's 2月28日 旷工 already disqualifies him for the half-year in the March bulletin
    assert {no for no, x in r.items() if x.disqualified} == {"102", "103"}


def test_late_or_early_of_more_than_one_and_a_half_hours_is_absence():
    """一、1: 迟到早退超过1.5小时的按旷工处理 — 90 minutes is still a late, 91 is 旷工, and costs no less."""
    p = resolve_policy("hall", "sanjiang")
    tt = build_timetable("t", TIMETABLE)

    def one_day(am_in: str, pm_out: str = "17:35"):
        d = D(2026, 3, 3)
        inp = Inputs(
            staff=[Staff("1", "甲", "w", active_from=d, active_to=d)],
            punches={"1": [at(d, am_in), at(d, "12:02"), at(d, "14:20"), at(d, pm_out)]},
            windows={"w": "窗口"},
            policies={"w": p},
            timetables={"t": tt},
            window_timetable={"w": "t"},
        )
        ev = evaluate(inp, "2026-03")
        day = ev.days["1"][2]
        assert day.day == d
        return ev.staff[0], day

    r89, _ = one_day("09:29")
    r90, _ = one_day("09:30")
    r91, day91 = one_day("09:31")
    assert [(x.rule, x.points) for x in r89.deductions] == [("late", 5)]
    assert [(x.rule, x.points) for x in r90.deductions] == [("late", 5)]
    assert [(x.rule, x.points) for x in r91.deductions] == [("absence_day", 10)]
    assert day91.absent_days == 0.5 and [s.status for s in day91.slots] == ["absent", "ok", "ok", "ok"]
    assert not r90.disqualified and r91.disqualified
    # leaving 91 minutes early (17:30 → 15:59) likewise
    e91, _ = one_day("07:55", "15:59")
    assert [(x.rule, x.ref, x.points) for x in e91.deductions] == [("absence_day", "2026-03-03/absence-2", 10)]


def test_a_forgotten_sign_in_never_makes_an_early_leavers_morning_cheaper():
    """一、1: 无故迟到、早退 … 每次扣5分 … 迟到早退超过1.5小时的按旷工处理. With a sign-in accepted until
    11:00 (罗山's hours), in at 10:25 and out at 11:00 is a late of 90 minutes and an early of 60
    (5 + 5). Without the 10:25 punch, 11:00 is a sign-in 125 minutes late: 旷工 of the morning, which
    the preset prices at half of 20 a day (site default), 10: no less than the late and the early it
    replaces (found by test_one_more_missing_punch_never_makes_a_day_cheaper)."""
    p = resolve_policy("hall", "sanjiang")
    tt = build_timetable(
        "t",
        {
            "slots": [
                {"name": "am_in", "kind": "in", "at": "08:55", "accept": ["06:00", "11:00"]},
                {"name": "am_out", "kind": "out", "at": "12:00", "accept": ["11:01", "12:49"]},
                {"name": "pm_in", "kind": "in", "at": "13:00", "accept": ["12:50", "16:00"]},
                {"name": "pm_out", "kind": "out", "at": "17:00", "accept": ["16:01", "23:59"]},
            ]
        },
    )
    d = D(2026, 3, 3)

    def morning(*times: str):
        inp = Inputs(
            staff=[Staff("1", "甲", "w", active_from=d, active_to=d)],
            punches={"1": [at(d, t) for t in (*times, "12:55", "17:05")]},
            windows={"w": "窗口"},
            policies={"w": p},
            timetables={"t": tt},
            window_timetable={"w": "t"},
        )
        ev = evaluate(inp, "2026-03")
        return sorted((x.rule, x.points) for x in ev.staff[0].deductions), ev.days["1"][2]

    both, day_both = morning("10:25", "11:00")
    alone, day_alone = morning("11:00")
    assert both == [("early", 5), ("late", 5)], day_both.slots
    assert alone == [("absence_day", 10)], day_alone.slots
    assert [s.status for s in day_alone.slots][:2] == ["absent", "missing"]
    assert sum(pts for _, pts in alone) >= sum(pts for _, pts in both)


# --- overrides ----------------------------------------------------------------------------------


def test_bad_override_names_its_key_path():
    with pytest.raises(RulesError) as exc:
        resolve_policy("x", "sanjiang", {"points": {"late": -5}})
    assert exc.value.path == "policies.x.points"
    with pytest.raises(RulesError) as exc:
        resolve_policy("x", "sanjiang", {"day": {"absence_after_minutes": 0}})
    assert exc.value.path == "policies.x.day.absence_after_minutes"


def test_unknown_preset_names_its_key_path():
    with pytest.raises(RulesError) as exc:
        resolve_policy("x", "san-jiang")
    assert exc.value.path == "policies.x.preset"
    assert "sanjiang" in str(exc.value)  # the known names are listed
