"""Issue 15 point 1 on the command line: ``attendd punches add`` / ``withdraw`` and the list of
punches showing corrections (补签) with their id and source in every format."""

from __future__ import annotations

import csv
import io
import json

import pytest
from helpers import MISSING_DAY, assert_clean_failure, fill_missing, run_cli, write_centre

DAY = MISSING_DAY  # staff 2 has no 12:01 punch that day
AT = "2026-03-03 12:01"


@pytest.fixture
def centre(tmp_path, store):
    cfg = write_centre(tmp_path)
    fill_missing(store)
    return str(cfg), store


def _points(cfg: str) -> float:
    proc = run_cli("--config", cfg, "explain", "--staff", "2", "--period", "2026-03", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)["totals"]["deduction_points"]


def _day(cfg: str, *more: str):
    return run_cli("--config", cfg, "punches", "--staff", "2", "--from", "2026-03-03", "--to", "2026-03-03", *more)


def test_add_list_and_withdraw_a_correction(centre):
    from daemon.store import changes

    cfg, store = centre
    before = store.count_punches()
    assert _points(cfg) == 10
    add = run_cli("--config", cfg, "punches", "add", "--staff", "2", "--at", AT, "--reason", "设备故障，值班室登记",
                  "--evidence", "值班室登记簿", "--by", "王科长")  # fmt: skip
    assert add.returncode == 0, add.stderr
    new_id = int(add.stdout.strip())
    assert _points(cfg) == 0
    assert store.count_punches() == before
    (entry,) = changes(store, action="punch_add")
    assert (entry["by"], entry["via"], entry["subject_id"]) == ("王科长", "cli", str(new_id))

    rows = json.loads(_day(cfg, "--format", "json").stdout)
    assert [(r["punched_at"], r["source"], r["id"]) for r in rows] == [
        ("2026-03-03 08:50:00", "zk", None),
        ("2026-03-03 12:01:00", "manual", new_id),
        ("2026-03-03 12:55:00", "zk", None),
        ("2026-03-03 17:05:00", "zk", None),
    ]
    manual = rows[1]
    assert manual["by"] == "王科长" and "设备故障" in manual["reason"] and manual["withdrawn"] == ""
    table = _day(cfg).stdout
    assert "manual" in table and "王科长" in table and "补签" in table
    # a --device filter shows the terminal's punches only
    by_device = json.loads(_day(cfg, "--device", "hall", "--format", "json").stdout)
    assert {r["source"] for r in by_device} == {"zk"} and len(by_device) == 3
    assert json.loads(_day(cfg, "--limit", "2", "--format", "json").stdout)[1]["id"] == new_id

    gone = run_cli("--config", cfg, "punches", "withdraw", str(new_id), "--reason", "登记有误", "--by", "李")
    assert gone.returncode == 0, gone.stderr
    assert _points(cfg) == 10
    (w,) = changes(store, action="punch_withdraw")
    assert (w["by"], w["via"], w["reason"]) == ("李", "cli", "登记有误")
    listed = list(csv.DictReader(io.StringIO(_day(cfg, "--format", "csv").stdout)))
    assert [r["source"] for r in listed] == ["zk", "manual", "zk", "zk"]
    assert listed[1]["id"] == str(new_id) and "李" in listed[1]["withdrawn"] and "登记有误" in listed[1]["withdrawn"]
    assert listed[0]["id"] == ""
    assert store.count_punches() == before


def test_bad_input_is_one_line_exit_2_and_nothing_is_written(centre):
    from daemon.store import changes, manual_punches

    cfg, store = centre
    ok = run_cli("--config", cfg, "punches", "add", "--staff", "2", "--at", AT, "--reason", "r", "--by", "王")
    new_id = ok.stdout.strip()
    assert run_cli("--config", cfg, "punches", "withdraw", new_id, "--reason", "x", "--by", "王").returncode == 0
    written = (len(manual_punches(store)), len(changes(store)))
    cases = {
        ("add", "--staff", "999", "--at", AT, "--reason", "r", "--by", "王"): "'999': not in the roster",
        ("add", "--staff", "2", "--at", AT, "--by", "王"): "--reason",
        ("add", "--staff", "2", "--at", AT, "--reason", "  ", "--by", "王"): "--reason: is blank",
        ("add", "--staff", "2", "--at", AT, "--reason", "r", "--by", " "): "--by: is blank",
        ("add", "--staff", "2", "--at", "2026-03-03 25:01", "--reason", "r", "--by", "王"): "--at",
        ("add", "--staff", "2", "--at", "2026-02-30 12:00", "--reason", "r", "--by", "王"): "--at",
        ("add", "--staff", "2", "--at", "March 3rd", "--reason", "r", "--by", "王"): "--at",
        ("withdraw", "77", "--reason", "x", "--by", "王"): "correction 77: no such correction",
        ("withdraw", new_id, "--reason", "x", "--by", "王"): "already withdrawn",
        ("withdraw", "abc", "--reason", "x", "--by", "王"): "ID",
        ("withdraw", new_id, "--by", "王"): "--reason",
    }
    for args, words in cases.items():
        proc = run_cli("--config", cfg, "punches", *args)
        assert_clean_failure(proc, 2)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and words in lines[0], (args, proc.stderr)
        assert proc.stdout == ""
    assert (len(manual_punches(store)), len(changes(store))) == written
