"""county-002 preset (seed 002), a quarter of punches checked against hand arithmetic.

Seed 002:《政务服务中心管理制度汇编》—《县政务服务中心部门窗口及窗口工作人员考核办法》:

  一、窗口部门（红旗窗口）每季度对各部门窗口进行一次考核，根据得分高低，前六名评定为"红旗窗口"
  二、(三) 考勤纪律（20分）… 1.自觉遵守政务中心考勤制度，得10分。病事假全年累计超过15天，扣2分；
       迟到、早退每次扣1分；擅自离岗，每次扣1分；旷工每半天扣2分；上班时间有聊天串岗、打瞌睡或外出
       用餐等行为的，每次扣1分。… 上述扣分至小项扣完为止。
  四、有下列情形之一的，取消窗口工作人员当季评优资格：(一)窗口工作人员迟到、早退或上班时间睡觉，
       每月各项合计次数达3次以上，或旷工2次、1次旷工1天以上的

The site (a test config, the document gives no hours): a 广西 hall, winter 08:00–12:00, 14:30–17:30,
summer (05-01 … 09-30) 08:00–12:00, 15:00–18:00; seven windows. Q2 2026: 清明节 4月6日; 劳动节
5月1日–5日, 5月9日（周六）上班; 端午节 6月19日 — 21 + 19 + 21 = 61 workdays. Punches run from
1 January, since 病事假全年累计 counts the whole year.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import chinese_calendar
import pytest
from scenario import (
    GX_HALL,
    GX_TIMETABLE,
    attendance_flags,
    evaluate,
    hall_inputs,
)

from rules import Exemption, Inputs, Inspection, Leave, RulesError, Staff, Substitution, resolve_policy

D = date

# The 广西 hall's hours (scenario.GX_TIMETABLE) and 2026 January–June holiday lists; on-time punches
# (in 3–14 min early, out 1–9 min late) every workday of them: workdays(start, end) and
# punches(no, start, end, changes, away, extra).
TIMETABLE = GX_TIMETABLE
workdays, punches = GX_HALL.workdays, GX_HALL.punches


START, END = D(2026, 1, 1), D(2026, 6, 30)

WINDOWS = {
    "gongan": "公安窗口",
    "shuiwu": "税务窗口",
    "shichang": "市场监管窗口",
    "renshe": "人社窗口",
    "yibao": "医保窗口",
    "budongchan": "不动产窗口",
    "jiaotong": "交通窗口",
}


def site_inputs(overrides: dict | None = None) -> Inputs:
    p = resolve_policy("hall", "county-002", overrides)
    staff = [
        Staff("101", "黄志", "gongan", role="chief"),
        Staff("102", "韦芳", "gongan"),
        Staff("103", "莫军", "gongan"),
        Staff("201", "覃丽", "shuiwu", role="chief"),
        Staff("202", "蓝天", "shuiwu"),
        Staff("203", "石英", "shuiwu"),
        Staff("301", "罗斌", "shichang", role="chief"),
        Staff("302", "廖敏", "shichang"),
        Staff("303", "欧阳青", "shichang", active_from=D(2026, 5, 6)),
        Staff("401", "梁红", "renshe", role="chief"),
        Staff("501", "陆平", "yibao", role="chief"),
        Staff("601", "农海", "budongchan", role="chief"),
        Staff("701", "谢宁", "jiaotong", role="chief"),
    ]
    run = lambda no, changes=None, away=frozenset(): punches(no, START, END, changes, away)  # noqa: E731
    half = {"am_in": None, "am_out": None}
    pm_half = {"pm_in": None, "pm_out": None}
    pun = {
        # 101: late 5 min on 04-07; pm_in 14:50 on 04-30 (winter 14:30: late 20) and on 05-06 (summer
        # 15:00: on time); 年休假 06-22 … 06-26.
        "101": run(
            "101",
            {
                D(2026, 4, 7): {"am_in": "08:05:00"},
                D(2026, 4, 30): {"pm_in": "14:50:00"},
                D(2026, 5, 6): {"pm_in": "14:50:00"},
            },
            away={D(2026, 6, d) for d in (22, 23, 24, 25, 26)},
        ),
        # 102: late 04-09 and 04-16, found 打瞌睡 04-22 — three in April.
        "102": run("102", {D(2026, 4, 9): {"am_in": "08:10:00"}, D(2026, 4, 16): {"am_in": "08:03:00"}}),
        # 103: late and early twice in April, twice in May — never three in one month.
        "103": run(
            "103",
            {
                D(2026, 4, 13): {"am_in": "08:15:00"},
                D(2026, 4, 28): {"pm_out": "17:10:00"},
                D(2026, 5, 12): {"am_in": "08:02:00"},
                D(2026, 5, 20): {"am_out": "11:50:00"},
            },
        ),
        # 201: 病假 03-02 … 03-13 (10 workdays, Q1); 事假 04-20 … 04-24 (5); 事假 the afternoon of 06-05
        # (0.5: 15.5 in the year); 中途请假 05-14 10:00–11:00; 事假 06-29.
        "201": run(
            "201",
            {D(2026, 6, 5): pm_half},
            away={*workdays(D(2026, 3, 2), D(2026, 3, 13)), *workdays(D(2026, 4, 20), D(2026, 4, 24)), D(2026, 6, 29)},
        ),
        # 202: no punches the morning of 04-15 and the afternoon of the 5月9日 make-up Saturday.
        "202": run("202", {D(2026, 4, 15): half, D(2026, 5, 9): pm_half}),
        # 203: no punches at all on 06-03; no am_in on 06-10 (补卡 E1); no pm_out on 06-11.
        "203": run("203", {D(2026, 6, 10): {"am_in": None}, D(2026, 6, 11): {"pm_out": None}}, away={D(2026, 6, 3)}),
        # 301: away 06-15 … 06-16, 顶岗 by 901.
        "301": run("301", away={D(2026, 6, 15), D(2026, 6, 16)}),
        # 901: 301's A/B-post colleague; late 20 min on 06-16 while covering.
        "901": punches("901", D(2026, 6, 15), D(2026, 6, 16), {D(2026, 6, 16): {"am_in": "08:20:00"}}),
        # 302: away without leave all 04-21 and all 05-26; late 05-06, 05-07, 05-08.
        "302": run(
            "302",
            {
                D(2026, 5, 6): {"am_in": "08:04:00"},
                D(2026, 5, 7): {"am_in": "08:06:00"},
                D(2026, 5, 8): {"am_in": "08:09:00"},
            },
            away={D(2026, 4, 21), D(2026, 5, 26)},
        ),
        # 303: joined 05-06; pm_out 17:45 on 06-08 (summer 18:00: early 15).
        "303": punches("303", D(2026, 5, 6), END, {D(2026, 6, 8): {"pm_out": "17:45:00"}}),
        "401": run("401"),
        "501": run("501", {D(2026, 5, 13): {"am_in": "08:01:00"}}),
        "601": run("601", {D(2026, 4, 8): {"am_in": "08:07:00"}, D(2026, 6, 9): {"am_in": "08:11:00"}}),
        "701": run(
            "701",
            {
                D(2026, 4, 9): {"am_in": "08:03:00"},
                D(2026, 4, 10): {"am_in": "08:05:00"},
                D(2026, 5, 11): {"am_in": "08:02:00"},
                D(2026, 5, 12): {"am_in": "08:08:00"},
                D(2026, 6, 1): {"am_in": "08:04:00"},
            },
        ),
    }
    return hall_inputs(
        WINDOWS,
        p,
        "hall",
        TIMETABLE,
        staff=staff,
        punches=pun,
        # 一、前六名 on the attendance ranking: a centre that opts in to flags on attendance alone
        ranking_groups=attendance_flags(WINDOWS),
        leaves=[
            Leave("101", "annual", datetime(2026, 6, 22, 8, 0), datetime(2026, 6, 26, 18, 0), "L1"),
            Leave("201", "sick", datetime(2026, 3, 2, 8, 0), datetime(2026, 3, 13, 17, 30), "L2"),
            Leave("201", "personal", datetime(2026, 4, 20, 8, 0), datetime(2026, 4, 24, 17, 30), "L3"),
            Leave("201", "midday", datetime(2026, 5, 14, 10, 0), datetime(2026, 5, 14, 11, 0), "L4"),
            Leave("201", "personal", datetime(2026, 6, 5, 15, 0), datetime(2026, 6, 5, 18, 0), "L5"),
            Leave("201", "personal", datetime(2026, 6, 29, 8, 0), datetime(2026, 6, 29, 18, 0), "L6"),
        ],
        exemptions=[Exemption("203", D(2026, 6, 10), "am_in", "指纹磨损未识别，窗口负责人证明", "E1")],
        inspections=[
            Inspection("102", datetime(2026, 4, 22, 15, 10), "sleeping", 0, "打瞌睡", "I1"),
            Inspection("301", datetime(2026, 6, 24, 10, 40), "off_post", 30, "擅自离岗", "I2"),
            Inspection("301", datetime(2026, 6, 25, 9, 50), "roaming", 0, "聊天串岗", "I3"),
            Inspection("301", datetime(2026, 6, 26, 11, 30), "unrelated_activity", 0, "外出用餐", "I4"),
        ],
        substitutions=[Substitution("901", "301", D(2026, 6, 15), D(2026, 6, 16), "S1")],
    )


@pytest.fixture(scope="module")
def q2():
    return evaluate(site_inputs(), "2026-Q2")


def _ded(r):
    return [(x.day, x.rule, x.ref, x.points) for x in r.deductions]


def test_calendar_lists_agree_with_chinesecalendar():
    d = START
    days = workdays(START, END)
    while d <= END:
        assert chinese_calendar.is_workday(d) == (d in days), d
        d += timedelta(days=1)
    # Q1 21 + 16 + 22 = 59; Q2 21 + 19 + 21 = 61
    assert len(workdays(START, D(2026, 3, 31))) == 59
    assert len(workdays(D(2026, 4, 1), END)) == 61


def test_preset_transcribes_the_document():
    p = resolve_policy("hall", "county-002")
    # 二、(三) 1. 考勤制度 10分, 每季度, 上述扣分至小项扣完为止
    assert (p.category, p.max_points, p.period, p.overflow, p.subject) == ("考勤纪律", 10, "quarter", "cap", "staff")
    pts = p.points
    # 迟到、早退每次扣1分；擅自离岗，每次扣1分；聊天串岗、打瞌睡或外出用餐 每次扣1分
    assert (pts.late, pts.early, pts.off_post, pts.roaming, pts.sleeping, pts.unrelated_activity) == (1,) * 6
    # 旷工每半天扣2分
    assert pts.absence_day / 2 == 2
    # 病事假全年累计超过15天，扣2分
    [lim] = p.leave_limits
    assert (sorted(lim.kinds), lim.over, lim.per, lim.points) == (["personal", "sick"], 15, "year", 2)
    # 四、(一) 每月 … 达3次以上 / 旷工2次 / 1次旷工1天以上
    assert [(r.measure, r.op, r.value, r.per) for r in p.disqualify] == [
        (["late_count", "early_count", "sleeping_count"], ">=", 3, "month"),
        (["absence_count"], ">=", 2, "quarter"),
        (["full_day_absences"], ">=", 1, "quarter"),
    ]
    # 一、前六名评定为"红旗窗口"
    assert (p.window.red_flags, p.window.aggregate) == (6, "weighted_mean")


def test_quarter_deductions(q2):
    r = {x.staff_no: x for x in q2.staff}
    # 101: 迟到 1 (04-07); the 14:50 pm_in is late on 04-30 (winter, 1) but on time on 05-06 (summer);
    # 年休假 costs nothing.
    assert _ded(r["101"]) == [
        (D(2026, 4, 7), "late", "2026-04-07/am_in", 1),
        (D(2026, 4, 30), "late", "2026-04-30/pm_in", 1),
    ]
    # 102: two lates and 打瞌睡, 1 each
    assert _ded(r["102"]) == [
        (D(2026, 4, 9), "late", "2026-04-09/am_in", 1),
        (D(2026, 4, 16), "late", "2026-04-16/am_in", 1),
        (D(2026, 4, 22), "sleeping", "I1", 1),
    ]
    assert _ded(r["103"]) == [
        (D(2026, 4, 13), "late", "2026-04-13/am_in", 1),
        (D(2026, 4, 28), "early", "2026-04-28/pm_out", 1),
        (D(2026, 5, 12), "late", "2026-05-12/am_in", 1),
        (D(2026, 5, 20), "early", "2026-05-20/am_out", 1),
    ]
    # 201: 病假 10 (Q1) + 事假 5 + 0.5 = 15.5 > 15 on 06-05 — 病事假全年累计超过15天，扣2分, once
    # (the 06-29 事假 makes 16.5 and costs nothing more); leave itself costs nothing.
    assert _ded(r["201"]) == [(D(2026, 6, 5), "leave_over_limit", "2026/leave-over-personal+sick", 2)]
    assert r["201"].deductions[0].evidence == "2026 事假、病假累计 15.5 天，超过 15 天"
    # 202: 旷工每半天扣2分 — the morning of 04-15 and the afternoon of the 5月9日 make-up Saturday
    assert _ded(r["202"]) == [
        (D(2026, 4, 15), "absence_day", "2026-04-15/absence-1", 2),
        (D(2026, 5, 9), "absence_day", "2026-05-09/absence-2", 2),
    ]
    # 203: all of 06-03 (2 half days × 2 = 4); 06-10 am_in excused by 补卡; 06-11 missing pm_out (attendd's
    # default for 缺卡: as a late/early, 1).
    assert _ded(r["203"]) == [
        (D(2026, 6, 3), "absence_day", "2026-06-03/absence-1", 2),
        (D(2026, 6, 3), "absence_day", "2026-06-03/absence-2", 2),
        (D(2026, 6, 11), "missing_punch", "2026-06-11/pm_out", 1),
    ]
    # 301: the substitute 901's late on 06-16 counts for 301 (顶岗); 擅自离岗, 聊天串岗, 外出用餐 1 each
    assert _ded(r["301"]) == [
        (D(2026, 6, 16), "late", "2026-06-16/am_in", 1),
        (D(2026, 6, 24), "off_post", "I2", 1),
        (D(2026, 6, 25), "roaming", "I3", 1),
        (D(2026, 6, 26), "unrelated_activity", "I4", 1),
    ]
    # 302: two whole days away (4 + 4) and three lates (3) = 11
    assert _ded(r["302"]) == [
        (D(2026, 4, 21), "absence_day", "2026-04-21/absence-1", 2),
        (D(2026, 4, 21), "absence_day", "2026-04-21/absence-2", 2),
        (D(2026, 5, 6), "late", "2026-05-06/am_in", 1),
        (D(2026, 5, 7), "late", "2026-05-07/am_in", 1),
        (D(2026, 5, 8), "late", "2026-05-08/am_in", 1),
        (D(2026, 5, 26), "absence_day", "2026-05-26/absence-1", 2),
        (D(2026, 5, 26), "absence_day", "2026-05-26/absence-2", 2),
    ]
    assert _ded(r["303"]) == [(D(2026, 6, 8), "early", "2026-06-08/pm_out", 1)]
    assert r["303"].deductions[0].evidence == "打卡 17:45:00（应 18:00，早退 15 分钟）"


def test_quarter_scores_counts_and_disqualification(q2):
    r = {x.staff_no: x for x in q2.staff}
    # 10 − deductions, 扣至小项扣完为止:
    #   101 8  102 7  103 6  201 8  202 6  203 5  301 6  302 10 − min(11, 10) = 0  303 9
    #   401 10  501 9  601 8  701 5
    assert {no: x.attendance_score for no, x in r.items()} == {
        "101": 8,
        "102": 7,
        "103": 6,
        "201": 8,
        "202": 6,
        "203": 5,
        "301": 6,
        "302": 0,
        "303": 9,
        "401": 10,
        "501": 9,
        "601": 8,
        "701": 5,
    }
    assert r["302"].deduction_points == 11
    # 四、(一) 取消当季评优资格:
    #   102 — April: 2 lates + 打瞌睡 = 3 (达3次以上);
    #   103 — 2 in April and 2 in May: 4 in the quarter but never 3 in one month: stays eligible;
    #   701 — 2, 2, 1: stays eligible;
    #   202 — 旷工2次 (two half days);
    #   203 — 1次旷工1天以上 (06-03), one occurrence only, so not also 旷工2次;
    #   302 — 3 lates in May, 旷工 on two days, each a whole day: all three.
    assert r["102"].disqualify_reasons == [
        "迟到、早退或上班时间睡觉每月合计达3次以上，取消当季评优资格（四、(一)）（2026-04：3）"
    ]
    assert r["202"].disqualify_reasons == ["旷工2次，取消当季评优资格（四、(一)）（2026-Q2：2）"]
    assert r["203"].disqualify_reasons == ["1次旷工1天以上，取消当季评优资格（四、(一)）（2026-Q2：1）"]
    assert r["302"].disqualify_reasons == [
        "迟到、早退或上班时间睡觉每月合计达3次以上，取消当季评优资格（四、(一)）（2026-05：3）",
        "旷工2次，取消当季评优资格（四、(一)）（2026-Q2：2）",
        "1次旷工1天以上，取消当季评优资格（四、(一)）（2026-Q2：2）",
    ]
    assert {no for no, x in r.items() if x.disqualified} == {"102", "202", "203", "302"}
    # counts
    assert all(r[no].scheduled_days == 61 for no in r if no != "303")
    assert (r["303"].scheduled_days, r["303"].present_days) == (40, 40)  # joined 05-06: 19 May + 21 June days
    assert (r["101"].other_leave_days, r["101"].present_days) == (5.0, 56)
    # 201 in Q2: 事假 5 + 0.5 + 1 = 6.5; present 61 − 5 − 1 = 55 (06-05 morning worked)
    assert (r["201"].personal_leave_days, r["201"].sick_leave_days, r["201"].midday_leave_count) == (6.5, 0, 1)
    assert r["201"].present_days == 55
    assert (r["202"].absent_days, r["202"].present_days) == (1.0, 61)
    assert (r["203"].absent_days, r["203"].excused_punches, r["203"].missing_punches) == (1.0, 1, 1)
    assert (r["302"].absent_days, r["302"].late_count, r["302"].present_days) == (2.0, 3, 59)
    assert (r["103"].late_count, r["103"].early_count) == (2, 2)
    assert (r["301"].off_post_count, r["301"].late_count, r["301"].present_days) == (1, 1, 61)


def test_window_ranking_and_red_flags(q2):
    w = {x.window: x for x in q2.windows}
    # weighted by scheduled workdays:
    #   公安 (8 + 7 + 6) / 3 = 7.0;  税务 (8 + 6 + 5) / 3 = 6.3333
    #   市场监管 (6 × 61 + 0 × 61 + 9 × 40) / (61 + 61 + 40) = 726 / 162 = 4.4815
    #   人社 10;  医保 9;  不动产 8;  交通 5
    assert {k: x.attendance_score for k, x in w.items()} == {
        "gongan": 7.0,
        "shuiwu": 6.3333,
        "shichang": 4.4815,
        "renshe": 10.0,
        "yibao": 9.0,
        "budongchan": 8.0,
        "jiaotong": 5.0,
    }
    assert {k: x.rank for k, x in w.items()} == {
        "renshe": 1,
        "yibao": 2,
        "budongchan": 3,
        "gongan": 4,
        "shuiwu": 5,
        "jiaotong": 6,
        "shichang": 7,
    }
    # 一、前六名评定为"红旗窗口"
    assert {k for k, x in w.items() if x.red_flag} == {"renshe", "yibao", "budongchan", "gongan", "shuiwu", "jiaotong"}
    assert all(x.period_key == "2026-Q2" and x.max_points == 10 for x in q2.windows)


def test_first_quarter_sick_leave_alone_costs_nothing():
    # 病假 10 days in Q1: not over 15 — 201 keeps 10 in Q1
    ev = evaluate(site_inputs(), "2026-Q1")
    r = {x.staff_no: x for x in ev.staff}
    assert (r["201"].sick_leave_days, r["201"].deductions, r["201"].attendance_score) == (10.0, [], 10)
    assert r["201"].scheduled_days == 59
    # 303 had not joined: nothing scheduled, nothing deducted
    assert (r["303"].scheduled_days, r["303"].deductions) == (0, [])


def test_monthly_bulletin_april():
    ev = evaluate(site_inputs(), "2026-04")
    r = {x.staff_no: x for x in ev.staff}
    # April alone: 102 10 − 3 = 7 and already out of the quarter's 评优; 202 10 − 2 = 8 (one 旷工 so far);
    # 302 10 − 4 = 6 and out (04-21, a whole day)
    assert (r["102"].attendance_score, r["102"].disqualified) == (7, True)
    assert (r["202"].attendance_score, r["202"].disqualified) == (8, False)
    assert (r["302"].attendance_score, r["302"].disqualified) == (6, True)
    assert r["101"].scheduled_days == 21


def test_bad_override_names_its_key_path():
    with pytest.raises(RulesError) as exc:
        resolve_policy("x", "county-002", {"max_points": -1})
    assert exc.value.path == "policies.x.max_points"
    with pytest.raises(RulesError) as exc:
        resolve_policy("x", "county-002", {"leave_limits": [{"kinds": ["vacation"], "over": 15, "points": 2}]})
    assert exc.value.path == "policies.x.leave_limits[0].kinds"


def test_unknown_preset_names_its_key_path():
    with pytest.raises(RulesError) as exc:
        resolve_policy("x", "county-003")
    assert exc.value.path == "policies.x.preset"
    assert "county-003" in str(exc.value)
