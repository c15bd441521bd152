"""Issue 15 (3): appeals (申诉) — filed and decided in the console and on the command line, on the
record, the upheld ones removing their deduction through a linked exemption."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from conftest import login
from helpers import fill, run_cli, write_centre

LATE = "2026-03-03/am_in"  # staff 2's late (fill: in at 09:20 on 3 March)


def _csrf(client, path: str = "/appeals") -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert m
    return m.group(1)


def _late_points(client) -> list[float]:
    account = client.get("/api/v1/staff/2/2026-03").json()
    day = next(d for d in account["days"] if d["day"] == "2026-03-03")
    return [x["points"] for x in day["deductions"]]


@pytest.fixture
def clerk(console):
    fill(console.store, late_on=date(2026, 3, 3))
    login(console, "clerk1")
    return console


def test_an_upheld_appeal_removes_its_deduction_through_an_exemption(clerk):
    from daemon.store import changes

    assert _late_points(clerk) == [3]
    token = _csrf(clerk)
    filed = clerk.post(
        "/appeals",
        data={"csrf": token, "staff": "2", "ref": LATE, "says": "考勤机故障，已找值班长登记", "received": "2026-04-02"},
    )
    assert filed.status_code == 303
    page = clerk.get("/appeals").text
    assert "考勤机故障" in page and "2026-04-15" in page  # decided by the 15th of the next month ([appeals])
    assert "待处理申诉（1）" in clerk.get("/").text  # open appeals on the dashboard
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    decided = clerk.post(
        "/appeals/1/decide", data={"csrf": token, "verdict": "uphold", "reason": "值班记录属实", "version": version}
    )
    assert decided.status_code == 303
    assert _late_points(clerk) == []  # the exemption appeal-1 excuses the slot
    with clerk.store.reading() as conn:
        (ref, slot) = conn.exec_driver_sql("SELECT ref, slot FROM exemption").one()
    assert (ref, slot) == ("appeal-1", "am_in")
    log = [(c["action"], c["by"], c["via"]) for c in changes(clerk.store)]
    assert log == [("appeal_uphold", "clerk1", "web"), ("appeal_file", "clerk1", "web")]
    # a second decision of the same appeal (a second clerk's stale page) changes nothing
    again = clerk.post(
        "/appeals/1/decide", data={"csrf": token, "verdict": "reject", "reason": "x", "version": version}
    )
    assert again.status_code == 400 and "already upheld by clerk1" in again.text


def test_a_rejected_appeal_keeps_the_deduction_and_says_why(clerk):
    token = _csrf(clerk)
    clerk.post("/appeals", data={"csrf": token, "staff": "2", "ref": LATE, "says": "路上堵车"})
    r = clerk.post(
        "/appeals/1/decide", data={"csrf": token, "verdict": "reject", "reason": "堵车不属于免责情形", "version": "1"}
    )
    assert r.status_code == 303
    assert _late_points(clerk) == [3]
    assert "驳回" in clerk.get("/appeals").text and "堵车不属于免责情形" in clerk.get("/appeals").text


def test_two_clerks_deciding_one_appeal_the_second_is_told(clerk):
    token = _csrf(clerk)
    clerk.post("/appeals", data={"csrf": token, "staff": "2", "ref": LATE, "says": "s"})
    first = clerk.post("/appeals/1/decide", data={"csrf": token, "verdict": "reject", "reason": "r1", "version": "1"})
    second = clerk.post("/appeals/1/decide", data={"csrf": token, "verdict": "uphold", "reason": "r2", "version": "1"})
    assert first.status_code == 303 and second.status_code == 400 and "already rejected by clerk1" in second.text


def test_appeal_mistakes_are_one_line_and_viewers_cannot_act(clerk):
    token = _csrf(clerk)
    unknown = clerk.post("/appeals", data={"csrf": token, "staff": "999", "ref": LATE, "says": "s"})
    assert unknown.status_code == 400 and "not in the roster" in unknown.text
    bad_day = clerk.post("/appeals", data={"csrf": token, "staff": "2", "ref": LATE, "says": "s", "received": "3月"})
    assert bad_day.status_code == 400 and "YYYY-MM-DD" in bad_day.text
    assert clerk.post("/appeals", data={"staff": "2", "ref": LATE, "says": "s"}).status_code == 403  # no CSRF
    clerk.cookies.clear()
    login(clerk, "viewer1")
    assert clerk.get("/appeals").status_code == 200  # a viewer reads
    vtoken = _csrf(clerk, "/devices")
    assert clerk.post("/appeals", data={"csrf": vtoken, "staff": "2", "ref": LATE, "says": "s"}).status_code == 403
    from daemon.store import appeals

    assert appeals(clerk.store) == []


def test_appeals_on_the_command_line(tmp_path):
    cfg = str(write_centre(tmp_path))
    from daemon.config import load_config
    from daemon.store import open_store

    store = open_store(load_config(cfg).store.url, timezone="Asia/Shanghai")
    fill(store, late_on=date(2026, 3, 3))
    store.close()
    added = run_cli(
        "--config", cfg, "appeal", "add", "--staff", "2", "--ref", LATE, "--says", "设备故障", "--by", "王芳"
    )
    assert added.returncode == 0 and added.stdout.strip() == "appeal 1 recorded"
    dup = run_cli("--config", cfg, "appeal", "add", "--staff", "2", "--ref", LATE, "--says", "again", "--by", "王芳")
    assert dup.returncode == 2 and dup.stderr.strip() == f"attendd: deduction '{LATE}' of 2: appeal 1 is already open"
    listed = json.loads(run_cli("--config", cfg, "appeal", "list", "--format", "json").stdout)
    assert [(a["id"], a["status"], a["deadline"]) for a in listed] == [(1, "open", "2026-04-15")]
    no_reason = run_cli("--config", cfg, "appeal", "decide", "1", "--uphold", "--reason", " ", "--by", "王芳")
    assert no_reason.returncode == 2 and "reason" in no_reason.stderr
    ok = run_cli("--config", cfg, "appeal", "decide", "1", "--uphold", "--reason", "属实", "--by", "王芳")
    assert ok.returncode == 0 and ok.stdout.strip() == "appeal 1: upheld (exemption:appeal-1)"
    gone = run_cli("--config", cfg, "explain", "--staff", "2", "--period", "2026-03", "--format", "json")
    day = next(d for d in json.loads(gone.stdout)["days"] if d["day"] == "2026-03-03")
    assert day["deductions"] == []
    nobody = run_cli("--config", cfg, "appeal", "decide", "9", "--reject", "--reason", "x", "--by", "王芳")
    assert nobody.returncode == 2 and nobody.stderr.strip() == "attendd: appeal 9: no such appeal"


def test_the_close_preview_lists_the_open_appeals(clerk):
    token = _csrf(clerk)
    clerk.post("/appeals", data={"csrf": token, "staff": "2", "ref": LATE, "says": "考勤机故障"})
    preview = clerk.get("/periods/2026-03/close")
    assert (
        preview.status_code == 200 and "本期还有 1 条申诉未处理" in preview.text and "/appeals#appeal-1" in preview.text
    )
    assert "没有待处理的申诉" in clerk.get("/periods/2026-04/close").text


def test_the_annex_marks_deductions_under_appeal_and_rejected(clerk):
    token = _csrf(clerk)
    clerk.post("/appeals", data={"csrf": token, "staff": "2", "ref": LATE, "says": "考勤机故障"})
    html = clerk.get("/periods/2026-03/bulletin.html").text
    assert "申诉中（第1号）" in html
    clerk.post("/appeals/1/decide", data={"csrf": token, "verdict": "reject", "reason": "无记录", "version": "1"})
    assert "申诉已驳回（第1号）" in clerk.get("/periods/2026-03/bulletin.html").text
    assert "申诉" not in clerk.get("/periods/2026-04/bulletin.html").text


def test_an_upheld_appeals_removed_deduction_is_listed_with_its_remedy(clerk, tmp_path):
    """Issue 15 (3): "the bulletin's annex marks deductions under appeal and those changed by one" —
    the upheld appeal's deduction is gone from the annex, and the appeals table says what became of it."""
    import io

    import openpyxl

    token = _csrf(clerk)
    clerk.post("/appeals", data={"csrf": token, "staff": "2", "ref": LATE, "says": "考勤机故障"})
    before = clerk.get("/periods/2026-03/bulletin.html").text
    assert "申诉中（第1号）" in before and "申诉处理情况" in before
    decided = clerk.post(
        "/appeals/1/decide", data={"csrf": token, "verdict": "uphold", "reason": "属实", "version": "1"}
    )
    assert decided.status_code in (200, 303)
    html = clerk.get("/periods/2026-03/bulletin.html").text
    assert "申诉中（第1号）" not in html  # the deduction itself is gone
    assert "申诉成立，已更正" in html and "考勤机故障" in html and "属实" in html
    xlsx = clerk.get("/periods/2026-03/bulletin.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content))["申诉处理"]
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    assert rows[0][:7] == ["编号", "窗口", "工号", "姓名", "扣分引用", "申诉内容", "处理结果"]
    assert rows[1][0] == 1 and rows[1][2] == "2" and rows[1][4] == LATE and rows[1][6] == "申诉成立，已更正"
    assert rows[1][10] == "exemption:appeal-1"
