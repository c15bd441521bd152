"""上虞 preset (seed 000), a month of punches for a ten-window hall checked against hand arithmetic.

Seed 000: 绍兴市上虞区便民服务中心《2015年度区便民服务中心窗口服务月考核细则》（虞便〔2015〕13）:

  一、1 窗口服务实行"流动红旗"考核，每月一次，根据考核得分高低，评定前8位为"红旗"窗口
  二、5 工作纪律（10分）… 有以下情况的每起扣0.2—2分：(2)首席代表（窗口负责人）在窗口一线的工作时间
       当月未达到80%；(5)上班迟到早退、中途擅自离岗的；(6)未履行请销假手续的；(8)上班时间玩游戏、…、
       上淘宝（网购）、上网聊天的；(10)在窗口工作区会客、串岗聊天的；(13)其他违反行风效能相关规定的。
  有下列情况之一的，一律取消当月和年度评先资格，并实行倒扣分：…
       7、窗口首席代表（负责人）在窗口一线的工作时间少于80%的，发生一起扣5分。

The preset's defaults (the document gives 0.2–2 a 起): 0.5 for each late, early, 离岗, 串岗, 与工作无关
的活动, 睡岗 and missing punch; 未履行请销假手续 (absence without leave) 2 a day, 1 a half day; the
chief below 80% on site: 5 off the window's total (倒扣 7).

The site (a test config, the document gives no hours): winter 08:30–12:00, 13:30–17:00; summer
(05-01 … 09-30) 08:30–12:00, 14:00–17:30. May 2026: 劳动节 5月1日–5日, 5月9日（周六）上班 — 19 workdays.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import chinese_calendar
import pytest
from scenario import (
    Pattern,
    at,
    attendance_flags,
    evaluate,
    hall_inputs,
    listed_workdays,
    slots,
    timetable,
    variant,
)

from rules import Exemption, Inputs, Inspection, Leave, RulesError, Staff, Substitution, build_timetable, resolve_policy

WINTER = {"am_in": "08:30", "am_out": "12:00", "pm_in": "13:30", "pm_out": "17:00"}
SUMMER = {"am_in": "08:30", "am_out": "12:00", "pm_in": "14:00", "pm_out": "17:30"}
TIMETABLE = timetable(
    slots(WINTER, [("07:00", "10:00"), ("10:01", "12:45"), ("12:46", "15:00"), ("15:01", "21:00")]),
    variant(
        "夏令作息",
        ("05-01", "09-30"),
        slots(SUMMER, [("07:00", "10:00"), ("10:01", "13:00"), ("13:01", "15:30"), ("15:31", "21:00")]),
    ),
)

# 国务院办公厅 2026 年节假日安排: 清明节 4月4日–6日; 劳动节 5月1日–5日, 5月9日（周六）上班.
HOLIDAYS = {date(2026, 4, 6), date(2026, 5, 1), date(2026, 5, 4), date(2026, 5, 5)}
MAKEUP = {date(2026, 5, 9)}
D = date

# On-time punches every workday of the lists above (in 3–14 min early, out 1–9 min late):
# workdays(start, end) and punches(no, start, end, changes, away).
HALL = Pattern(WINTER, summer=SUMMER, jitter=True, is_workday=listed_workdays(HOLIDAYS, MAKEUP))
workdays, punches = HALL.workdays, HALL.punches


MAY_START, MAY_END = D(2026, 5, 1), D(2026, 5, 31)

WINDOWS = {
    "gongan": "公安窗口",
    "shuiwu": "税务窗口",
    "shichang": "市场监管窗口",
    "renshe": "人社窗口",
    "yibao": "医保窗口",
    "gongjijin": "公积金窗口",
    "budongchan": "不动产窗口",
    "zhujian": "住建窗口",
    "minzheng": "民政窗口",
    "jiaotong": "交通窗口",
}


def site_inputs(overrides: dict | None = None) -> Inputs:
    p = resolve_policy("hall", "shangyu", overrides)
    staff = [
        Staff("101", "陈建国", "gongan", role="chief"),
        Staff("102", "王芳", "gongan"),
        Staff("103", "李明", "gongan"),
        Staff("201", "赵敏", "shuiwu", role="chief"),
        Staff("202", "孙伟", "shuiwu"),
        Staff("301", "吴强", "shichang", role="chief"),
        Staff("302", "郑丽", "shichang"),
        Staff("401", "钱进", "renshe", role="chief"),
        Staff("501", "冯雪", "yibao", role="chief"),
        Staff("601", "褚明", "gongjijin", role="chief"),
        Staff("701", "卫东", "budongchan", role="chief"),
        Staff("801", "蒋华", "zhujian", role="chief"),
        Staff("851", "沈悦", "minzheng", role="chief"),
        Staff("861", "韩冰", "jiaotong", role="chief"),
    ]
    may = lambda no, changes=None, away=frozenset(): punches(no, MAY_START, MAY_END, changes, away)  # noqa: E731
    pun = {
        # 101 chief: 年休假 05-11 … 05-13, 公假 (区里开会) 05-20 — 4 of 19 days away from the window.
        "101": may("101", away={D(2026, 5, 11), D(2026, 5, 12), D(2026, 5, 13), D(2026, 5, 20)}),
        # 102: late 11 min (05-07), late 6 min on the 5月9日 make-up Saturday; 病假 05-14 … 05-15.
        "102": may(
            "102",
            {D(2026, 5, 7): {"am_in": "08:41:10"}, D(2026, 5, 9): {"am_in": "08:36:00"}},
            away={D(2026, 5, 14), D(2026, 5, 15)},
        ),
        # 103: found 串岗聊天 on 05-14 (inspection I1).
        "103": may("103"),
        # 201 chief: 年休假 05-25 … 05-27 (3 days away: 16 of 19 on site); pm_out 17:20 on 05-29 (early 10).
        "201": may(
            "201", {D(2026, 5, 29): {"pm_out": "17:20:00"}}, away={D(2026, 5, 25), D(2026, 5, 26), D(2026, 5, 27)}
        ),
        # 202: at training 05-18 … 05-19, 顶岗 by 902; no pm_out on 05-12; no am_in on 05-13 (补卡 E1);
        # found 中途擅自离岗 on 05-26 (I2).
        "202": may(
            "202",
            {D(2026, 5, 12): {"pm_out": None}, D(2026, 5, 13): {"am_in": None}},
            away={D(2026, 5, 18), D(2026, 5, 19)},
        ),
        # 902: 202's A/B-post colleague from 区税务局; 15 min late on 05-19 while covering.
        "902": punches("902", D(2026, 5, 18), D(2026, 5, 19), {D(2026, 5, 19): {"am_in": "08:45:00"}}),
        # 301 chief: 事假 the afternoon of 05-08 (present in the morning).
        "301": may("301", {D(2026, 5, 8): {"pm_in": None, "pm_out": None}}),
        # 302: 中途请假 05-21 15:00–16:00; found asleep 05-27 (I3); away all 05-28 with no leave.
        "302": may("302", away={D(2026, 5, 28)}),
        "401": may("401", {D(2026, 5, 12): {"am_in": "08:33:00"}}),
        # 501 punches pm_in at 13:50 every day: on time on summer hours (14:00)
        "501": [
            p
            for d in workdays(MAY_START, MAY_END)
            for p in (at(d, "08:20"), at(d, "12:05"), at(d, "13:50"), at(d, "17:35"))
        ],
        "601": may("601"),
        "701": may("701", {D(2026, 5, 6): {"am_in": "08:40:00"}, D(2026, 5, 21): {"am_in": "08:35:00"}}),
        "801": may("801", {D(2026, 5, 15): {"am_out": "11:50:00"}, D(2026, 5, 22): {"pm_out": None}}),
        "851": may("851", {D(2026, 5, 8): {"am_in": "08:45:00"}, D(2026, 5, 18): {"am_in": "08:31:00"}}),
        "861": may(
            "861",
            {
                D(2026, 5, 14): {"pm_in": None, "pm_out": None},
                D(2026, 5, 6): {"am_in": "08:32:00"},
                D(2026, 5, 7): {"am_in": "08:33:00"},
                D(2026, 5, 11): {"am_in": "08:34:00"},
                D(2026, 5, 25): {"am_in": "08:35:00"},
            },
        ),
    }
    # someone came in on the 5月4日 holiday: punches on a holiday cost and count nothing
    pun["601"] += [at(D(2026, 5, 4), "09:05"), at(D(2026, 5, 4), "11:10")]
    return hall_inputs(
        WINDOWS,
        p,
        "shangyu-hall",
        TIMETABLE,
        staff=staff,
        punches=pun,
        # the tests below check 一、1's top 8 on the attendance ranking: a centre that opts in to that
        ranking_groups=attendance_flags(WINDOWS),
        leaves=[
            Leave("101", "annual", datetime(2026, 5, 11, 8, 30), datetime(2026, 5, 13, 17, 30), "L1"),
            Leave("101", "official", datetime(2026, 5, 20, 8, 30), datetime(2026, 5, 20, 17, 30), "L2", "区里开会"),
            Leave("102", "sick", datetime(2026, 5, 14, 8, 30), datetime(2026, 5, 15, 17, 30), "L3"),
            Leave("201", "annual", datetime(2026, 5, 25, 8, 30), datetime(2026, 5, 27, 17, 30), "L4"),
            Leave("301", "personal", datetime(2026, 5, 8, 14, 0), datetime(2026, 5, 8, 17, 30), "L5"),
            Leave("302", "midday", datetime(2026, 5, 21, 15, 0), datetime(2026, 5, 21, 16, 0), "L6"),
        ],
        exemptions=[Exemption("202", D(2026, 5, 13), "am_in", "人脸识别失败，值班长证明", "E1")],
        inspections=[
            Inspection("103", datetime(2026, 5, 14, 10, 15), "roaming", 0, "串岗聊天", "I1"),
            Inspection("202", datetime(2026, 5, 26, 10, 30), "off_post", 40, "中途擅自离岗", "I2"),
            Inspection("302", datetime(2026, 5, 27, 14, 20), "sleeping", 0, "趴桌睡觉", "I3"),
            Inspection("851", datetime(2026, 5, 20, 9, 40), "unrelated_activity", 0, "上淘宝网购", "I4"),
        ],
        substitutions=[Substitution("902", "202", D(2026, 5, 18), D(2026, 5, 19), "S1")],
    )


@pytest.fixture(scope="module")
def may():
    return evaluate(site_inputs(), "2026-05")


def _ded(rows):
    return [(x.staff_no, x.day, x.rule, x.ref, x.points) for x in rows]


def test_calendar_lists_agree_with_chinesecalendar():
    days = workdays(D(2026, 4, 1), D(2026, 5, 31))
    d = D(2026, 4, 1)
    while d <= D(2026, 5, 31):
        assert chinese_calendar.is_workday(d) == (d in days), d
        d += timedelta(days=1)
    # May 2026: 6, 7, 8, 9 (Sat), 11–15, 18–22, 25–29 = 4 + 5 + 5 + 5 = 19
    assert len(workdays(MAY_START, MAY_END)) == 19


def test_preset_transcribes_the_document():
    p = resolve_policy("hall", "shangyu")
    # 二、5 工作纪律（10分）; 一、1 每月一次 … 前8位为"红旗"窗口
    assert (p.subject, p.category, p.max_points, p.period, p.overflow) == ("window", "工作纪律", 10, "month", "cap")
    assert (p.window.aggregate, p.window.red_flags) == ("sum_of_staff", 8)
    # 每起扣0.2—2分: default 0.5 for every ordinary event, each inside the range
    pts = p.points
    ordinary = (pts.late, pts.early, pts.off_post, pts.roaming, pts.unrelated_activity, pts.sleeping, pts.missing_punch)
    assert ordinary == (0.5,) * 7
    # (6) 未履行请销假手续: 2 a day (the range's top), 1 a half day — more than one missing punch
    assert pts.absence_day == 2 and 0.2 <= pts.absence_day <= 2 and pts.absence_day / 2 > pts.missing_punch
    assert p.day.missing_punch == "event" and p.day.grace_minutes == 0
    # 倒扣 7: 首席代表在窗口一线的工作时间少于80%的，发生一起扣5分
    assert (p.window.chief_onsite_min, p.window.chief_offsite_points) == (0.8, 5)
    assert p.disqualify == [] and p.leave_limits == []


def test_month_deductions_each_window(may):
    w = {x.window: x for x in may.windows}
    # 公安: 102 late 11 min (05-07) and 6 min on the 5月9日 make-up Saturday — (5) 上班迟到, 0.5 each;
    # 103 串岗聊天 — (10), 0.5; 102's 病假 and 101's 年休假 / 公假 cost nothing;
    # the chief on site 15 of 19 days (4 days of leave away) < 80% — 倒扣 7, 5.
    assert _ded(w["gongan"].deductions) == [
        ("102", D(2026, 5, 7), "late", "2026-05-07/am_in", 0.5),
        ("102", D(2026, 5, 9), "late", "2026-05-09/am_in", 0.5),
        ("103", D(2026, 5, 14), "roaming", "I1", 0.5),
        ("101", None, "chief_offsite", "2026-05/chief-onsite", 5),
    ]
    assert w["gongan"].deductions[-1].evidence == "首席代表 2026-05 在岗 15/19 天（79%），低于 80%"
    # 税务: 201 early 10 min (05-29); 202: missing pm_out 05-12 (0.5), the substitute 902's 15 min late on
    # 05-19 counts for 202 (顶岗, 0.5), 中途擅自离岗 05-26 (0.5); the 05-13 am_in with 补卡 costs nothing.
    # The chief on site 16 of 19 days (3 days of 年休假): 84% ≥ 80%, no 倒扣.
    assert _ded(w["shuiwu"].deductions) == [
        ("201", D(2026, 5, 29), "early", "2026-05-29/pm_out", 0.5),
        ("202", D(2026, 5, 12), "missing_punch", "2026-05-12/pm_out", 0.5),
        ("202", D(2026, 5, 19), "late", "2026-05-19/am_in", 0.5),
        ("202", D(2026, 5, 26), "off_post", "I2", 0.5),
    ]
    # 市场监管: 302 asleep (13) 0.5; away all 05-28 without leave — (6) 未履行请销假手续: two half days,
    # 1 each; 301's 事假 afternoon and 302's 中途请假 cost nothing.
    assert _ded(w["shichang"].deductions) == [
        ("302", D(2026, 5, 27), "sleeping", "I3", 0.5),
        ("302", D(2026, 5, 28), "absence_day", "2026-05-28/absence-1", 1),
        ("302", D(2026, 5, 28), "absence_day", "2026-05-28/absence-2", 1),
    ]
    assert w["shichang"].deductions[1].evidence == "全天无打卡"
    assert _ded(w["yibao"].deductions) == [] and _ded(w["gongjijin"].deductions) == []
    assert _ded(w["renshe"].deductions) == [("401", D(2026, 5, 12), "late", "2026-05-12/am_in", 0.5)]
    assert _ded(w["zhujian"].deductions) == [
        ("801", D(2026, 5, 15), "early", "2026-05-15/am_out", 0.5),
        ("801", D(2026, 5, 22), "missing_punch", "2026-05-22/pm_out", 0.5),
    ]
    assert _ded(w["minzheng"].deductions) == [
        ("851", D(2026, 5, 8), "late", "2026-05-08/am_in", 0.5),
        ("851", D(2026, 5, 18), "late", "2026-05-18/am_in", 0.5),
        ("851", D(2026, 5, 20), "unrelated_activity", "I4", 0.5),
    ]
    # 交通: four lates and an afternoon away without leave (1): 4 × 0.5 + 1 = 3
    assert _ded(w["jiaotong"].deductions) == [
        ("861", D(2026, 5, 6), "late", "2026-05-06/am_in", 0.5),
        ("861", D(2026, 5, 7), "late", "2026-05-07/am_in", 0.5),
        ("861", D(2026, 5, 11), "late", "2026-05-11/am_in", 0.5),
        ("861", D(2026, 5, 14), "absence_day", "2026-05-14/absence-2", 1),
        ("861", D(2026, 5, 25), "late", "2026-05-25/am_in", 0.5),
    ]


def test_month_window_scores_ranking_and_red_flags(may):
    w = {x.window: x for x in may.windows}
    # score = 10 − min(Σ staff deductions, 10) − 5 if the chief was on site < 80%:
    #   公安 10 − 1.5 − 5 = 3.5     税务 10 − 2 = 8       市场监管 10 − 2.5 = 7.5
    #   人社 9.5   医保 10   公积金 10   不动产 10 − 1 = 9   住建 10 − 1 = 9   民政 10 − 1.5 = 8.5   交通 10 − 3 = 7
    expect = {
        "gongan": 3.5,
        "shuiwu": 8.0,
        "shichang": 7.5,
        "renshe": 9.5,
        "yibao": 10.0,
        "gongjijin": 10.0,
        "budongchan": 9.0,
        "zhujian": 9.0,
        "minzheng": 8.5,
        "jiaotong": 7.0,
    }
    assert {k: x.attendance_score for k, x in w.items()} == expect
    # ranking (ties share a rank): 医保 1, 公积金 1, 人社 3, 不动产 4, 住建 4, 民政 6, 税务 7, 市场监管 8,
    # 交通 9, 公安 10 — without the chief's 5 公安 would have 8.5 and a red flag.
    assert {k: x.rank for k, x in w.items()} == {
        "yibao": 1,
        "gongjijin": 1,
        "renshe": 3,
        "budongchan": 4,
        "zhujian": 4,
        "minzheng": 6,
        "shuiwu": 7,
        "shichang": 8,
        "jiaotong": 9,
        "gongan": 10,
    }
    # 一、1 评定前8位为"红旗"窗口
    assert {k for k, x in w.items() if x.red_flag} == {
        "yibao",
        "gongjijin",
        "renshe",
        "budongchan",
        "zhujian",
        "minzheng",
        "shuiwu",
        "shichang",
    }
    # chief on site: 公安 15/19 = 0.7895, 税务 16/19 = 0.8421, everyone else 19/19
    assert w["gongan"].chief_onsite_ratio == 0.7895
    assert w["shuiwu"].chief_onsite_ratio == 0.8421
    assert all(w[k].chief_onsite_ratio == 1.0 for k in w if k not in ("gongan", "shuiwu"))
    assert (w["gongan"].staff_count, w["shuiwu"].staff_count, w["shichang"].staff_count) == (3, 2, 2)
    assert all(x.max_points == 10 and x.period_key == "2026-05" for x in may.windows)


def test_month_staff_results(may):
    r = {x.staff_no: x for x in may.staff}
    assert all(x.scheduled_days == 19 for x in r.values())
    # the chief's four days of leave: 3 年休假 + 1 公假 (other leave), not present
    assert (r["101"].other_leave_days, r["101"].present_days, r["101"].deduction_points) == (4.0, 15, 0)
    assert (r["102"].sick_leave_days, r["102"].late_count, r["102"].attendance_score) == (2.0, 2, 9.0)
    assert (r["201"].other_leave_days, r["201"].present_days) == (3.0, 16)
    # 202: 顶岗 days count as present (the substitute punched); 补卡 excused
    assert (r["202"].present_days, r["202"].excused_punches, r["202"].missing_punches, r["202"].off_post_count) == (
        19,
        1,
        1,
        1,
    )
    # 202 alone: missing 0.5 + late (the substitute's) 0.5 + 离岗 0.5 = 1.5 → 8.5
    assert (r["202"].late_count, r["202"].attendance_score) == (1, 8.5)
    assert (r["301"].personal_leave_days, r["301"].present_days) == (0.5, 19)
    assert (r["302"].absent_days, r["302"].midday_leave_count, r["302"].present_days) == (1.0, 1, 18)
    assert r["302"].attendance_score == 7.5
    assert (r["861"].absent_days, r["861"].late_count) == (0.5, 4)
    assert not any(x.disqualified for x in r.values())


def test_summer_hours_apply_from_may():
    """501 punches pm_in at 13:50: late on 30 April (winter hours, 13:30), on time on 6 May (summer, 14:00)."""
    p = resolve_policy("hall", "shangyu")
    tt = build_timetable("t", TIMETABLE)
    days = [D(2026, 4, 30), D(2026, 5, 6)]
    inp = Inputs(
        staff=[Staff("501", "冯雪", "yibao", role="chief", active_from=days[0], active_to=days[1])],
        punches={"501": [at(d, t) for d in days for t in ("08:20", "12:05", "13:50", "17:35")]},
        windows={"yibao": "医保窗口"},
        policies={"yibao": p},
        timetables={"t": tt},
        window_timetable={"yibao": "t"},
    )
    april = evaluate(inp, "2026-04")
    assert [(x.day, x.rule, x.points, x.evidence) for x in april.staff[0].deductions] == [
        (D(2026, 4, 30), "late", 0.5, "打卡 13:50:00（应 13:30，迟到 20 分钟）")
    ]
    may_ = evaluate(inp, "2026-05")
    assert may_.staff[0].deductions == [] and may_.staff[0].scheduled_days == 1  # 05-06 only (1–5 is 劳动节)


def test_chief_clause_of_the_item_by_override():
    # a centre that applies 二、5 (2) (0.2—2 a 起, here 0.5) instead of 倒扣 7 overrides the points:
    # 公安 10 − 1.5 − 0.5 = 8.0, tied 7th with 税务 — both red; 市场监管 (7.5) drops to 9th.
    ev = evaluate(site_inputs({"window.chief_offsite_points": 0.5}), "2026-05")
    w = {x.window: x for x in ev.windows}
    assert w["gongan"].attendance_score == 8.0
    assert (w["gongan"].rank, w["shuiwu"].rank, w["shichang"].rank) == (7, 7, 9)
    assert w["gongan"].red_flag and not w["shichang"].red_flag
    assert sum(x.red_flag for x in ev.windows) == 8


def test_item_stops_at_ten_before_the_chief_deduction():
    """扣完为止 within the 10-point item; the chief's 倒扣 7 comes off beyond it (并实行倒扣分)."""
    p = resolve_policy("hall", "shangyu")
    tt = build_timetable("t", TIMETABLE)
    # a one-person window whose chief is late (08:40, 10 min) on the first 15 workdays from 05-06
    late_days = workdays(D(2026, 5, 6), D(2026, 5, 26))[:15]  # 05-06 … 05-25
    away = {D(2026, 5, 27), D(2026, 5, 28)}

    def run(away_days):
        inp = Inputs(
            staff=[Staff("1", "甲", "w", role="chief")],
            punches={"1": punches("1", MAY_START, MAY_END, {d: {"am_in": "08:40"} for d in late_days}, away=away_days)},
            windows={"w": "窗口"},
            policies={"w": p},
            timetables={"t": tt},
            window_timetable={"w": "t"},
        )
        return evaluate(inp, "2026-05")

    # 15 lates × 0.5 + 2 days away without leave × 2 = 7.5 + 4 = 11.5 > 10 → the item gives 0;
    # on site 17 of 19 = 89% ≥ 80% → no 倒扣
    ev = run(away)
    assert ev.staff[0].deduction_points == 11.5
    assert (ev.windows[0].attendance_score, ev.windows[0].chief_onsite_ratio) == (0.0, 0.8947)
    # away 05-25 … 05-29 instead (5 days): 14 lates × 0.5 + 5 × 2 = 17 → 0; on site 14 of 19 = 74% → −5
    ev = run({D(2026, 5, 25), D(2026, 5, 26), *away, D(2026, 5, 29)})
    assert ev.staff[0].deduction_points == 17
    assert ev.windows[0].attendance_score == -5.0
    assert ev.windows[0].chief_onsite_ratio == round(14 / 19, 4)


def test_bad_override_names_its_key_path():
    with pytest.raises(RulesError) as exc:
        resolve_policy("x", "shangyu", {"window": {"chief_onsite_min": 80}})
    assert exc.value.path == "policies.x.window.chief_onsite_min"
    with pytest.raises(RulesError) as exc:
        resolve_policy("x", "shangyu", {"window": {"aggregate": "sum"}})
    assert exc.value.path == "policies.x.window.aggregate"


def test_unknown_preset_names_its_key_path():
    with pytest.raises(RulesError) as exc:
        resolve_policy("x", "shangyu-2015")
    assert exc.value.path == "policies.x.preset"
