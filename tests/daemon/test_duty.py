"""Duty days (值班) and rotas (轮值) reach the rules: the config's ``[[duty_rotas]]``, the clerk's
``attendd import duty|rotas`` files, and their withdrawal (issue 15, 2).

004 第四篇 平湖: "周日部分窗口实行轮值服务。公安窗口全年无休 … 双休、节假日均有值班。"
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from helpers import centre_toml, run_cli, timetable_toml

import rules
from daemon.config import load_config
from daemon.period_results import build_inputs
from daemon.store import changes, open_store

DUTY_SLOTS = [
    {"name": "am_in", "kind": "in", "at": "09:00", "accept": ["08:00", "10:00"]},
    {"name": "am_out", "kind": "out", "at": "11:00", "accept": ["10:30", "12:00"]},
    {"name": "pm_in", "kind": "in", "at": "14:00", "accept": ["13:00", "15:00"]},
    {"name": "pm_out", "kind": "out", "at": "16:00", "accept": ["15:30", "18:00"]},
]
ROTAS = """
[[duty_rotas]]
timetable = "police-duty"
window = "gongan"

[[duty_rotas]]
timetable = "police-duty"
staff = ["2001", "2002"]
weekdays = [7]
start = 2026-10-11
"""


@pytest.fixture
def centre(tmp_path):
    cfg = tmp_path / "attendd.toml"
    cfg.write_text(centre_toml(tmp_path, extra=timetable_toml("police-duty", DUTY_SLOTS) + ROTAS), encoding="utf-8")
    roster = tmp_path / "roster.csv"
    roster.write_text("工号,姓名,窗口\n1001,警甲,gongan\n2001,税甲,shuiwu\n2002,税乙,shuiwu\n", encoding="utf-8")

    def cli(*args: str):
        proc = run_cli("--config", str(cfg), *args)
        assert "Traceback" not in proc.stderr, proc.stderr
        return proc

    assert cli("import", "roster", str(roster)).returncode == 0
    return cfg, cli


def kinds(cfg) -> dict[str, dict[date, str]]:
    """Each person's day kinds in October 2026, as the rules see them."""
    config = load_config(cfg)
    store = open_store(config.store_url(), timezone="Asia/Shanghai")
    period = rules.parse_period("2026-10")
    inputs = build_inputs(store, config, period.start, period.end)
    days = rules.evaluate_period(inputs, period).days
    return {no: {d.day: d.day_kind for d in ds} for no, ds in days.items()}


def test_config_rotas_a_window_every_day_off_and_a_sunday_rotation(centre):
    cfg, _ = centre
    k = kinds(cfg)
    assert k["1001"][date(2026, 10, 1)] == "duty"  # 国庆: the police window works holidays
    assert k["1001"][date(2026, 10, 17)] == "duty"  # a Saturday
    assert k["1001"][date(2026, 10, 10)] == "workday"  # the make-up Saturday is a workday, not duty
    # 2001 and 2002 take the Sundays in turn from 10-11; Saturdays stay rest
    assert [d.day for d, v in k["2001"].items() if v == "duty"] == [11, 25]
    assert [d.day for d, v in k["2002"].items() if v == "duty"] == [18]
    assert k["2001"][date(2026, 10, 17)] == "rest"


def test_a_duty_day_imported_counts_and_its_withdrawal_is_on_the_record(centre, tmp_path):
    cfg, cli = centre
    duty = tmp_path / "duty.csv"
    duty.write_text("编号,值班日期,工号,作息,备注\nD-1,2026-10-24,2001,police-duty,替班\n", encoding="utf-8")
    proc = cli("import", "duty", str(duty), "--by", "李会计")
    assert proc.returncode == 0, proc.stderr
    assert kinds(cfg)["2001"][date(2026, 10, 24)] == "duty"
    proc = cli("withdraw", "duty", "D-1", "--reason", "排错了", "--by", "李会计")
    assert proc.returncode == 0, proc.stderr
    assert kinds(cfg)["2001"][date(2026, 10, 24)] == "rest"
    listed = json.loads(cli("list", "duty", "--format", "json").stdout)
    assert len(listed) == 1 and "李会计: 排错了" in listed[0]["withdrawn"]  # kept, marked, never deleted
    config = load_config(cfg)
    entry = changes(open_store(config.store_url(), timezone="Asia/Shanghai"), action="record_withdraw")[0]
    assert (entry["by"], entry["via"], entry["subject_id"], entry["reason"]) == ("李会计", "cli", "D-1", "排错了")
    assert entry["before"]["withdrawn"] is False and entry["after"]["withdrawn"] is True
    assert entry["after"]["day"] == "2026-10-24"
    # the same ref again is refused: a withdrawn record stays withdrawn
    proc = cli("import", "duty", str(duty))
    assert proc.returncode == 2
    assert "duty.csv:2: 编号 D-1 is a withdrawn record" in proc.stderr
    proc = cli("withdraw", "duty", "D-1", "--reason", "again", "--by", "x")
    assert proc.returncode == 2 and "already withdrawn by 李会计" in proc.stderr


def test_a_rota_entered_by_the_clerk_counts(centre, tmp_path):
    cfg, cli = centre
    rota = tmp_path / "rota.csv"
    rota.write_text("编号,窗口,作息,星期,适用日\nR-1,shuiwu,police-duty,周六,休息日\n", encoding="utf-8")
    assert cli("import", "rotas", str(rota)).returncode == 0
    k = kinds(cfg)
    assert k["2002"][date(2026, 10, 17)] == "duty" and k["2002"][date(2026, 10, 3)] == "holiday"  # 国庆 is no 休息日


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("R-2,shuiwu,,nosuch,周六,", "作息 'nosuch' is not a configured timetable; known: police-duty, standard"),
        ("R-2,,,police-duty,周六,", "give 窗口 or 轮值人员 (whose duty it is)"),
        ("R-2,,2001、9999,police-duty,周日,", "轮值人员 '9999' is not in the roster"),
        ("R-2,shuiwu,,police-duty,周八,", "星期 '周八' is not a weekday (1–7 or 周一…周日)"),
        ("R-2,,2001、2002,police-duty,周日,", "a rotation of several people needs 开始日期"),
    ],
)
def test_bad_rota_rows_are_named_in_the_clerks_words(centre, tmp_path, row, expected):
    _, cli = centre
    rota = tmp_path / "rota.csv"
    rota.write_text(f"编号,窗口,轮值人员,作息,星期,开始日期\n{row}\n", encoding="utf-8")
    proc = cli("import", "rotas", str(rota))
    assert proc.returncode == 2
    assert expected in proc.stderr, proc.stderr
    assert json.loads(cli("list", "rotas", "--format", "json").stdout) == []


@pytest.mark.parametrize(
    ("rota", "expected"),
    [
        ('timetable = "nosuch"\nwindow = "gongan"', 'duty_rotas[0].timetable: unknown timetable "nosuch"'),
        ('timetable = "standard"\nwindow = "nosuch"', 'duty_rotas[0].window: unknown window "nosuch"'),
        ('timetable = "standard"', "duty_rotas[0]: a duty rota needs window or staff"),
        ('timetable = "standard"\nstaff = ["1", "2"]', "duty_rotas[0]: a rotation of several staff needs start"),
        ('timetable = "standard"\nwindow = "gongan"\nweekdays = [8]', "duty_rotas[0].weekdays[0]"),
    ],
)
def test_config_rota_problems(tmp_path, rota, expected):
    cfg = tmp_path / "attendd.toml"
    cfg.write_text(centre_toml(tmp_path, extra=f"[[duty_rotas]]\n{rota}\n"), encoding="utf-8")
    proc = run_cli("check-config", str(cfg))
    assert proc.returncode == 2
    assert expected in proc.stderr + proc.stdout, proc.stderr
