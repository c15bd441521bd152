"""Mistakes typed at the command line (issue 13, points 13 and 14): one line, exit 2, no traceback.

What a command prints and refuses is checked in this process (:func:`run_cli`); what only a real
process shows (a port in use, bytes that are not UTF-8 in ``argv``) in a subprocess, several
checks per process.
"""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime

import pytest
from helpers import assert_clean_failure, attendd, fill, run_cli, write_centre

from drivers import Punch

HALL = '[[devices]]\nname = "hall"\ndriver = "zk"\nhost = "127.0.0.1"\nport = 4370\ntimeout = 1\n'


def one_line(proc) -> str:
    """The refusal's one line on stderr, after checking it is the only one and no traceback."""
    assert_clean_failure(proc, 2)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


@pytest.fixture
def centre(tmp_path, store):
    """A config with one terminal (``hall``, serial S1) and a month of punches for four staff,
    plus three punches of staff 1 on 2026-03-31 evening showing each state and verify label."""
    cfg = write_centre(tmp_path, extra=HALL)
    fill(store)
    store.save_punches(
        device_name="hall",
        device_serial="S1",
        source="zk",
        punches=[
            Punch("1", datetime(2026, 3, 31, 18, 0), state=1, verify=1),  # 下班, 指纹
            Punch("1", datetime(2026, 3, 31, 18, 1), state=2, verify=15),  # 外出, 人脸
            Punch("1", datetime(2026, 3, 31, 18, 2), state=0, verify=2),  # 上班, 卡
        ],
        quarantined=[],
        now_utc=datetime(2026, 4, 1, tzinfo=UTC),
    )
    return str(cfg), store


def test_absurd_numbers_dates_and_periods_are_one_line(tmp_path):
    """Point 13: huge and negative numbers, impossible dates, bad periods, non-UTF-8 text, nan —
    refused in one line naming the option; the store the config names is never created."""
    cfg = str(write_centre(tmp_path, extra=HALL))
    garbage = tmp_path / "garbage.dat"
    garbage.write_bytes(bytes(range(256)) * 4)
    cases = {
        ("punches", "--limit", "99999999999999999999"): "--limit",
        ("punches", "--limit", "-3"): "--limit",
        ("punches", "--from", "2026-02-30"): "--from",
        ("punches", "--from", "2026-03-05", "--to", "2026-03-01"): "--to",
        ("punches", "--staff", "\udcff\udcfe"): "--staff",
        ("punches", "--device", "hall\udcff"): "--device",
        ("evaluate", "--period", "2026-13"): "--period",
        ("evaluate", "--period", "99999999999999999999"): "--period",
        ("push", "--period", "-1"): "--period",
        ("evaluate", "--period", "2026-03", "--by", "\udcff"): "--by",
        ("evaluate", "--period", "2026-03", "--reopen", "--by", "王" * 129, "--reason", "补录"): "--by",
        ("evaluate", "--period", "2026-03", "--reopen", "--by", "王科长", "--reason", "   "): "--reason",
        ("sync", "--device", "nope"): "--device",
        ("simulate-device", "--port", "4370", "--records", "99999999999999"): "--records",
        ("simulate-device", "--port", "4370", "--users", "0"): "--users",
        ("simulate-device", "--port", "4370", "--comm-key", "-1"): "--comm-key",
        ("simulate-device", "--port", "99999"): "--port",
        ("simulate-device", "--port", "4370", "--encoding", "rot13"): "--encoding",
        ("simulate-device", "--port", "4370", "--serial", ""): "--serial",
        ("simulate-device", "--driver", "serial", "--port", "4001", "--interval", "nan"): "--interval",
        ("simulate-device", "--driver", "serial", "--port", "4001", "--interval", "-1"): "--interval",
        ("serve-push", "--listen", "127.0.0.1:99999"): "--listen",
        ("simulate-device", "--port", "4370", "--attlog", str(garbage)): "--attlog",
        ("simulate-device", "--driver", "serial", "--port", "4001", "--attlog", str(garbage)): "--attlog",
        ("simulate-device", "--port", "4370", "--attlog", str(tmp_path)): "--attlog",
    }
    for args, flag in cases.items():
        proc = run_cli("--config", cfg, *args)
        assert flag in one_line(proc), (args, proc.stderr)
        assert not (tmp_path / "store.db").exists(), args
    assert not (tmp_path / "store.db").exists()  # refused before the store was opened


def test_the_whole_calendar_is_a_range_not_an_overflow(centre):
    """Point 13: ``--from 0001-01-01 --to 9999-12-31`` means every punch."""
    cfg, store = centre
    proc = run_cli("--config", cfg, "punches", "--from", "0001-01-01", "--to", "9999-12-31", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)) == store.count_punches()
    limited = run_cli("--config", cfg, "punches", "--limit", "1000000000", "--format", "csv")
    assert limited.returncode == 0 and len(limited.stdout.strip().splitlines()) == store.count_punches() + 1


def test_unknown_device_or_staff_is_named_and_labels_are_shown(centre):
    """Point 14: an unknown ``--device`` / ``--staff`` exits 2 naming it (a known one with no punch
    in range is still "no punches match"); state and verify read as labels, CSV/JSON keep the codes."""
    cfg, store = centre
    before = store.count_punches()
    line = one_line(run_cli("--config", cfg, "punches", "--device", "nope"))
    assert line == "attendd: --device: no device named or with serial 'nope' (devices: hall)"
    line = one_line(run_cli("--config", cfg, "punches", "--staff", "999"))
    assert line == "attendd: --staff: no staff number '999' in the roster or in any punch"
    assert "'nobody'" in one_line(run_cli("--config", cfg, "punches", "--device", "hall", "--staff", "nobody"))
    none = run_cli("--config", cfg, "punches", "--staff", "1", "--from", "2030-01-01")
    assert none.returncode == 0 and none.stdout.strip() == "no punches match"
    by_serial = run_cli("--config", cfg, "punches", "--device", "S1", "--staff", "2", "--format", "json")
    assert by_serial.returncode == 0 and {r["device_serial"] for r in json.loads(by_serial.stdout)} == {"S1"}
    assert store.count_punches() == before

    evening = ("--config", cfg, "punches", "--staff", "1", "--from", "2026-03-31 17:59", "--to", "2026-03-31 23:00")
    rows = json.loads(run_cli(*evening, "--format", "json").stdout)
    assert [(r["state"], r["state_label"], r["verify"], r["verify_label"]) for r in rows] == [
        (1, "下班", 1, "指纹"),
        (2, "外出", 15, "人脸"),
        (0, "上班", 2, "卡"),
    ]
    csv_lines = run_cli(*evening, "--format", "csv").stdout.splitlines()
    assert csv_lines[0].split(",")[4:8] == ["state", "state_label", "verify", "verify_label"]
    assert csv_lines[1].split(",")[4:8] == ["1", "下班", "1", "指纹"]
    table = run_cli(*evening).stdout
    for label in ("下班", "外出", "上班", "指纹", "人脸", "卡"):
        assert label in table
    first = run_cli("--config", cfg, "punches", "--staff", "3", "--limit", "1", "--format", "json").stdout
    assert json.loads(first)[0]["verify_label"] == "密码"  # fill()'s punches: verify 0


def test_a_real_process_refuses_bytes_and_huge_numbers_without_a_traceback(tmp_path):
    """Point 13 in a new interpreter: argv bytes that are not UTF-8 and an integer no column holds."""
    cfg = write_centre(tmp_path, extra=HALL)
    proc = attendd("--config", str(cfg), "punches", "--staff", "\udcff")  # argv byte 0xff
    assert one_line(proc) == "attendd: --staff: expected UTF-8 text, got '\\xff'"
    proc = attendd("--config", str(cfg), "punches", "--limit", "99999999999999999999")
    assert one_line(proc).endswith("--limit: expected 1 to 1000000000, got 99999999999999999999")
    assert not (tmp_path / "store.db").exists()


@pytest.fixture
def taken_port():
    """A port on 127.0.0.1 someone else listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


def _busy_line(proc) -> str:
    assert_clean_failure(proc, 1)
    lines = proc.stderr.strip().splitlines()
    assert lines, proc.stdout
    assert "Traceback" not in proc.stderr
    return lines[-1]


def test_simulate_device_on_a_port_in_use_is_one_line(taken_port):
    """Point 13: the zk simulator's port taken (UDP too: the simulator binds both)."""
    proc = attendd("simulate-device", "--port", str(taken_port), "--records", "5")
    assert (
        proc.stderr.strip()
        == f"attendd: simulate-device: cannot listen on 127.0.0.1:{taken_port}: Address already in use"
    )
    assert_clean_failure(proc, 1)
    assert proc.stdout == ""  # it never said it was listening


def test_a_second_daemon_on_a_taken_push_port_says_so(tmp_path, taken_port):
    """Point 13: ``run`` (what a second daemon hits) and ``serve-push`` on a port in use: one line, exit 1."""
    cfg = write_centre(
        tmp_path,
        scoring_url=f"sqlite:///{tmp_path / 'scoring.db'}",
        extra=f'[daemon]\npush_listen = "127.0.0.1:{taken_port}"\n'
        '[[devices]]\nname = "floor2"\ndriver = "adms"\nserial = "BRC1"\nallow_any_address = true\n',
    )
    assert run_cli("--config", str(cfg), "db", "upgrade").returncode == 0
    want = f"attendd: push receiver: cannot listen on 127.0.0.1:{taken_port}: Address already in use"
    for command in ("run", "serve-push"):
        assert _busy_line(attendd("--config", str(cfg), command)) == want
