"""Issue 13, points 1–5: the clerk's files taken as the clerk meant them, or refused with one line.

Each test goes through the command line (``attendd import KIND FILE`` in process), asserts the
exit code and the message, and lists the store afterwards: a refused file stores nothing.
"""

from __future__ import annotations

import json
import subprocess

import pytest
from helpers import assert_clean_failure, write_centre
from helpers import run_cli as attendd

from daemon.imports.parsers import parse_rows
from daemon.imports.reader import read_csv_text

WINDOWS = [("gongan", "公安窗口", "hall"), ("shuiwu", "税务窗口", "hall"), ("tax2", "税务窗口", "hall")]


@pytest.fixture
def cli(tmp_path):
    cfg = write_centre(tmp_path, windows=WINDOWS)

    def run(*args: str) -> subprocess.CompletedProcess:
        return attendd("--config", str(cfg), *args)

    return run


def listed(cli, kind: str) -> list[dict]:
    proc = cli("list", kind, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def put(tmp_path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def refused(proc: subprocess.CompletedProcess) -> list[str]:
    """The stderr lines of a refusal (exit 2, no traceback)."""
    assert_clean_failure(proc, 2)
    return proc.stderr.strip().splitlines()


def test_roster_window_codes_are_checked_and_unambiguous_names_accepted(cli, tmp_path):
    """Point 1: an unknown window is a bad row naming the known ones; a unique Chinese name is its code."""
    path = put(
        tmp_path,
        "花名册.csv",
        "工号,姓名,窗口\n1,甲,gongan\n2,乙,公安窗口\n3,丙,公安局窗口\n4,丁,税务窗口\n",
    )
    lines = refused(cli("import", "roster", path))
    assert lines == [
        f"{path}:4: 窗口 '公安局窗口' is not a window code; known: gongan (公安窗口), shuiwu (税务窗口), tax2 (税务窗口)",
        f"{path}:5: 窗口 '税务窗口' is the name of 2 windows (shuiwu, tax2); write the code",
        f"attendd: {path}: read 4, stored 0, rejected 2: nothing stored "
        "(fix the rows above, or pass --skip-bad to store the good ones)",
    ]
    assert listed(cli, "staff") == []
    good = put(tmp_path, "good.csv", "工号,姓名,窗口\n1,甲,gongan\n2,乙,公安窗口\n")
    proc = cli("import", "roster", good)
    assert proc.returncode == 0, proc.stderr
    assert {r["staff_no"]: r["window_code"] for r in listed(cli, "staff")} == {"1": "gongan", "2": "gongan"}


def test_roster_without_configured_windows_is_stored_with_a_note(tmp_path):
    """A terminals-only config (no [[windows]]) cannot check window codes: it says so."""
    cfg = write_centre(tmp_path, windows=[])
    path = put(tmp_path, "r.csv", "工号,姓名,窗口\n1,甲,gongan\n")
    proc = attendd("--config", str(cfg), "import", "roster", path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() == f"{path}: note: {cfg} has no [[windows]]; window codes are not checked"


def test_unknown_columns_are_reported_and_chinese_date_headers_accepted(cli, tmp_path):
    """Point 2: 部门 is not a roster column (one line, nothing stored); 入职日期 / 离职日期 are."""
    path = put(tmp_path, "r.csv", "工号,姓名,窗口,部门\n1,甲,gongan,公安局\n")
    [line] = refused(cli("import", "roster", path))
    assert line.startswith(f"attendd: {path}: unknown column(s) '部门'; a roster file has: 工号, 姓名, 窗口, 角色")
    assert "The clerk's files" in line
    assert listed(cli, "staff") == []
    ok = put(tmp_path, "ok.csv", "序号,工号,姓名,窗口,入职日期,离职日期\n1,7,甲,gongan,2026-01-05,2026-12-31\n")
    proc = cli("import", "roster", ok)
    assert proc.returncode == 0, proc.stderr
    [row] = listed(cli, "staff")
    assert (row["staff_no"], row["active_from"], row["active_to"]) == ("7", "2026-01-05", "2026-12-31")


def test_reimport_updates_only_the_columns_the_file_has(cli, tmp_path):
    """Point 3: a roster of 工号,姓名,窗口 keeps the chief's role and dates."""
    full = put(
        tmp_path, "full.csv", "工号,姓名,窗口,角色,入职日期,离职日期\n1,甲,gongan,首席代表,2026-01-05,2026-12-31\n"
    )
    assert cli("import", "roster", full).returncode == 0
    short = put(tmp_path, "short.csv", "工号,姓名,窗口\n1,甲某,shuiwu\n2,乙,gongan\n")
    proc = cli("import", "roster", short)
    assert proc.returncode == 0, proc.stderr
    assert "read 2, stored 2, rejected 0; new 1, updated 1, unchanged 0" in proc.stdout
    staff = {r["staff_no"]: r for r in listed(cli, "staff")}
    assert (staff["1"]["name"], staff["1"]["window_code"], staff["1"]["role"]) == ("甲某", "shuiwu", "chief")
    assert (staff["1"]["active_from"], staff["1"]["active_to"]) == ("2026-01-05", "2026-12-31")
    assert (staff["2"]["role"], staff["2"]["active_from"], staff["2"]["exempt"]) == ("staff", None, False)
    # leave without its 备注 column keeps the stored note
    with_note = put(
        tmp_path, "l1.csv", "工号,请假类型,开始时间,结束时间,备注\n1,病假,2026-03-02 09:00,2026-03-02 17:00,感冒\n"
    )
    assert cli("import", "leaves", with_note).returncode == 0
    no_note = put(tmp_path, "l2.csv", "工号,请假类型,开始时间,结束时间\n1,事假,2026-03-02 09:00,2026-03-02 17:00\n")
    assert "updated 1" in cli("import", "leaves", no_note).stdout
    [leave] = listed(cli, "leaves")
    assert (leave["kind"], leave["note"]) == ("personal", "感冒")


def test_leave_as_clerks_write_it(cli, tmp_path):
    """Point 4: dates alone are whole days; 调休 and 出差 are kinds; unknown staff is a bad row;
    a second import of the same file says how many rows were unchanged."""
    roster = put(tmp_path, "r.csv", "工号,姓名,窗口\n1,甲,gongan\n2,乙,gongan\n")
    assert cli("import", "roster", roster).returncode == 0
    text = "工号,请假类型,开始时间,结束时间\n1,调休,2026-03-02,2026-03-03\n2,出差,2026/3/4,2026/3/4\n"
    bad = put(tmp_path, "bad.csv", text + "9,事假,2026-03-05,2026-03-05\n")
    lines = refused(cli("import", "leaves", bad))
    assert lines[0] == f"{bad}:4: 工号 '9' is not in the roster (import the roster first)"
    assert lines[1].startswith(f"attendd: {bad}: read 3, stored 0, rejected 1: nothing stored")
    assert listed(cli, "leaves") == []
    good = put(tmp_path, "good.csv", text)
    proc = cli("import", "leaves", good)
    assert proc.returncode == 0, proc.stderr
    rows = {r["staff_no"]: r for r in listed(cli, "leaves")}
    assert (rows["1"]["kind"], rows["1"]["start"], rows["1"]["end"]) == (
        "in_lieu",
        "2026-03-02 00:00:00",
        "2026-03-03 23:59:59",
    )
    assert (rows["2"]["kind"], rows["2"]["start"], rows["2"]["end"]) == (
        "business_trip",
        "2026-03-04 00:00:00",
        "2026-03-04 23:59:59",
    )
    again = cli("import", "leaves", good)
    assert again.returncode == 0
    assert again.stdout.strip() == f"{good}: leaves: read 2, stored 0, rejected 0; new 0, updated 0, unchanged 2"
    midday = put(tmp_path, "m.csv", "工号,请假类型,开始时间,结束时间\n1,中途请假,2026-03-09,2026-03-09\n")
    assert (
        refused(cli("import", "leaves", midday))[0]
        == f"{midday}:2: 中途请假 needs a start and end time (开始时间 and 结束时间)"
    )


def test_messages_name_the_clerks_header_and_the_chinese_forms(cli, tmp_path):
    """Point 5: 入职日期 in the message, not active_from; an enum lists its Chinese forms."""
    roster = put(tmp_path, "r.csv", "工号,姓名,窗口,入职日期,角色\n1,甲,gongan,2026-02-30,staff\n2,乙,gongan,,老板\n")
    lines = refused(cli("import", "roster", roster))
    assert lines[0].startswith(f"{roster}:2: 入职日期 '2026-02-30' is not a real date")
    assert (
        lines[1] == f"{roster}:3: unknown 角色 '老板' (expected one of: 首席代表/窗口负责人 (chief), 工作人员 (staff))"
    )
    inspections = put(tmp_path, "i.csv", "工号,巡查时间,问题类型,时长\n1,2026-03-06 10:15,打牌,五分钟\n")
    lines = refused(cli("import", "inspections", inspections))
    assert lines[0].startswith(
        f"{inspections}:2: unknown 问题类型 '打牌' (expected one of: 离岗/脱岗 (off_post), 串岗 (roaming), "
    )
    assert "睡岗/打瞌睡 (sleeping)" in lines[0]
    assert listed(cli, "staff") == [] and listed(cli, "inspections") == []


def test_parse_rows_labels_default_to_the_column_names():
    """Without the file's headers (a caller of parse_rows), messages use the column names."""
    table = read_csv_text("staff_no,at,kind\n1,2026-03-06,sleeping\n", "x.csv")
    parsed = parse_rows("inspections", table.rows, "x.csv", labels=table.headers)
    [problem] = parsed.problems
    assert problem == "x.csv:2: at '2026-03-06' is not a date and time (YYYY-MM-DD HH:MM)"


def test_an_exemptions_slot_may_be_written_as_the_bulletin_prints_it(tmp_path):
    """Issue 17: the bulletin says 上午签退; the clerk's 情况说明 file may say so too (a slot's label
    is read as its name)."""
    import json

    from helpers import run_cli, write_centre

    cfg = str(write_centre(tmp_path))
    roster = tmp_path / "r.csv"
    roster.write_text("工号,姓名,窗口\n1001,甲,gongan\n", encoding="utf-8")
    assert run_cli("--config", cfg, "import", "roster", str(roster)).returncode == 0
    path = tmp_path / "e.csv"
    path.write_text(
        "工号,日期,时段,原因\n1001,2026-03-04,上午签退,外出\n1001,2026-03-05,下午签到,培训\n", encoding="utf-8"
    )
    proc = run_cli("--config", cfg, "import", "exemptions", str(path))
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(run_cli("--config", cfg, "list", "exemptions", "--format", "json").stdout)
    assert sorted(r["slot"] for r in rows) == ["am_out", "pm_in"]
    path.write_text("工号,日期,时段\n1001,2026-03-06,午间签到\n", encoding="utf-8")
    bad = run_cli("--config", cfg, "import", "exemptions", str(path))
    assert (
        bad.returncode == 2
        and "unknown 时段 '午间签到' (expected all, 全天 or a timetable slot: am_in, am_out" in bad.stderr
    )
