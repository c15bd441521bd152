"""Issue 17, item 2: the daily sheet (每日考勤) — a window's staff × the month's days.

October 2026 on the sanjiang preset (a missing punch is priced on its own, a half day without a
punch is 旷工): the National Day holidays, weekends, the 10-10 make-up workday, a Sunday duty
rota, lates, an early leave, both on one day, a missing punch, a day without any punch, a day of
personal leave and half a day of sick leave. Snapshots: ``daily-2026-10.xlsx.json`` (values,
fills, comments) and ``daily-2026-10.html`` (the folded section); regenerate with
``UPDATE_SNAPSHOTS=1`` and review the diff.
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from helpers import put_roster, scoring_staff_day, standard_slots

from daemon.bulletin import build_bulletin, collect, write_bulletin
from daemon.bulletin.daily import day_cell
from daemon.bulletin.html import render_html
from daemon.config import config_from_dict
from daemon.store import open_store, put_records
from drivers import Punch
from rules import WorkCalendar, parse_period

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 3, 10, 0, tzinfo=TZ).astimezone(UTC)
OCTOBER = parse_period("2026-10")
SNAPSHOTS = Path(__file__).parent / "snapshots"
CI = os.environ.get("CI", "").lower() == "true"


def _snapshot(name: str, text: str) -> None:
    """Compare with (or, with UPDATE_SNAPSHOTS=1 or outside CI when missing, write) ``snapshots/name``."""
    path = SNAPSHOTS / name
    if os.environ.get("UPDATE_SNAPSHOTS") or not path.exists():
        assert not (CI and not path.exists()), f"snapshot {path} is missing (UPDATE_SNAPSHOTS=1, then commit it)"
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} changed: review, then UPDATE_SNAPSHOTS=1"


#: (staff, day) → the punches of that day, where they differ from 08:50, 12:01, 12:55, 17:05
ODD = {
    ("1", 9): ("09:20", "12:01", "12:55", "17:05"),  # late
    ("1", 12): ("08:50", "12:01", "12:55", "16:40"),  # early
    ("1", 13): ("09:15", "12:01", "12:55", "16:30"),  # late and early
    ("2", 14): ("08:50", "12:01", "17:05"),  # the pm_in missing
    ("3", 15): (),  # not a punch all day
    ("3", 19): ("12:55", "17:05"),  # the morning on sick leave
}


def _fill(store) -> None:
    put_roster(
        store,
        [(no, name, "gongan", "chief" if no == "1" else "staff") for no, name in (("10", "赵六"), ("1", "张伟"))]
        + [("2", "李娜", "gongan", "staff"), ("3", "王芳", "gongan", "staff")],
        now_utc=datetime(2026, 9, 1, tzinfo=UTC),
    )
    cal, punches = WorkCalendar(), []
    for d in OCTOBER.days():
        for no in ("1", "2", "3", "10"):
            works = cal.is_workday(d) or (no == "2" and d.weekday() == 6)  # staff 2: the Sunday rota
            if not works or (no == "3" and d.day == 16):
                continue
            for hhmm in ODD.get((no, d.day), ("08:50", "12:01", "12:55", "17:05")):
                punches.append(Punch(no, datetime.combine(d, time(*map(int, hhmm.split(":"))))))
    pulled = {"device_name": "hall", "device_serial": "S1", "source": "zk", "quarantined": []}
    store.save_punches(**pulled, punches=punches, now_utc=datetime(2026, 11, 2, 1, tzinfo=UTC))
    put_records(
        store,
        "leaves",
        [
            {"ref": "L1", "staff_no": "3", "kind": "personal", "note": "", "start": datetime(2026, 10, 16, 8)}
            | {"end": datetime(2026, 10, 16, 18)},
            {"ref": "L2", "staff_no": "3", "kind": "sick", "note": "", "start": datetime(2026, 10, 19, 8)}
            | {"end": datetime(2026, 10, 19, 12, 10)},
        ],
        now_utc=datetime(2026, 11, 2, tzinfo=UTC),
    )


@pytest.fixture(scope="module")
def october(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("daily")
    cfg = config_from_dict(
        {
            "site": {"name": "日表县政务服务中心", "timezone": "Asia/Shanghai", "since": "2026-09-01"},
            "store": {"url": f"sqlite:///{tmp / 'store.db'}"},
            "devices": [{"name": "hall", "driver": "zk", "host": "127.0.0.1", "serial": "S1"}],
            "timetables": {"standard": {"slots": standard_slots()}},
            "policies": {"hall": {"preset": "sanjiang"}},
            "windows": [
                {"code": "gongan", "name": "公安窗口", "timetable": "standard", "policy": "hall", "devices": ["hall"]}
            ],
            "duty_rotas": [{"timetable": "standard", "staff": ["2"], "weekdays": [7], "start": "2026-10-04"}],
            "bulletin": {"dir": str(tmp / "bulletins")},
        }
    )
    store = open_store(cfg.store_url(), timezone="Asia/Shanghai")
    _fill(store)
    b = collect(store, cfg, OCTOBER, now=NOW, queue=False)
    store.close()
    return b, tmp


def _cells(b) -> dict[tuple[str, int], str]:
    grid = b.windows[0].daily
    return {(r.staff_no, d.day): c.code for r in grid.rows for d, c in zip(grid.days, r.cells, strict=True)}


def test_a_code_a_day_for_every_officer(october):
    b, _ = october
    grid = b.windows[0].daily
    assert [r.staff_no for r in grid.rows] == ["1", "2", "3", "10"]  # the staff table's order
    assert len(grid.days) == 31
    cells = _cells(b)
    assert [cells[("10", d)] for d in range(1, 12)] == ["节"] * 7 + ["√", "√", "√", "休"]  # 10-10 is 调休上班
    assert cells[("1", 9)] == "迟" and cells[("1", 12)] == "早" and cells[("1", 13)] == "迟"
    assert cells[("2", 14)] == "缺" and cells[("3", 15)] == "旷"
    assert cells[("3", 16)] == "事" and cells[("3", 19)] == "病"
    assert cells[("2", 4)] == "值" and cells[("2", 11)] == "值" and cells[("2", 10)] == "√"
    # the cell says the worst; its detail says all of it
    both = grid.rows[0].cells[12]
    assert "迟到 1 次" in both.detail and "早退 1 次" in both.detail
    # the totals are the staff table's own
    for row, s in zip(grid.rows, b.windows[0].staff, strict=True):
        assert row.totals == {
            "出勤天数": s.present_days,
            "迟到": s.late,
            "早退": s.early,
            "缺卡": s.missing,
            "旷工(天)": s.absent_days,
            "请假(天)": sum(s.leave_days.values()),
        }


def test_one_code_by_precedence():
    d = date(2026, 3, 2)

    def code(**over):
        return day_cell(scoring_staff_day("1", d, **over)).code

    assert code(status="absent", absent_days=1.0) == "旷"
    assert code(status="half_absent", absent_days=0.5, late_count=1) == "旷"
    assert code(status="missing", missing_punches=1, late_count=1) == "缺"
    assert code(status="late_early", early_count=1) == "迟"
    assert code(status="early", late_count=0, early_count=1) == "早"
    assert code(status="leave", late_count=0, leave_kind="annual", leave_days=1.0) == "年"
    assert code(status="leave", late_count=0, leave_kind="study", leave_days=1.0) == "假"  # a kind without a code
    assert code(status="ok", late_count=0, day_kind="duty") == "值"
    assert code(status="not_scheduled", late_count=0, day_kind="holiday") == "节"
    assert code(status="not_scheduled", late_count=0) == ""  # a workday not (yet) scheduled
    assert day_cell(None).code == ""


def test_a_quarter_has_no_daily_sheet(october, tmp_path):
    import openpyxl

    q = build_bulletin(
        {"staff_days": [scoring_staff_day("1", date(2026, 3, 2))]},
        centre="中心",
        period=parse_period("2026-Q1"),
        issued=date(2026, 4, 3),
        names={},
        windows=[("gongan", "公安窗口")],
    )
    assert q.windows[0].daily is None
    write_bulletin(q, "xlsx", tmp_path / "q.xlsx")
    assert not [n for n in openpyxl.load_workbook(tmp_path / "q.xlsx").sheetnames if n.startswith("每日")]
    assert '<details class="daily">' not in render_html(q)


def test_xlsx_daily_sheet_snapshot(october):
    import openpyxl

    b, tmp = october
    path = tmp / "b.xlsx"
    write_bulletin(b, "xlsx", path)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames.index("每日-公安窗口") == wb.sheetnames.index("人员考勤") + 1
    ws = wb["每日-公安窗口"]
    assert ws.freeze_panes == "C6"
    fills, comments = {}, {}
    for row in ws.iter_rows():
        for c in row:
            rgb = c.fill.fgColor.rgb if c.fill and c.fill.fill_type == "solid" else None
            if rgb and c.value and rgb[-6:] != "F1F1F1":  # not the header's grey
                fills.setdefault(str(c.value), set()).add(rgb[-6:])
            if c.comment:
                comments[c.coordinate] = c.comment.text.split("\n")[0]
    # the colour legend: a code by its colour, the same in the legend row and the grid
    assert {k: sorted(v) for k, v in fills.items() if k in ("旷", "迟", "缺", "事", "值", "节")} == {
        "旷": ["FF9999"],
        "迟": ["FFE699"],
        "缺": ["F8CBAD"],
        "事": ["BDD7EE"],
        "值": ["C6EFCE"],
        "节": ["E7E6E6"],
    }
    values = [list(r) for r in ws.iter_rows(values_only=True)]
    state = {"values": values, "fills": {k: sorted(v) for k, v in sorted(fills.items())}, "comments": comments}
    _snapshot("daily-2026-10.xlsx.json", json.dumps(state, ensure_ascii=False, indent=1, sort_keys=True) + "\n")


def test_html_daily_section_snapshot(october):
    b, _ = october
    html = render_html(b)
    section = re.search(r'<details class="daily">.*?</details>', html, re.S)
    assert section, "the window has a folded daily section"
    text = section.group(0)
    assert 'class="d-absent"' in text and 'title="迟到 1 次（15 分钟）；早退' in text
    # each row: the staff number, then (colour class, title, code) a day, then the totals
    rows = [
        re.findall(r'<td(?: class="([\w-]+)")?(?: title="([^"]*)")?>([^<]*)</td>', row)
        for row in re.findall(r"<tr><td>.*?</tr>", text)
    ]
    assert len(rows) == 4 and all(len(r) == 2 + 31 + 6 for r in rows)
    cells = [[" ".join(x for x in (code, kind, title) if x) for kind, title, code in r] for r in rows]
    _snapshot("daily-2026-10.html.json", json.dumps(cells, ensure_ascii=False, indent=1) + "\n")
