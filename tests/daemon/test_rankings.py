"""Issue 10, rankings and who is assessed: results a centre can publish and defend.

Each scenario quotes the clause it implements. The first goes the way a clerk goes — the
roster, a terminal's USB export and an exemption imported with ``attendd import``, then
``attendd push`` — into a scoring DB on SQLite, PostgreSQL and MariaDB, and reads
``att_window_period`` / ``att_staff_period`` back.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import chinese_calendar
import pytest
from helpers import MARCH_WORKDAYS as WORKDAYS
from helpers import ON_TIME as TIMES
from helpers import standard_slots
from helpers import write_three_windows as write_site
from sqlalchemy import create_engine, text

from daemon.bulletin import build_bulletin
from daemon.bulletin.html import render_html
from daemon.cli import main
from rules import (
    Inputs,
    Leave,
    RankingGroup,
    Staff,
    StaffPeriodResult,
    WorkCalendar,
    build_timetable,
    evaluate_period,
    parse_period,
    resolve_policy,
    score_windows,
)

MARCH = parse_period("2026-03")
TIMETABLE = {"slots": standard_slots()}


def attlog_lines(pin: str, lates: int, forgot: date | None = None) -> list[str]:
    """A month of on-time punches, the first ``lates`` workdays 20 minutes late in the morning;
    no morning punch on ``forgot``."""
    out = []
    for i, d in enumerate(WORKDAYS):
        for j, t in enumerate(TIMES):
            if j == 0 and d == forgot:
                continue
            if j == 0 and i < lates:
                t = "09:20:00"
            out.append(f"{pin:>9}\t{d} {t}\t1\t0\t1\t0")
    return out


def cli(*args: str) -> int:
    return main(list(args))


def read(url: str, schema: str | None, sql: str) -> list[dict]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if schema:
                sql = sql.replace("att_", f'"{schema}".att_')
            return [dict(r) for r in conn.execute(text(sql)).mappings()]
    finally:
        engine.dispose()


def test_windows_with_different_maxima_rank_on_their_share_and_nobody_gets_a_flag(tmp_path, capsys):
    """Three windows under luoshan (max 25, 003 附件1 迟到每次扣3分), yihuang-staff (max 30, 004
    勤 迟到每次扣0.5分) and county-002 (max 10, 002 (一) 迟到每次扣1分):

    * 公安 no late → 25 / 25 = 100 %;  税务 8 lates → 30 − 4 = 26 / 30 = 86.7 %;
      市场监管 4 lates → 10 − 4 = 6 / 10 = 60 %.
    * On raw points 税务 (26) would rank above 公安 (25); on the share of the maximum 公安 is first.
    * 上虞 一、1, 宜黄 五、1, 002 一, 罗山 附件2 award 流动红旗 on the whole assessment: attendd ranks
      attendance (考勤排名) and flags nobody, though county-002's own policy says 6 flags.
    * 罗山 第十二条 grades the 100-point total: the luoshan staff's grade is NULL.
    * A 罗山 officer who left in 2025 is not assessed in March 2026 (no row, not counted).
    * 补卡 (an exemption for the morning punch 公安's officer forgot) shows as excused_punches in
      att_staff_period (DingTalk's month report has 补卡次数), and costs nothing.
    """
    three_windows(tmp_path, f"sqlite:///{tmp_path / 'scoring.db'}", None, capsys)


def test_the_ranking_reaches_postgresql_and_mariadb_the_same(tmp_path, server_db, capsys):
    three_windows(tmp_path, *server_db, capsys)


def three_windows(tmp_path, url: str, schema: str | None, capsys) -> None:
    cfg = write_site(tmp_path, url, schema)
    roster = tmp_path / "花名册.csv"
    roster.write_text(
        "工号,姓名,窗口,离岗日期\n1,张伟,gongan,\n2,李娜,shuiwu,\n3,王芳,shichang,\n9,赵离,gongan,2025-12-31\n",
        encoding="utf-8",
    )
    log = tmp_path / "1_attlog.dat"
    log.write_text(
        "\n".join(attlog_lines("1", 0, forgot=WORKDAYS[3]) + attlog_lines("2", 8) + attlog_lines("3", 4)) + "\n",
        encoding="utf-8",
    )
    ex = tmp_path / "补卡.csv"
    ex.write_text(f"工号,日期,时段,原因\n1,{WORKDAYS[3]},am_in,外出办事（有证明）\n", encoding="utf-8")
    assert cli("--config", cfg, "db", "upgrade") == 0
    assert cli("--config", cfg, "import", "roster", str(roster)) == 0
    assert cli("--config", cfg, "import", "attlog", str(log), "--device", "usb") == 0
    assert cli("--config", cfg, "import", "exemptions", str(ex)) == 0
    assert cli("--config", cfg, "push", "--period", "2026-03") == 0
    capsys.readouterr()

    w = {r["window_code"]: r for r in read(url, schema, "SELECT * FROM att_window_period WHERE period_key = '2026-03'")}
    assert {k: (r["attendance_score"], r["max_points"], r["rank"]) for k, r in w.items()} == {
        "gongan": (25.0, 25.0, 1),
        "shuiwu": (26.0, 30.0, 2),
        "shichang": (6.0, 10.0, 3),
    }
    assert {k: round(r["score_percent"], 2) for k, r in w.items()} == {
        "gongan": 100.0,
        "shuiwu": 86.67,
        "shichang": 60.0,
    }
    assert not any(r["red_flag"] for r in w.values())
    assert {r["ranking_group"] for r in w.values()} == {""}
    assert w["gongan"]["staff_count"] == 1  # 9 left in 2025: not counted

    s = {r["staff_no"]: r for r in read(url, schema, "SELECT * FROM att_staff_period WHERE period_key = '2026-03'")}
    assert set(s) == {"1", "2", "3"}
    assert s["1"]["grade"] is None and s["1"]["excused_punches"] == 1
    assert s["2"]["excused_punches"] == 0


def test_a_group_that_opts_in_flags_on_attendance_and_never_flags_the_last(tmp_path, capsys):
    """``flags_on = "attendance"`` with one flag: the top window by share (公安), never 市场监管,
    last on every measure — even though county-002's policy alone would give it one of six."""
    url = f"sqlite:///{tmp_path / 'scoring.db'}"
    cfg = write_site(
        tmp_path,
        url,
        None,
        groups='[ranking_groups.hall]\ntitle = "一楼大厅"\nflags_on = "attendance"\nred_flags = 1\n',
    )
    roster = tmp_path / "roster.csv"
    roster.write_text("工号,姓名,窗口\n1,张伟,gongan\n2,李娜,shuiwu\n3,王芳,shichang\n", encoding="utf-8")
    log = tmp_path / "1_attlog.dat"
    log.write_text(
        "\n".join(attlog_lines("1", 0) + attlog_lines("2", 8) + attlog_lines("3", 4)) + "\n", encoding="utf-8"
    )
    for args in (
        ("db", "upgrade"),
        ("import", "roster", str(roster)),
        ("import", "attlog", str(log), "--device", "usb"),
        ("push", "--period", "2026-03"),
    ):
        assert cli("--config", cfg, *args) == 0, args
    out = tmp_path / "b.html"
    assert cli("--config", cfg, "bulletin", "--period", "2026-03", "--format", "html", "-o", str(out)) == 0
    capsys.readouterr()
    w = {r["window_code"]: r for r in read(url, None, "SELECT * FROM att_window_period")}
    assert {k for k, r in w.items() if r["red_flag"]} == {"gongan"}
    assert {r["ranking_group"] for r in w.values()} == {"hall"}
    html = out.read_text(encoding="utf-8")
    assert "考勤排名" in html and "流动红旗按考勤单项排名评定" in html and "前 1 名" in html


def test_a_group_flagging_on_attendance_with_different_counts_must_say_how_many(tmp_path, capsys):
    cfg = write_site(
        tmp_path, f"sqlite:///{tmp_path / 's.db'}", None, groups='[ranking_groups.hall]\nflags_on = "attendance"\n'
    )
    roster = tmp_path / "roster.csv"
    roster.write_text("工号,姓名,窗口\n1,张伟,gongan\n", encoding="utf-8")
    assert cli("--config", cfg, "import", "roster", str(roster)) == 0
    capsys.readouterr()
    assert cli("--config", cfg, "evaluate", "--period", "2026-03") == 2
    err = capsys.readouterr().err
    assert "ranking_groups.hall.red_flags" in err and "Traceback" not in err


def test_a_ranking_group_no_window_names_is_reported_at_config_load(tmp_path, capsys):
    cfg = write_site(tmp_path, f"sqlite:///{tmp_path / 's.db'}", None)
    with open(cfg, "a", encoding="utf-8") as f:
        f.write('[ranking_groups.hal]\nflags_on = "attendance"\n')
    assert cli("check-config", cfg) == 2
    assert 'ranking_groups.hal: no window has ranking_group = "hal"' in capsys.readouterr().err


# --- the rules, case by case -------------------------------------------------------------------------


def _rows(*spec):
    return [
        StaffPeriodResult(no, w, "p", "month", "2026-03", scheduled_days=days, attendance_score=s)
        for no, w, s, days in spec
    ]


def test_each_ranking_group_is_ranked_on_its_own():
    """One ranking per group: the hall's windows and the annex's are ranked apart (1 … in each)."""
    p = resolve_policy("p", "luoshan")
    rows = _rows(("1", "a", 20.0, 20), ("2", "b", 25.0, 20), ("3", "c", 10.0, 20), ("4", "d", 15.0, 20))
    hall, annex = RankingGroup("hall"), RankingGroup("annex")
    out = {
        w.window: w
        for w in score_windows(
            {c: c for c in "abcd"},
            rows,
            {c: p for c in "abcd"},
            MARCH,
            groups={"a": hall, "b": hall, "c": annex, "d": annex},
        )
    }
    assert {c: (out[c].ranking_group, out[c].rank) for c in "abcd"} == {
        "a": ("hall", 2),
        "b": ("hall", 1),
        "c": ("annex", 2),
        "d": ("annex", 1),
    }


def test_no_flag_for_a_window_scored_zero_or_with_no_scheduled_staff_days():
    """Flags on attendance, three to give: a window at 0 points and one nobody was scheduled in
    (its score is its maximum by default) never get one."""
    p = resolve_policy("p", "luoshan")
    rows = _rows(("1", "a", 20.0, 20), ("2", "b", 0.0, 20), ("3", "c", 0.0, 0))
    g = RankingGroup(flags_on="attendance", red_flags=3)
    out = {
        w.window: w
        for w in score_windows(
            {c: c for c in "abc"}, rows, {c: p for c in "abc"}, MARCH, groups=dict.fromkeys("abc", g)
        )
    }
    assert out["c"].attendance_score == 25.0 and out["c"].rank == 1  # nobody scheduled: the maximum
    assert {c for c in "abc" if out[c].red_flag} == {"a"}


def test_the_chiefs_monthly_five_points_are_taken_once_and_a_year_is_the_mean_of_its_months():
    """上虞 倒扣 7: 窗口首席代表（负责人）在窗口一线的工作时间少于80%的，发生一起扣5分 — a month's five points
    once; 一、3 以月度考核为基础进行年度考评: a quarter is the mean of its months, so a chief at about
    70 % every month costs the quarter 5 points, not 15."""
    policy = resolve_policy("hall", "shangyu")
    days = [d for d in parse_period("2026-Q1").days() if chinese_calendar.is_workday(d)]
    punches, leaves = [], []
    for i, d in enumerate(days):
        if i % 10 < 3:  # away (annual leave, which costs nothing) three days in ten: about 70 % on site
            leaves.append(
                Leave(
                    "1",
                    "annual",
                    datetime.combine(d, datetime.min.time()) + timedelta(hours=8),
                    datetime.combine(d, datetime.min.time()) + timedelta(hours=18),
                    f"L{i}",
                )
            )
            continue
        punches += [datetime.fromisoformat(f"{d} {t}") for t in TIMES]
    inp = Inputs(
        staff=[Staff("1", "甲", "w", role="chief")],
        punches={"1": punches},
        windows={"w": "窗口"},
        policies={"w": policy},
        timetables={"t": build_timetable("t", TIMETABLE)},
        window_timetable={"w": "t"},
        calendar=WorkCalendar(),
        leaves=leaves,
    )
    months = [evaluate_period(inp, parse_period(k)).windows[0] for k in ("2026-01", "2026-02", "2026-03")]
    assert all(m.chief_onsite_ratio < 0.8 for m in months)
    assert [m.attendance_score for m in months] == [5.0, 5.0, 5.0]  # 10 − 5 each month
    quarter = evaluate_period(inp, parse_period("2026-Q1")).windows[0]
    assert quarter.attendance_score == 5.0  # the mean of 5, 5, 5 — not 10 − 15
    assert sum(x.points for x in quarter.deductions if x.rule == "chief_offsite") == pytest.approx(5.0, abs=1e-3)
    assert all("按 3 个月平均" in x.note for x in quarter.deductions if x.rule == "chief_offsite")


def test_staff_not_assessed_are_not_counted_and_the_quota_base_is_the_assessed():
    """罗山 第十九条 优秀 ≤ 15% of those assessed: seven assessed, one 优秀 (7 × 15% = 1.05); the person
    who left in 2025 and the exempt leader neither count in the base nor in the window's staff."""
    policy = resolve_policy("hall", "luoshan", {"grades_on": "attendance"})
    staff = [Staff(str(n), f"人{n}", "w", active_from=MARCH.start) for n in range(1, 8)]
    staff += [Staff("90", "已离岗", "w", active_to=date(2025, 12, 31)), Staff("91", "领导", "w", exempt=True)]
    punches = {s.staff_no: [datetime.fromisoformat(f"{d} {t}") for d in WORKDAYS for t in TIMES] for s in staff}
    inp = Inputs(
        staff=staff,
        punches=punches,
        windows={"w": "窗口"},
        policies={"w": policy},
        timetables={"t": build_timetable("t", TIMETABLE)},
        window_timetable={"w": "t"},
        calendar=WorkCalendar(),
    )
    ev = evaluate_period(inp, MARCH)
    r = {x.staff_no: x for x in ev.staff}
    assert (r["90"].in_assessment, r["90"].not_assessed) == (False, "inactive")
    assert (r["91"].in_assessment, r["91"].not_assessed) == (False, "exempt")
    assert r["90"].grade is None and r["91"].grade is None
    assert [no for no, x in sorted(r.items()) if x.grade == "优秀"] == ["1"]
    assert all(r[str(n)].grade == "称职" and "7 人中 1 名" in r[str(n)].grade_note for n in range(2, 8))
    assert ev.windows[0].staff_count == 7


def test_the_bulletin_lists_the_not_assessed_apart_and_a_quota_note_is_no_finding():
    """The bulletin: no grade column where nobody is graded; the 优秀 quota is a note, not among
    取消评优 / 不得评优; those not assessed are listed apart with their reason."""
    rows = {
        "staff_periods": [
            {
                "staff_no": "1",
                "window_code": "w",
                "scheduled_days": 22,
                "present_days": 22,
                "late_count": 0,
                "early_count": 0,
                "missing_punches": 0,
                "absent_days": 0,
                "midday_leave_count": 0,
                "off_post_count": 0,
                "deduction_points": 0,
                "max_points": 25,
                "attendance_score": 25,
                "grade": "称职",
                "grade_note": "优秀名额不超过参评人数的 15%（1 人中 0 名），按称职评定",
                "disqualified": False,
                "disqualify_reasons": [],
                "excused_punches": 2,
            },
        ],
        "window_periods": [
            {
                "window_code": "w",
                "window_name": "窗口",
                "rank": 1,
                "attendance_score": 25,
                "max_points": 25,
                "staff_count": 1,
                "red_flag": False,
                "ranking_group": "",
            }
        ],
        "not_assessed": [{"staff_no": "9", "window_code": "w", "reason": "inactive"}],
    }
    b = build_bulletin(
        rows,
        centre="测试中心",
        period=MARCH,
        issued=date(2026, 4, 3),
        names={"1": "甲", "9": "乙"},
        windows=[("w", "窗口")],
    )
    assert b.disqualified == [] and b.graded and not b.flags_shown
    assert [(x.staff_no, x.name, x.reason) for x in b.not_assessed] == [("9", "乙", "本期不在岗（未到岗或已离岗）")]
    html = render_html(b)
    assert "未参评人员" in html and "本期不在岗" in html and "按称职评定" in html
    assert "<th>流动红旗</th>" not in html and "本通报不评定流动红旗" in html
    assert "得分率相同者并列同一名次" in html
    rows["staff_periods"][0].update(grade=None, grade_note=None)
    assert "<th>等次</th>" not in render_html(
        build_bulletin(
            rows, centre="测试中心", period=MARCH, issued=date(2026, 4, 3), names={}, windows=[("w", "窗口")]
        )
    )
