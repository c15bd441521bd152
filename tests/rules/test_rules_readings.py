"""Issue 10, "Rules read again against the documents" (points 12–15, 17–19): one scenario per
reading, each quoting its clause. Rules-level (``rules.evaluate_period`` / ``evaluate_day``), one
staff member or a few, so they stay fast; hand-computed from the documents' numbers.

Calendar facts (chinesecalendar): 2026-03-02 (Mon) … 03-06 (Fri) and 03-09 … 03-13 are workdays;
Q2 2026 has 2026-05-01..05 off with Saturday 05-09 a make-up workday.
"""

from __future__ import annotations

from datetime import date

from scenario import Pattern, at, slots, timetable

from rules import (
    Inputs,
    Inspection,
    Leave,
    Staff,
    Substitution,
    WorkCalendar,
    build_timetable,
    evaluate_day,
    evaluate_period,
    parse_period,
    resolve_policy,
)

CAL = WorkCalendar()
LUOSHAN = resolve_policy("hall", "luoshan")
LUOSHAN_TT = build_timetable("luoshan", LUOSHAN.timetable)
ON_TIME = Pattern(("08:45", "12:01", "12:55", "17:05"), is_workday=CAL.is_workday)
# config.example.toml's standard timetable (SPEC §4.5): am_in accepted until 10:30, am_out from 11:00
STANDARD = build_timetable(
    "standard",
    timetable(
        slots(
            ("09:00", "12:00", "13:00", "17:00"),
            [("07:00", "10:30"), ("11:00", "12:50"), ("12:30", "15:00"), ("16:00", "20:00")],
        )
    ),
)
STAFF = Staff("101", "张伟", "w")
MON = date(2026, 3, 2)


def inputs(policy, timetable, punches, *, staff=(STAFF,), **more) -> Inputs:
    return Inputs(
        staff=list(staff),
        punches=punches,
        windows={"w": "一号窗口"},
        policies={"w": policy},
        timetables={timetable.name: timetable},
        window_timetable={"w": timetable.name},
        calendar=CAL,
        **more,
    )


def year_punches(changes=None, away=(), start=date(2026, 1, 1), end=date(2026, 12, 31), staff_no="101"):
    return ON_TIME.punches(staff_no, start, end, changes=changes or {}, away=away)


def day_of(policy, timetable, punches, d=MON, **kw):
    return evaluate_day(STAFF, d, "workday", timetable.slots, punches, rules=policy.day, **kw)


def points(policy, result) -> float:
    return sum((policy.points.of(e.kind) or 0) * e.count for e in result.events)


# --- 12. 罗山: a missing punch is 旷工 --------------------------------------------------------------


def test_luoshan_a_missing_punch_is_absence_and_a_second_never_costs_less():
    """罗山 附件1 出勤值勤: 未按时录入考勤，且事后未说明情况的视同旷工 … 每人每次扣10分; 旷工每天扣10分.

    One forgotten punch makes its half day 旷工: 10 points (one 次), half a day of 旷工. The same
    morning with both punches missing is the same one 次: 10, never less. A day without any punch
    is two 次 (morning and afternoon): 20, one day of 旷工 — so one more forgotten punch never makes
    the day cheaper (today's engine charged 10 for one punch and 5 for the whole morning).
    """
    one = day_of(LUOSHAN, LUOSHAN_TT, ON_TIME.day(MON, {"am_out": None}))
    both = day_of(LUOSHAN, LUOSHAN_TT, ON_TIME.day(MON, {"am_in": None, "am_out": None}))
    each_session = day_of(LUOSHAN, LUOSHAN_TT, ON_TIME.day(MON, {"am_out": None, "pm_in": None}))
    none = day_of(LUOSHAN, LUOSHAN_TT, [])
    assert [(e.kind, e.ref, e.tag) for e in one.events] == [("punch_absence", "2026-03-02/absence-1", "missing_punch")]
    assert (points(LUOSHAN, one), one.absent_days) == (10, 0.5)
    assert "视同旷工" in one.events[0].evidence and "上午签退 无打卡" in one.events[0].evidence
    assert (points(LUOSHAN, both), both.absent_days) == (10, 0.5)
    assert (points(LUOSHAN, each_session), each_session.absent_days) == (20, 1.0)
    assert (points(LUOSHAN, none), none.absent_days) == (20, 1.0)
    # 旷工 absorbs the half day's late: a late morning whose am_out is forgotten costs the 10, not 13
    late_and_missing = day_of(LUOSHAN, LUOSHAN_TT, ON_TIME.day(MON, {"am_in": "09:10", "am_out": None}))
    assert points(LUOSHAN, late_and_missing) == 10
    # 因特殊原因未打卡的由相关证明不扣分: still excused with proof
    from rules import Exemption

    excused = day_of(
        LUOSHAN,
        LUOSHAN_TT,
        ON_TIME.day(MON, {"am_out": None}),
        exemptions=[Exemption("101", MON, "am_out", "设备故障", "E1")],
    )
    assert points(LUOSHAN, excused) == 0 and excused.absent_days == 0


def test_luoshan_missing_punches_count_in_the_years_absence_tally():
    """罗山 第十章 四、6: 全年 … 旷工累计3天以上 … 取消年度评优、评先资格 — with 附件1's 视同旷工, six
    forgotten punches on six days are six half days: 3 days of 旷工, disqualified; five are 2.5, not."""
    days = [date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4), date(2026, 4, 7), date(2026, 6, 9), date(2026, 9, 8)]
    changes = {d: {"pm_out": None} for d in days}
    six = evaluate_period(inputs(LUOSHAN, LUOSHAN_TT, {"101": year_punches(changes)}), parse_period("2026")).staff[0]
    assert six.absent_days == 3 and six.missing_punches == 6
    assert any("旷工累计3天以上" in r for r in six.disqualify_reasons)
    del changes[days[-1]]
    five = evaluate_period(inputs(LUOSHAN, LUOSHAN_TT, {"101": year_punches(changes)}), parse_period("2026")).staff[0]
    assert five.absent_days == 2.5 and not five.disqualified


# --- 13. 罗山 第十五条: 缺勤 for any reason ------------------------------------------------------------


def _q2(leaves=(), substitutions=(), away=(), sub_punches=None):
    punches = {"101": year_punches(away=away, start=date(2026, 4, 1), end=date(2026, 6, 30))}
    if sub_punches is not None:
        punches["901"] = sub_punches
    inp = inputs(LUOSHAN, LUOSHAN_TT, punches, leaves=list(leaves), substitutions=list(substitutions))
    return inp


def test_luoshan_five_workdays_away_for_any_reason_bar_excellent_for_that_quarter_only():
    """罗山 第十五条: 窗口工作人员因故中途缺勤5个工作日及以上（含临时顶替）的，当季度不得被评为"优秀"等次。
    公伤、婚假、产假人员按有关规定办理.

    2 days of 事假 + 2 days covered by a substitute (顶岗) + 1 day of 旷工 = 5 workdays away → barred
    in Q2; the finding is the quarter's (当季度) and does not pass to the year. Five days of 婚假 are
    left out (按有关规定办理); four days away are not enough.
    """
    leave = [Leave("101", "personal", at(date(2026, 4, 7), "08:00"), at(date(2026, 4, 8), "18:00"), "L1")]
    covered = [date(2026, 5, 12), date(2026, 5, 13)]
    sub = Substitution("901", "101", covered[0], covered[-1], "S1")
    sub_punches = ON_TIME.on(covered)
    inp = _q2(leave, [sub], away=[date(2026, 6, 9), *covered], sub_punches=sub_punches)
    inp.staff = [STAFF, Staff("901", "替岗", "w", exempt=True)]
    q2 = evaluate_period(inp, parse_period("2026-Q2")).staff
    q2 = next(r for r in q2 if r.staff_no == "101")
    assert q2.personal_leave_days == 2 and q2.absent_days == 1
    assert q2.no_excellent_reasons == ["当季度缺勤5个工作日及以上，不得评为优秀（第十五条）（2026-Q2：5）"]
    year = next(r for r in evaluate_period(inp, parse_period("2026")).staff if r.staff_no == "101")
    assert not any("第十五条" in r for r in year.no_excellent_reasons)

    four = _q2(leave, away=[date(2026, 6, 9), date(2026, 6, 10)])
    assert not evaluate_period(four, parse_period("2026-Q2")).staff[0].no_excellent_reasons  # 2 + 2 = 4
    wedding = _q2([Leave("101", "marriage", at(date(2026, 4, 13), "08:00"), at(date(2026, 4, 17), "18:00"), "L2")])
    r = evaluate_period(wedding, parse_period("2026-Q2")).staff[0]
    assert r.other_leave_days == 5 and not r.no_excellent_reasons


def test_luoshan_excluded_leave_kinds_are_configurable():
    """罗山 第十五条 公伤、婚假、产假人员按有关规定办理: a centre whose 有关规定 count 婚假 sets
    ``excluded_leave`` on the rule."""
    rules = [r.model_dump(by_alias=True) for r in LUOSHAN.disqualify]
    rules[0]["excluded_leave"] = ["injury", "maternity"]
    counting = resolve_policy("hall", "luoshan", {"disqualify": rules})
    inp = _q2([Leave("101", "marriage", at(date(2026, 4, 13), "08:00"), at(date(2026, 4, 17), "18:00"), "L2")])
    inp.policies = {"w": counting}
    assert evaluate_period(inp, parse_period("2026-Q2")).staff[0].no_excellent_reasons


# --- 14. 罗山: 缺岗 is an inspection finding, not a missing punch ---------------------------------------


def test_luoshan_que_gang_is_off_post_on_inspection_not_a_missing_punch():
    """罗山 第十章 四、5: 大厅值班人员将不定时查岗，不请假、不在岗视为缺岗; 四、6: 全年 … 迟到、早退、缺岗8次
    以上 … 取消年度评优、评先资格.

    Two lates and six 查岗 findings of 不在岗 (off_post, under 2 hours) are 8: disqualified by that
    rule. Two lates and six forgotten punches are not 缺岗 (they are 旷工: 3 days, the other rule).
    """
    lates = {date(2026, 3, 2): {"am_in": "09:00"}, date(2026, 3, 3): {"pm_in": "13:05"}}
    six_days = [date(2026, 3, d) for d in (4, 5, 6, 9, 10, 11)]
    visits = [Inspection("101", at(d, "10:00"), "off_post", 30, "查岗不在岗", f"I{i}") for i, d in enumerate(six_days)]
    year = parse_period("2026")
    r = evaluate_period(inputs(LUOSHAN, LUOSHAN_TT, {"101": year_punches(lates)}, inspections=visits), year).staff[0]
    assert (r.late_count, r.off_post_count) == (2, 6)
    assert any("迟到、早退、缺岗8次以上" in x for x in r.disqualify_reasons)

    forgotten = dict(lates)
    for d in six_days:
        forgotten[d] = {"pm_out": None}
    r = evaluate_period(inputs(LUOSHAN, LUOSHAN_TT, {"101": year_punches(forgotten)}), year).staff[0]
    assert not any("缺岗" in x for x in r.disqualify_reasons)
    assert any("旷工累计3天以上" in x for x in r.disqualify_reasons)


# --- 15. 罗山: partial leave, and leave from the working hour ---------------------------------------


def test_luoshan_leave_over_part_of_a_session_is_charged_and_counted():
    """罗山 附件1: 请私假每天扣1分，请病假每天扣0.5分; 第十章 四、3: 请假半天至一天 — leave counts in half
    days, one for every session it touches. 事假 10:00–15:00 touches both: a day, 1 point (it cost
    nothing and counted nowhere before); 病假 15:00–17:00 is half a day, 0.25."""
    r = day_of(
        LUOSHAN,
        LUOSHAN_TT,
        [at(MON, "08:50"), at(MON, "17:02")],
        leaves=[Leave("101", "personal", at(MON, "10:00"), at(MON, "15:00"), "L1")],
    )
    assert [(s.slot, s.status) for s in r.slots] == [
        ("am_in", "ok"),
        ("am_out", "leave"),
        ("pm_in", "leave"),
        ("pm_out", "ok"),
    ]
    assert (r.leave_kind, r.leave_days, r.absent_days, points(LUOSHAN, r)) == ("personal", 1.0, 0, 1)
    sick = day_of(
        LUOSHAN,
        LUOSHAN_TT,
        ON_TIME.day(MON, {"pm_out": None}),
        leaves=[Leave("101", "sick", at(MON, "15:00"), at(MON, "17:00"), "L2")],
    )
    assert (sick.leave_days, sick.absent_days, points(LUOSHAN, sick)) == (0.5, 0, 0.25)
    # a leave over the lunch break (12:00–13:00) touches no session
    lunch = day_of(
        LUOSHAN,
        LUOSHAN_TT,
        ON_TIME.day(MON),
        leaves=[Leave("101", "personal", at(MON, "12:00"), at(MON, "13:00"), "L3")],
    )
    assert lunch.leave_days == 0


def test_luoshan_leave_from_nine_covers_the_morning_sign_in_due_at_eight_fifty_five():
    """罗山 第十章 一: 工作日上午 9:00-12:00 为工作时间; 二: 上午签到时间 8:55以前 — a 事假 from 9:00 covers the
    morning's 8:55 sign-in: half a day of 事假 (1 × 0.5), not 旷工."""
    r = day_of(
        LUOSHAN,
        LUOSHAN_TT,
        ON_TIME.day(MON, {"am_in": None, "am_out": None}),
        leaves=[Leave("101", "personal", at(MON, "09:00"), at(MON, "12:00"), "L1")],
    )
    assert [s.status for s in r.slots[:2]] == ["leave", "leave"]
    assert (r.leave_days, r.absent_days, points(LUOSHAN, r)) == (0.5, 0, 0.5)
    # a leave from 09:10 does not: the sign-in was due, and missing it is 旷工
    late = day_of(
        LUOSHAN,
        LUOSHAN_TT,
        ON_TIME.day(MON, {"am_in": None}),
        leaves=[Leave("101", "personal", at(MON, "09:10"), at(MON, "12:00"), "L1")],
    )
    assert late.slots[0].status == "missing" and late.absent_days == 0.5


# --- 17. 三江: a late beyond 1.5 hours is not hidden by an acceptance window -------------------------

SANJIANG = resolve_policy("hall", "sanjiang")


def test_sanjiang_a_late_beyond_the_acceptance_window_is_still_absence():
    """三江 附件1 一、1: 无故迟到、早退、离岗的,每次扣5分(… 迟到早退超过1.5小时的按旷工处理); 五、一票否决 2.
    出现空岗或旷工.

    With config.example's am_in accepted until 10:30, a 10:40 arrival (100 minutes late) is no slot's
    punch; it is the morning's late arrival all the same: 旷工, and the half-year's 一票否决 — not a
    5-point missing punch. Leaving at 10:20 (100 minutes before 12:00, in am_in's window after an
    08:55 arrival) is likewise an early departure beyond 1.5 hours.
    """
    late = day_of(SANJIANG, STANDARD, [at(MON, "10:40"), at(MON, "12:05"), at(MON, "12:55"), at(MON, "17:05")])
    assert (late.slots[0].status, late.slots[0].minutes) == ("absent", 100)
    assert [(e.kind, e.count) for e in late.events] == [("absence_day", 0.5)]
    assert "迟到 100 分钟" in late.events[0].evidence and "打卡时段外" in late.events[0].evidence
    early = day_of(SANJIANG, STANDARD, [at(MON, "08:55"), at(MON, "10:20"), at(MON, "12:55"), at(MON, "17:05")])
    assert (early.slots[1].status, early.slots[1].minutes) == ("absent", 100)
    assert early.absent_days == 0.5
    # 89 minutes late outside the window is a late (5), as inside it
    inside = day_of(
        resolve_policy("hall", "sanjiang"),
        build_timetable(
            "narrow",
            {
                "slots": [
                    {"name": "am_in", "kind": "in", "at": "09:00", "accept": ["07:00", "10:00"]},
                    {"name": "am_out", "kind": "out", "at": "12:00", "accept": ["11:00", "12:50"]},
                ]
            },
        ),
        [at(MON, "10:29"), at(MON, "12:05")],
    )
    assert [(e.kind, e.minutes) for e in inside.events] == [("late", 89)]
    # the half-year's 一票否决
    punches = {
        "101": ON_TIME.punches(
            "101", date(2026, 1, 1), date(2026, 6, 30), changes={MON: ("10:40", "12:05", "12:55", "17:05")}
        )
    }
    h1 = evaluate_period(inputs(SANJIANG, STANDARD, punches), parse_period("2026-H1")).staff[0]
    assert h1.disqualified and h1.missing_punches == 0


def test_check_config_names_a_slot_whose_session_cannot_reach_the_threshold():
    """三江 一、1 迟到早退超过1.5小时的按旷工处理: a 90-minute session can show no late of more than 90
    minutes, so check-config warns, naming the slot and why (a warning: the config still runs)."""
    from daemon.config import config_from_dict, config_warnings

    data = {
        "site": {"name": "三江", "timezone": "Asia/Shanghai"},
        "timetables": {
            "duty": timetable(
                slots(
                    ("09:00", "10:30", "13:00", "17:00"),
                    [("07:00", "09:59"), ("10:00", "12:00"), ("12:30", "15:00"), ("16:00", "20:00")],
                )
            )
        },
        "policies": {"hall": {"preset": "sanjiang"}, "other": {"preset": "luoshan"}},
        "windows": [
            {"code": "a", "name": "A", "timetable": "duty", "policy": "hall"},
            {"code": "b", "name": "B", "timetable": "duty", "policy": "other"},
        ],
    }
    warnings = config_warnings(config_from_dict(data, source="attendd.toml"), "attendd.toml")
    assert warnings == [
        'attendd.toml: timetables.duty.slots[0]: policy "hall" counts a late arrival of more than 90 minutes as '
        "absence (day.absence_after_minutes), but am_in's session runs 09:00–10:30 (90 minutes), so no punch "
        "for am_in can be that late: the rule never applies to this slot",
        'attendd.toml: timetables.duty.slots[1]: policy "hall" counts an early departure of more than 90 minutes '
        "as absence (day.absence_after_minutes), but am_out's session runs 09:00–10:30 (90 minutes), so no "
        "punch for am_out can be that early: the rule never applies to this slot",
    ]
    data["timetables"]["duty"]["slots"][1]["at"] = "10:32"
    assert config_warnings(config_from_dict(data, source="attendd.toml"), "attendd.toml") == []


def test_check_config_prints_the_warning_and_still_passes(tmp_path, capsys):
    """What the admin sees: `attendd check-config` prints each warning on its own line, exit 0."""
    from daemon.cli import main

    cfg = tmp_path / "attendd.toml"
    cfg.write_text(
        '[site]\nname = "三江"\n[timetables.duty]\nslots = [\n'
        '{ name = "am_in", kind = "in", at = "09:00", accept = ["07:00", "09:59"] },\n'
        '{ name = "am_out", kind = "out", at = "10:30", accept = ["10:00", "12:00"] },\n]\n'
        '[policies.hall]\npreset = "sanjiang"\n'
        '[[windows]]\ncode = "a"\nname = "A"\ntimetable = "duty"\npolicy = "hall"\n',
        encoding="utf-8",
    )
    assert main(["check-config", str(cfg)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("2 warning(s)")
    assert out[1].startswith(f'warning: {cfg}: timetables.duty.slots[0]: policy "hall" counts a late arrival')


# --- 18. 002: 取消当季评优资格 stays on the quarter ----------------------------------------------------

COUNTY = resolve_policy("hall", "county-002")


def test_county_002_quarter_disqualification_does_not_pass_to_the_year():
    """002《部门窗口及窗口工作人员考核办法》四、有下列情形之一的，取消窗口工作人员当季评优资格：(一)窗口
    工作人员迟到、早退或上班时间睡觉，每月各项合计次数达3次以上，或旷工2次、1次旷工1天以上的.

    Three lates in March: Q1 disqualified; Q2 and the year are not (当季)."""
    lates = {d: {"am_in": "09:05"} for d in (date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4))}
    inp = inputs(COUNTY, STANDARD, {"101": year_punches(lates)})
    q1 = evaluate_period(inp, parse_period("2026-Q1")).staff[0]
    assert q1.disqualify_reasons == [
        "迟到、早退或上班时间睡觉每月合计达3次以上，取消当季评优资格（四、(一)）（2026-03：3）"
    ]
    assert not evaluate_period(inp, parse_period("2026-Q2")).staff[0].disqualified
    year = evaluate_period(inp, parse_period("2026")).staff[0]
    assert not year.disqualified and not year.disqualify_reasons and not year.no_excellent_reasons
    assert year.late_count == 3  # the year still counts them and charges them (1 each, in Q1's mean)
    # a whole day of 旷工 in Q1 (1次旷工1天以上) is likewise Q1's alone
    away = evaluate_period(
        inputs(COUNTY, STANDARD, {"101": year_punches(away=[date(2026, 3, 5)])}), parse_period("2026")
    ).staff[0]
    assert not away.disqualified and away.absent_days == 1


# --- 19. site defaults are marked and listed ---------------------------------------------------------


def test_every_site_default_in_the_presets_is_listed_in_docs():
    """Issue 10 (19): every preset value its document does not give is marked ``# site default:`` in the
    preset and listed in docs/rules.md's "Readings and site defaults" table (preset, key)."""
    import re
    from pathlib import Path

    from rules.presets import PRESETS

    root = Path(__file__).resolve().parents[2]
    docs = (root / "docs" / "rules.md").read_text(encoding="utf-8")
    section = docs[docs.index("## Readings and site defaults") :]
    rows = set(re.findall(r"^\| `?([\w-]+)`? \| `([\w.\[\]]+)` \|", section, re.M))
    marked = set()
    for name in PRESETS:
        lines = (root / "rules" / "presets" / f"{name}.toml").read_text(encoding="utf-8").splitlines()
        table = ""
        for i, line in enumerate(lines):
            if line.startswith("["):
                table = line.strip("[] ")
            if line.startswith("# site default:"):
                key = next(x for x in lines[i + 1 :] if x and not x.startswith("#")).split("=")[0].strip()
                marked.add((name, f"{table}.{key}" if table and not key.startswith("[") else key))
    assert marked and marked <= rows, sorted(marked - rows)


def test_sanjiang_one_vote_veto_stays_on_its_half_year():
    """001 附件1 五、一票否决（出现以下情形之一，取消本次评比资格）2. 出现空岗或旷工: 本次评比 is the
    half-year's selection (方案 三、(一)); a 旷工 in March disqualifies 2026-H1, not 2026-H2, and the
    year result (the mean of the halves) carries no finding of its own."""
    policy = resolve_policy("hall", "sanjiang")
    inp = inputs(policy, STANDARD, {"101": year_punches(away=[date(2026, 3, 5)])})
    assert evaluate_period(inp, parse_period("2026-H1")).staff[0].disqualified
    assert not evaluate_period(inp, parse_period("2026-H2")).staff[0].disqualified
    year = evaluate_period(inp, parse_period("2026")).staff[0]
    assert not year.disqualified and year.absent_days == 1
