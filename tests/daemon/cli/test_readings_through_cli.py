"""Issue 10, the rules read again, the way a clerk meets them: the roster, a terminal's USB export
and the leave sheet imported with ``attendd import``, then ``attendd push`` into a SQLite scoring
DB, and what ``att_staff_period`` / ``att_deduction`` say. Each reading's own scenarios, clause by
clause, are in tests/rules/test_rules_readings.py; this shows they reach the published rows.
"""

from __future__ import annotations

import json

from helpers import MARCH_WORKDAYS as WORKDAYS  # the three-window centre of test_rankings
from helpers import ON_TIME as TIMES
from helpers import write_three_windows as write_site
from sqlalchemy import create_engine, text

from daemon.cli import main

D0, D1, D2 = WORKDAYS[0], WORKDAYS[1], WORKDAYS[2]


def day_lines(pin: str, d, times) -> list[str]:
    return [f"{pin:>9}\t{d} {t}\t1\t0\t1\t0" for t in times]


def month(pin: str, changes: dict) -> list[str]:
    """On-time punches every workday of March, but ``changes`` (day → its punch times)."""
    out = []
    for d in WORKDAYS:
        out += day_lines(pin, d, changes.get(d, TIMES))
    return out


def reasons(row: dict) -> list[str]:
    """``disqualify_reasons`` as the scoring DB holds it (JSON text on SQLite)."""
    return json.loads(row["disqualify_reasons"] or "[]")


def rows(url: str, sql: str) -> list[dict]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [dict(r) for r in conn.execute(text(sql)).mappings()]
    finally:
        engine.dispose()


def test_readings_reach_the_scoring_db(tmp_path, capsys):
    """* 罗山 附件1 未按时录入考勤…视同旷工…每人每次扣10分: 1 forgets the morning punch on D0 — 10 points,
      half a day of 旷工, and still one 缺卡 (issue 10.12).
    * 罗山 leave: 2's 事假 10:00–15:00 on D1 touches both sessions — a day of 事假, 1 point (10.15).
    * 罗山 第十五条 因故中途缺勤5个工作日及以上: 5's five days of 病假 bar 优秀 for Q1 (10.13).
    * 三江 迟到早退超过1.5小时的按旷工处理 (a fourth window, under sanjiang): 4 arrives 10:40 on D2,
      outside the 10:30 acceptance window — late 100 minutes, 旷工, 一票否决 for the half-year (10.17).

    The site goes live on 2026-03-01, so Q1 is March's days (January and February are not absences).
    """
    url = f"sqlite:///{tmp_path / 'scoring.db'}"
    cfg = write_site(tmp_path, url, None)
    with open(cfg, "a", encoding="utf-8") as f:
        f.write(
            '[policies.sj]\npreset = "sanjiang"\n'
            '[[windows]]\ncode = "sanjiang"\nname = "三江窗口"\ntimetable = "standard"\npolicy = "sj"\n'
        )
    roster = tmp_path / "花名册.csv"
    roster.write_text(
        "工号,姓名,窗口\n1,张伟,gongan\n2,李娜,gongan\n4,王五,sanjiang\n5,赵六,gongan\n", encoding="utf-8"
    )
    log = tmp_path / "1_attlog.dat"
    log.write_text(
        "\n".join(
            month("1", {D0: TIMES[1:]})
            + month("2", {D1: (TIMES[0], TIMES[3])})
            + month("4", {D2: ("10:40:00",) + TIMES[1:]})
            + month("5", {d: () for d in WORKDAYS[5:10]})
        )
        + "\n",
        encoding="utf-8",
    )
    leaves = tmp_path / "请假.csv"
    leaves.write_text(
        "staff_no,kind,start,end,note\n"
        f"2,personal,{D1} 10:00,{D1} 15:00,\n"
        f"5,sick,{WORKDAYS[5]} 08:00,{WORKDAYS[9]} 18:00,\n",
        encoding="utf-8",
    )
    for args in (
        ("db", "upgrade"),
        ("import", "roster", str(roster)),
        ("import", "attlog", str(log), "--device", "usb"),
        ("import", "leaves", str(leaves)),
        ("push", "--period", "2026-03"),
        ("push", "--period", "2026-Q1"),
    ):
        assert main(["--config", cfg, *args]) == 0, args
    capsys.readouterr()

    staff = {(r["period_key"], r["staff_no"]): r for r in rows(url, "SELECT * FROM att_staff_period")}
    cuts = rows(url, "SELECT * FROM att_deduction WHERE period_key = '2026-03'")
    one = staff[("2026-03", "1")]
    assert (one["absent_days"], one["missing_punches"], one["deduction_points"]) == (0.5, 1, 10.0)
    assert [(c["rule"], c["points"]) for c in cuts if c["staff_no"] == "1"] == [("punch_absence", 10.0)]
    two = staff[("2026-03", "2")]
    assert (two["personal_leave_days"], two["deduction_points"]) == (1.0, 1.0)
    four = staff[("2026-03", "4")]
    assert four["absent_days"] == 0.5 and four["disqualified"]
    assert any("旷工" in r for r in reasons(four))
    assert any("第十五条" in r for r in reasons(staff[("2026-Q1", "5")]))
    assert not any("第十五条" in r for r in reasons(staff[("2026-Q1", "2")]))
