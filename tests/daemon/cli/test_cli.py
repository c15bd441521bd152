"""The command line as a user meets it: real processes, exit codes, one-line errors.

Each test runs ``python -m daemon`` in a subprocess against simulated
terminals on loopback, and checks what a person would see.
"""

from __future__ import annotations

import json
import signal
import textwrap

import pytest
from helpers import assert_clean_failure, attendd, free_port, spawn
from helpers import write_devices_config as write_config
from zk import ZK

from drivers.zk.simulator import SimulatedTerminal, SimulatorServer, synthetic_punches


@pytest.fixture
def terminal():
    term = SimulatedTerminal(serial="CLI0000001", punches=synthetic_punches(400, pins=10), comm_key=4321)
    with SimulatorServer(term) as srv:
        yield term, srv.port


def test_check_config_accepts_the_example():
    proc = attendd("check-config", "config.example.toml")
    assert proc.returncode == 0, proc.stderr
    assert "config.example.toml: OK" in proc.stdout


def test_bad_config_lists_every_problem_with_its_key_path(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        textwrap.dedent("""
        [site]
        name = "x"
        timezone = "Mars/Olympus"
        [daemon]
        pull_times = ["09:10", "25:00"]
        [[devices]]
        name = "a"
        host = "127.0.0.1"
        prot = 4370
    """),
        encoding="utf-8",
    )
    proc = attendd("--config", str(bad), "sync")
    assert_clean_failure(proc, 2)
    lines = proc.stderr.strip().splitlines()
    assert any(line.startswith(f"{bad}: site.timezone:") for line in lines)
    assert any(line.startswith(f"{bad}: daemon.pull_times[1]:") for line in lines)
    assert any(line.startswith(f"{bad}: devices[0] (a).prot:") for line in lines)


def test_missing_config_file_is_one_line(tmp_path):
    proc = attendd("--config", str(tmp_path / "nope.toml"), "sync")
    assert_clean_failure(proc, 2)
    assert proc.stderr.strip() == f"attendd: {tmp_path / 'nope.toml'}: no such file"


def test_bad_arguments_exit_2():
    proc = attendd("punches", "--format", "xml")
    assert_clean_failure(proc, 2)
    assert len(proc.stderr.strip().splitlines()) == 1


def test_sync_then_punches_in_every_format(tmp_path, terminal):
    term, port = terminal
    cfg = write_config(tmp_path, [{"name": "hall", "port": port, "comm_key": 4321}])
    proc = attendd("--config", str(cfg), "--log-format", "json", "sync")
    assert proc.returncode == 0, proc.stderr
    assert "hall" in proc.stdout and "CLI0000001" in proc.stdout and " ok " in proc.stdout
    assert "4321" not in proc.stdout + proc.stderr
    again = attendd("--config", str(cfg), "sync")
    assert again.returncode == 0 and "unchanged" in again.stdout

    as_json = attendd("--config", str(cfg), "punches", "--staff", "3", "--format", "json")
    rows = json.loads(as_json.stdout)
    expected = sorted(p.timestamp for p in term.punches if p.pin == "3")
    assert [r["punched_at"] for r in rows] == [t.isoformat(" ") for t in expected]
    assert {r["device_name"] for r in rows} == {"hall"}

    as_csv = attendd("--config", str(cfg), "punches", "--from", "2026-03-02", "--to", "2026-03-02", "--format", "csv")
    lines = as_csv.stdout.strip().splitlines()
    assert lines[0].startswith("punched_at,pin,device_name")
    assert len(lines) - 1 == sum(1 for p in term.punches if p.timestamp.date().isoformat() == "2026-03-02")

    table = attendd("--config", str(cfg), "punches", "--staff", "3", "--from", "2030-01-01")
    assert table.returncode == 0 and "no punches match" in table.stdout


def test_punches_rejects_a_bad_date(tmp_path):
    cfg = write_config(tmp_path, [])
    proc = attendd("--config", str(cfg), "punches", "--from", "March 2nd")
    assert_clean_failure(proc, 2)
    assert "--from" in proc.stderr and "YYYY-MM-DD" in proc.stderr


def test_unreachable_device_fails_clearly_and_others_still_sync(tmp_path, terminal):
    _term, port = terminal
    cfg = write_config(
        tmp_path,
        [
            {"name": "gone", "port": free_port()},
            {"name": "hall", "port": port, "comm_key": 4321},
        ],
    )
    proc = attendd("--config", str(cfg), "sync")
    assert_clean_failure(proc, 1)
    assert proc.stderr.strip().splitlines()[-1] == "attendd: 1 of 2 devices failed"
    gone = next(line for line in proc.stdout.splitlines() if "gone" in line)
    assert "failed" in gone and "cannot reach 127.0.0.1" in gone
    hall = next(line for line in proc.stdout.splitlines() if "hall" in line)
    assert " ok " in hall


def test_wrong_comm_key_is_one_clear_line(tmp_path, terminal):
    _term, port = terminal
    cfg = write_config(tmp_path, [{"name": "hall", "port": port, "comm_key": 1234}])
    proc = attendd("--config", str(cfg), "--log-format", "json", "sync")
    assert_clean_failure(proc, 1)
    assert "refused the comm key" in proc.stdout
    assert "1234" not in proc.stdout + proc.stderr
    errors = [json.loads(line) for line in proc.stderr.splitlines() if line.startswith("{")]
    assert [e["event"] for e in errors if e["level"] == "error"] == ["sync failed"]


def test_unknown_device_name_is_bad_input(tmp_path, terminal):
    _term, port = terminal
    cfg = write_config(tmp_path, [{"name": "hall", "port": port}])
    proc = attendd("--config", str(cfg), "sync", "--device", "hal")
    assert_clean_failure(proc, 2)
    assert "no device named hal" in proc.stderr


def test_devices_reports_serial_records_and_drift(tmp_path, terminal):
    _term, port = terminal
    cfg = write_config(
        tmp_path,
        [
            {"name": "hall", "port": port, "comm_key": 4321},
            {"name": "gone", "port": free_port()},
        ],
    )
    proc = attendd("--config", str(cfg), "devices")
    assert_clean_failure(proc, 1)
    hall = next(line for line in proc.stdout.splitlines() if "hall" in line)
    assert "CLI0000001" in hall and "400" in hall and "yes" in hall
    gone = next(line for line in proc.stdout.splitlines() if "gone" in line)
    assert " no " in gone


def test_db_upgrade_creates_then_reports_current(tmp_path):
    cfg = write_config(tmp_path, [])
    first = attendd("--config", str(cfg), "db", "upgrade")
    second = attendd("--config", str(cfg), "db", "upgrade")
    assert first.returncode == 0 and "(created)" in first.stdout
    assert second.returncode == 0 and "(already current)" in second.stdout


def test_state_directory_is_honoured_without_a_config(tmp_path):
    proc = attendd("db", "upgrade", cwd=tmp_path, env={"STATE_DIRECTORY": str(tmp_path / "state")})
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "state" / "attendd.db").is_file()


def test_simulate_device_serves_pyzk_and_stops_on_sigterm():
    port = free_port()
    proc = spawn("simulate-device", "--port", str(port), "--records", "500", "--comm-key", "777")
    try:
        line = proc.stdout.readline()
        assert f"127.0.0.1:{port}" in line and "500 records" in line and "777" not in line
        for force_udp in (False, True):
            conn = ZK("127.0.0.1", port=port, password=777, ommit_ping=True, force_udp=force_udp, timeout=5).connect()
            try:
                assert len(conn.get_attendance()) == 500
            finally:
                conn.disconnect()
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=10)
    assert rc == 0


def test_simulate_device_serves_the_real_attlog(attlog_path):
    port = free_port()
    proc = spawn("simulate-device", "--port", str(port), "--attlog", str(attlog_path), stderr=None)
    try:
        assert "11902 records" in proc.stdout.readline()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


def test_demo_runs_from_nothing(tmp_path):
    proc = attendd("demo", "--dir", str(tmp_path / "demo"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "demo" / "attendd.db").is_file()
    assert "公安窗口" in proc.stdout and "local store:" in proc.stdout
    # issue 10: an attendance ranking, and no 流动红旗 (the documents award it on the whole assessment)
    assert "考勤排名" in proc.stdout and "流动红旗" not in proc.stdout
    listed = attendd(
        "--config", str(tmp_path / "demo" / "attendd.toml"), "punches", "--staff", "101", "--format", "json"
    )
    assert len(json.loads(listed.stdout)) > 40


def test_devices_users_compares_the_roster_with_the_terminals(tmp_path, terminal):
    """PINs enrolled on terminals but not in the roster, and roster staff enrolled nowhere."""
    _term, port = terminal
    cfg = write_config(tmp_path, [{"name": "hall", "port": port, "comm_key": 4321}])
    assert attendd("--config", str(cfg), "sync").returncode == 0
    roster = tmp_path / "roster.csv"
    roster.write_text("工号,姓名,窗口\n1,甲,gongan\n2,乙,gongan\n99,新人,gongan\n", encoding="utf-8")
    assert attendd("--config", str(cfg), "import", "roster", str(roster)).returncode == 0
    proc = attendd("--config", str(cfg), "devices", "users", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    missing_from_roster = {r["staff_no"] for r in rows if r["problem"].startswith("enrolled")}
    assert missing_from_roster == {str(i) for i in range(3, 11)}  # the terminal enrols PINs 1..10
    (nowhere,) = [r for r in rows if r["problem"].startswith("in the roster")]
    assert (nowhere["staff_no"], nowhere["name"]) == ("99", "新人")


def test_serve_push_receives_a_pushing_terminal(tmp_path):
    """`attendd serve-push`: a terminal in the allowlist pushes ATTLOG; the punches are stored."""
    from datetime import datetime

    from drivers import Punch
    from drivers.adms.simulator import push_attlog

    port = free_port()
    cfg = tmp_path / "attendd.toml"
    cfg.write_text(
        f'[site]\nname = "x"\ntimezone = "Asia/Shanghai"\n[store]\nurl = "sqlite:///{tmp_path / "store.db"}"\n'
        f'[daemon]\npush_listen = "127.0.0.1:{port}"\n'
        '[[devices]]\nname = "face-1"\ndriver = "adms"\nserial = "ADMS0001"\nallow_from = ["127.0.0.1"]\n',
        encoding="utf-8",
    )
    proc = spawn("serve-push", config=cfg)
    try:
        assert f"port {port}" in proc.stdout.readline()
        punches = [Punch("7", datetime(2026, 3, 2, 8, 50)), Punch("8", datetime(2026, 3, 2, 8, 55))]
        assert tuple(push_attlog(f"http://127.0.0.1:{port}", "ADMS0001", punches)) == (200, "OK:2")
        assert push_attlog(f"http://127.0.0.1:{port}", "STRANGER", punches)[0] == 403
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    listed = attendd("--config", str(cfg), "punches", "--format", "json")
    assert [(r["pin"], r["device_name"], r["source"]) for r in json.loads(listed.stdout)] == [
        ("7", "face-1", "adms"),
        ("8", "face-1", "adms"),
    ]
