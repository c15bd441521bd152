"""Issue 14, the read side: the dashboard, a person's month explained, the window grid, the
period's results and bulletin, the terminals, the punch and quarantine searches."""

from __future__ import annotations

import re
from datetime import date

import pytest
from conftest import login
from helpers import fill


@pytest.fixture
def signed_in(console):
    fill(console.store, late_on=date(2026, 3, 3))  # staff 2 (乙, 公安窗口) in at 09:20 on 3 March
    login(console, "viewer1")
    return console


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_staff_month_explains_the_late_day(signed_in):
    r = signed_in.get("/staff/2/2026-03")
    assert r.status_code == 200
    text = _text(r.text)
    assert "乙（2）· 2026-03" in text
    # the day, its slot's due time and acceptance window, the punch chosen, the decision, the points, the clause
    row = re.search(r'<tr class="k-late" id="day-2026-03-03">(.*?)</tr>', r.text, re.S)
    assert row, r.text[:2000]
    cells = _text(row.group(1))
    assert "03-03" in cells and "上午签到" in cells and "09:00" in cells and "09:20:00" in cells
    assert "迟到 20 分钟" in cells and "3" in cells
    assert "每次扣3分" in cells  # the clause of the preset's document that prices it (罗山 附件1)
    assert "罗山" in text  # the document, named in the page's head
    assert "得分 22 / 25（扣 3 分）" in text  # 罗山: 25 points, 迟到 3 each
    # a rest day is shown as such, a normal day as 正常
    assert re.search(r'<tr class="k-rest"[^>]*><th>03-01</th><td>休息日</td>', r.text)


def test_the_staff_month_names_an_unknown_person_or_period(signed_in):
    r = signed_in.get("/staff/999/2026-03")
    assert r.status_code == 404 and "not in the roster" in r.text
    r = signed_in.get("/staff/2/2026-13")
    assert r.status_code == 404 and "无法识别" in r.text


def test_the_window_grid_marks_the_late_day_and_totals(signed_in):
    r = signed_in.get("/windows/gongan/2026-03")
    assert r.status_code == 200
    row = re.search(r"<tr>\s*<td>2</td>(.*?)</tr>", r.text, re.S)
    assert row
    cells = re.findall(r'<td class="cell k-([a-z_]+)">', row.group(1))
    assert len(cells) == 31 and cells[2] == "late" and cells[0] == "rest" and cells[1] == "ok"
    assert "/staff/2/2026-03#day-2026-03-03" in row.group(1)
    assert "排名第" in r.text and "窗口得分" in r.text
    assert signed_in.get("/windows/nope/2026-03").status_code == 404


def test_the_period_page_ranks_windows_and_serves_the_bulletin(signed_in):
    r = signed_in.get("/periods/2026-03")
    assert r.status_code == 200 and "公安窗口" in r.text and "税务窗口" in r.text
    assert '<iframe class="bulletin" sandbox src="/periods/2026-03/bulletin.html"' in r.text  # shown in the page
    html = signed_in.get("/periods/2026-03/bulletin.html")
    assert html.status_code == 200 and "考勤通报" in html.text
    assert "script-src" not in html.headers["Content-Security-Policy"]  # default-src 'none': no script at all
    assert html.headers["X-Frame-Options"] == "SAMEORIGIN"  # framed by the period page only
    xlsx = signed_in.get("/periods/2026-03/bulletin.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK" and "attachment" in xlsx.headers["content-disposition"]
    assert signed_in.get("/periods/2026-03/bulletin.exe").status_code == 404


def test_the_dashboard_shows_the_month_by_window_and_the_backlog(signed_in, clock):
    r = signed_in.get("/")
    assert r.status_code == 200
    text = _text(r.text)
    assert "2026-06 至今（按窗口）" in text and "考勤机" in text
    assert "没有积压" in text


def test_punch_search_and_quarantine(signed_in):
    r = signed_in.get("/punches?staff=2&from=2026-03-03&to=2026-03-03")
    assert r.status_code == 200
    times = re.findall(r"<td>(2026-03-03 \d\d:\d\d:\d\d)</td><td><a", r.text)
    assert sorted(times) == ["2026-03-03 09:20:00", "2026-03-03 12:01:00", "2026-03-03 12:55:00", "2026-03-03 17:05:00"]
    frag = signed_in.get("/punches?staff=2&from=2026-03-03&to=2026-03-03", headers={"HX-Request": "true"})
    assert frag.status_code == 200 and "<html" not in frag.text and "09:20:00" in frag.text
    bad = signed_in.get("/punches?from=2026-02-30")
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.text
    assert signed_in.get("/quarantine").status_code == 200
