"""Importing the clerk's files (SPEC §4.3): CSV in UTF-8 / BOM / GBK, XLSX, bad rows, --skip-bad, list."""

from __future__ import annotations

import json
import subprocess
from datetime import date, datetime

import pytest
from helpers import run_cli as attendd
from helpers import write_centre
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daemon.errors import UserError
from daemon.imports.parsers import KINDS, REQUIRED, parse_file, parse_rows
from daemon.imports.reader import read_csv_text, read_table


@pytest.fixture
def cli(tmp_path):
    cfg = write_centre(tmp_path, windows=[("W01", "综合窗口", "hall")])

    def run(*args: str) -> subprocess.CompletedProcess:
        proc = attendd("--config", str(cfg), *args)
        assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
        return proc

    return run


def listed(cli, kind: str) -> list[dict]:
    proc = cli("list", kind, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


CSV = {
    "roster": (
        "staff_no,name,window_code,role,active_from,active_to\n"
        "1001,张三,W01,chief,2026-01-01,\n"
        "1002,李四,W01,staff,2026/01/05,2026-12-31\n"
    ),
    "leaves": (
        "staff_no,kind,start,end,note\n"
        "1001,sick,2026-03-02 09:00,2026-03-02 17:00,感冒\n"
        "1002,midday,2026-03-03 10:00:00,2026-03-03 11:00,\n"
    ),
    "exemptions": ("staff_no,date,slot,reason\n1001,2026-03-04,all,外出办事\n1002,2026/03/05,am_in,培训\n"),
    "inspections": (
        "staff_no,at,kind,minutes,note\n1001,2026-03-06 10:15,off_post,20,\n1002,2026-03-06 15:00,sleeping,,巡查发现\n"
    ),
    "substitutions": (
        "substitute_no,covered_no,start_date,end_date\n"
        "1003,1001,2026-03-09,2026-03-13\n"
        "1003,1002,2026-03-16,2026-03-16\n"
    ),
    "duty": "日期,窗口,工号,作息,备注\n2026-03-07,W01,,standard,周六值班\n2026/03/08,,1001,standard,\n",
    "rotas": (
        "窗口,轮值人员,作息,星期,适用日,开始日期\n"
        "W01,,standard,周六、周日,休息日,\n"
        ",1001、1002,standard,周日,,2026-03-01\n"
    ),
    "assessments": (
        "日期,窗口,工号,考核类别,考核项目,类型,分值,依据,记录人\n"
        "2026-03-05,W01,,纪律作风,上班玩手机,扣分,3,督查单 12 号,监督办\n"
        "2026-03-06,,1001,政务服务,群众表扬,加分,1,表扬信,监督办\n"
    ),
    # 003 罗山: the windows' 纪律作风 20, 审批业务 20 (quarterly; a score is checked against the maximum)
    "category-scores": "考核期,窗口,考核类别,得分\n2026-Q1,W01,纪律作风,18.5\n2026-Q1,W01,审批业务,19\n",
}
LIST_NAME = {"roster": "staff"}


def seed_roster(cli, tmp_path, *staff_nos: str) -> None:
    """A roster of these staff numbers (leave is only taken for staff in the roster)."""
    path = tmp_path / "seed-roster.csv"
    path.write_text("工号,姓名,窗口\n" + "".join(f"{n},人{n},W01\n" for n in staff_nos), encoding="utf-8")
    assert cli("import", "roster", str(path)).returncode == 0


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_from_utf8_csv_and_reimport_replaces(cli, tmp_path, kind):
    if kind in ("leaves", "duty", "rotas", "assessments", "category-scores"):
        seed_roster(cli, tmp_path, "1001", "1002")
    path = tmp_path / f"{kind}.csv"
    path.write_text(CSV[kind], encoding="utf-8")
    proc = cli("import", kind, str(path))
    assert proc.returncode == 0, proc.stderr
    assert "read 2, stored 2, rejected 0" in proc.stdout
    first = listed(cli, LIST_NAME.get(kind, kind))
    assert len(first) == 2
    proc = cli("import", kind, str(path))
    assert proc.returncode == 0, proc.stderr
    assert "read 2, stored 0, rejected 0; new 0, updated 0, unchanged 2" in proc.stdout
    assert listed(cli, LIST_NAME.get(kind, kind)) == first  # replaced, never doubled


def test_leaves_list_json_shows_what_is_stored(cli, tmp_path):
    seed_roster(cli, tmp_path, "1001", "1002")
    path = tmp_path / "leaves.csv"
    path.write_text(CSV["leaves"], encoding="utf-8")
    assert cli("import", "leaves", str(path)).returncode == 0
    rows = sorted(listed(cli, "leaves"), key=lambda r: r["staff_no"])
    assert [(r["staff_no"], r["kind"], r["start"], r["end"], r["note"]) for r in rows] == [
        ("1001", "sick", "2026-03-02 09:00:00", "2026-03-02 17:00:00", "感冒"),
        ("1002", "midday", "2026-03-03 10:00:00", "2026-03-03 11:00:00", ""),
    ]
    assert all(r["ref"].startswith("L-") for r in rows)


def test_utf8_bom_csv(cli, tmp_path):
    path = tmp_path / "roster.csv"
    path.write_bytes(b"\xef\xbb\xbf" + CSV["roster"].encode("utf-8"))
    proc = cli("import", "roster", str(path))
    assert proc.returncode == 0, proc.stderr
    staff = {r["staff_no"]: r for r in listed(cli, "staff")}
    assert staff["1001"]["name"] == "张三" and staff["1001"]["role"] == "chief"
    assert staff["1002"]["active_from"] == "2026-01-05"


def test_gbk_csv_with_chinese_headers_and_values(cli, tmp_path):
    seed_roster(cli, tmp_path, "1001", "1002", "1003")
    path = tmp_path / "请假.csv"
    text = (
        "工号,姓名,请假类型,开始时间,结束时间,备注\n"
        "1001,张三,事假,2026-03-02 09:00,2026-03-02 12:00,家中有事\n"
        "1002,李四,年休假,2026/3/3 09:00,2026/3/5 17:00,\n"
        "1003,王五,中途请假,2026-03-06 14:00,2026-03-06 15:30,\n"
    )
    path.write_bytes(text.encode("gbk"))
    proc = cli("import", "leaves", str(path))
    assert proc.returncode == 0, proc.stderr
    rows = {r["staff_no"]: r for r in listed(cli, "leaves")}
    assert rows["1001"]["kind"] == "personal" and rows["1001"]["note"] == "家中有事"
    assert rows["1002"]["kind"] == "annual" and rows["1002"]["end"] == "2026-03-05 17:00:00"
    assert rows["1003"]["kind"] == "midday"


def test_tab_separated_chinese_inspections(cli, tmp_path):
    path = tmp_path / "巡查.csv"
    path.write_text("工号\t巡查时间\t问题类型\t时长\t说明\n1001\t2026-03-06 10:15\t脱岗\t15分钟\t\n", encoding="utf-8")
    proc = cli("import", "inspections", str(path))
    assert proc.returncode == 0, proc.stderr
    [row] = listed(cli, "inspections")
    assert (row["kind"], row["minutes"], row["at"]) == ("off_post", 15, "2026-03-06 10:15:00")


def test_xlsx_with_excel_date_cells(cli, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["工号", "日期", "时段", "事由"])
    ws.append([1001, date(2026, 3, 4), "全天", "外出办事"])
    ws.append(["1002", datetime(2026, 3, 5), "pm_out", "会议"])
    ws.append([None, None, None, None])  # a blank row is not a record
    path = tmp_path / "exemptions.xlsx"
    wb.save(path)
    proc = cli("import", "exemptions", str(path))
    assert proc.returncode == 0, proc.stderr
    assert "read 2, stored 2, rejected 0" in proc.stdout
    rows = {r["staff_no"]: r for r in listed(cli, "exemptions")}
    assert (rows["1001"]["day"], rows["1001"]["slot"]) == ("2026-03-04", "all")
    assert (rows["1002"]["day"], rows["1002"]["slot"]) == ("2026-03-05", "pm_out")


BAD_LEAVES = (
    "staff_no,kind,start,end,note\n"
    "1001,sick,2026-03-02 09:00,2026-03-02 17:00,\n"  # 2 good
    "1002,sick,2026-13-40 09:00,2026-03-02 17:00,\n"  # 3 bad date
    "1003,holiday,2026-03-02 09:00,2026-03-02 17:00,\n"  # 4 unknown kind
    "1004,annual,2026-03-05 09:00,2026-03-04 17:00,\n"  # 5 end before start
    "1005,事假,2026-03-06 09:00,2026-03-06 12:00,\n"  # 6 good
)


def test_bad_rows_reject_the_whole_file(cli, tmp_path):
    seed_roster(cli, tmp_path, "1001", "1002", "1003", "1004", "1005")
    path = tmp_path / "leaves.csv"
    path.write_text(BAD_LEAVES, encoding="utf-8")
    proc = cli("import", "leaves", str(path))
    assert proc.returncode == 2
    err = proc.stderr
    assert f"{path}:3: start '2026-13-40 09:00' is not a real date" in err
    assert f"{path}:4: unknown kind 'holiday'" in err
    assert f"{path}:5: end 2026-03-04 17:00 is not after start 2026-03-05 09:00" in err
    assert "read 5, stored 0, rejected 3" in err
    assert listed(cli, "leaves") == []


def test_unknown_slot_is_a_bad_row(cli, tmp_path):
    path = tmp_path / "exemptions.csv"
    path.write_text("staff_no,date,slot,reason\n1001,2026-03-04,lunch,\n1002,2026-03-04,am_in,\n", encoding="utf-8")
    proc = cli("import", "exemptions", str(path))
    assert proc.returncode == 2
    assert f"{path}:2: unknown slot 'lunch'" in proc.stderr
    assert listed(cli, "exemptions") == []


def test_skip_bad_stores_the_good_rows(cli, tmp_path):
    seed_roster(cli, tmp_path, "1001", "1002", "1003", "1004", "1005")
    path = tmp_path / "leaves.csv"
    path.write_text(BAD_LEAVES, encoding="utf-8")
    proc = cli("import", "leaves", str(path), "--skip-bad")
    assert proc.returncode == 0, proc.stderr
    assert "read 5, stored 2, rejected 3" in proc.stdout
    assert f"{path}:4: unknown kind 'holiday'" in proc.stderr
    assert sorted(r["staff_no"] for r in listed(cli, "leaves")) == ["1001", "1005"]


def test_missing_column_is_one_line(cli, tmp_path):
    path = tmp_path / "leaves.csv"
    path.write_text("工号,开始时间,结束时间\n1001,2026-03-02 09:00,2026-03-02 17:00\n", encoding="utf-8")
    proc = cli("import", "leaves", str(path))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert str(path) in lines[0] and "kind" in lines[0] and "请假类型" in lines[0]


def test_duplicate_rows_in_one_file_are_reported():
    table = read_csv_text(
        "staff_no,kind,start,end\n1001,sick,2026-03-02 09:00,2026-03-02 17:00\n"
        "1001,personal,2026-03-02 09:00,2026-03-02 12:00\n",
        "x.csv",
    )
    parsed = parse_rows("leaves", table.rows, "x.csv")
    assert len(parsed.rows) == 1
    assert parsed.problems == ["x.csv:3: the same record as line 2 (same 工号 and 开始时间)"]


def test_ref_column_is_used_and_refs_are_stable(tmp_path):
    path = tmp_path / "i.csv"
    path.write_text(
        "编号,工号,时间,类别\nXC-7,1001,2026-03-06 10:15,串岗\n,1002,2026-03-06 10:15,睡岗\n", encoding="utf-8"
    )
    a = parse_file("inspections", path)
    b = parse_file("inspections", path)
    assert a.problems == []
    assert a.rows[0]["ref"] == "XC-7"
    assert a.rows[1]["ref"] == b.rows[1]["ref"] and a.rows[1]["ref"].startswith("I-")


def test_unreadable_files_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="no such file"):
        read_table(tmp_path / "absent.csv")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(UserError, match="no header row"):
        read_table(empty)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04not really a zip")
    with pytest.raises(UserError, match="not a readable XLSX"):
        read_table(broken)


# --- fuzzing: arbitrary cell text never raises; every row is a row or a problem ---------------

_cell = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            "all",
            "全天",
            "事假",
            "sick",
            "off_post",
            "2026-03-02",
            "2026/3/2",
            "2026-03-02 09:00",
            "2026-02-30",
            "25:00",
            "1001",
            "-5",
            "15分钟",
            "nan",
            "1e309",
        ]
    ),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(KINDS), cells=st.lists(st.lists(_cell, min_size=0, max_size=8), max_size=6))
def test_fuzz_csv_record_parser(kind, cells):
    import csv
    import io

    columns = list(REQUIRED[kind]) + ["note", "minutes", "role", "ref"]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for row in cells:
        w.writerow(row)
    try:
        table = read_csv_text(buf.getvalue(), "f.csv")
    except UserError:
        return  # e.g. a NUL byte: the whole file is refused with one line
    parsed = parse_rows(kind, table.rows, "f.csv", slots={"am_in", "pm_out"})
    assert parsed.read == len(table.rows)
    assert len(parsed.rows) + len(parsed.problems) == parsed.read
    assert all(p.startswith("f.csv:") for p in parsed.problems)
    assert not any("cannot read this row" in p for p in parsed.problems)  # no parser bug hid behind the net
