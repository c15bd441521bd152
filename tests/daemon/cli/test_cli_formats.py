"""What monitoring scripts and admins read (issue 13, point 15): ``--version``, ``--format`` on
``status``, ``devices`` and ``evaluate``, the missing config file, a quiet daemon start-up."""

from __future__ import annotations

import csv
import io
import json
import signal
from pathlib import Path

import pytest
from helpers import assert_clean_failure, fill, notified_daemon, run_cli, write_centre

import daemon
from daemon.config import DEFAULT_CONFIG_PATHS

HALL = '[[devices]]\nname = "hall"\ndriver = "zk"\nhost = "127.0.0.1"\nport = 4370\ntimeout = 1\n'


def test_version_is_the_one_written_in_daemon_init():
    proc = run_cli("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"attendd {daemon.__version__}"


def test_status_devices_and_evaluate_speak_json_and_csv(tmp_path, store):
    cfg = str(write_centre(tmp_path, extra=HALL))
    fill(store)

    status = run_cli("--config", cfg, "status", "--format", "json")
    assert status.returncode == 0, status.stderr
    got = json.loads(status.stdout)
    assert list(got) == ["jobs", "devices", "held_periods", "outbox"]
    assert got["devices"] == [
        {"device": "hall", "serial": "", "health": got["devices"][0]["health"], "last_sync": "", "error": ""}
    ]
    as_csv = run_cli("--config", cfg, "status", "--format", "csv").stdout
    blocks = [list(csv.reader(io.StringIO(b))) for b in as_csv.split("\n\n")]
    assert [b[0][0] for b in blocks] == ["section"] * 4
    assert blocks[1][0] == ["section", "device", "serial", "health", "last_sync", "error"]
    assert blocks[1][1][:2] == ["devices", "hall"]

    devices = run_cli("--config", cfg, "devices", "--offline", "--format", "json")
    assert devices.returncode == 0, devices.stderr
    (hall,) = json.loads(devices.stdout)
    assert (hall["device"], hall["driver"], hall["address"], hall["reachable"]) == (
        "hall",
        "zk",
        "127.0.0.1:4370/tcp",
        "not asked",
    )
    assert "drift_s" in hall
    devices_csv = run_cli("--config", cfg, "devices", "--offline", "--format", "csv").stdout.splitlines()
    assert devices_csv[0].startswith("device,driver,address,reachable,") and devices_csv[1].startswith("hall,zk,")

    evaluate = run_cli("--config", cfg, "evaluate", "--period", "2026-03", "--format", "json")
    assert evaluate.returncode == 0, evaluate.stderr
    windows = json.loads(evaluate.stdout)  # the notes went to stderr: stdout is only JSON
    assert sorted(w["window_code"] for w in windows) == ["gongan", "shuiwu"]
    assert {w["staff_count"] for w in windows} == {2}
    assert "not queued for the scoring DB" in evaluate.stderr
    rows = list(
        csv.DictReader(
            io.StringIO(run_cli("--config", cfg, "evaluate", "--period", "2026-03", "--format", "csv").stdout)
        )
    )
    assert sorted(r["window_code"] for r in rows) == ["gongan", "shuiwu"]
    table = run_cli("--config", cfg, "evaluate", "--period", "2026-03")
    assert "gongan" in table.stdout and "not queued for the scoring DB" in table.stdout


@pytest.mark.skipif(
    any(p.is_absolute() and p.is_file() for p in DEFAULT_CONFIG_PATHS),
    reason="this machine has /etc/attendd/attendd.toml",
)
def test_without_a_config_file_the_commands_that_need_one_say_so(tmp_path, monkeypatch):
    """As ``check-config`` does, in one line, exit 2, and no store appears in the state directory."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path / "state"))
    expected = run_cli("check-config")
    assert_clean_failure(expected, 2)
    assert "no config file found" in expected.stderr
    for args in (
        ("status",),
        ("status", "--format", "json"),
        ("sync",),
        ("devices",),
        ("devices", "users"),
        ("punches",),
        ("evaluate", "--period", "2026-03"),
        ("push", "--period", "2026-03"),
        ("run",),
        ("serve-push",),
        ("listen-serial",),
    ):
        proc = run_cli(*args)
        assert_clean_failure(proc, 2)
        assert proc.stderr == expected.stderr, args
        assert proc.stdout == ""
    assert not (tmp_path / "state").exists()


def test_apscheduler_start_up_chatter_stays_at_debug(tmp_path):
    cfg = write_centre(tmp_path, scoring_url=f"sqlite:///{tmp_path / 'scoring.db'}")
    assert run_cli("--config", str(cfg), "db", "upgrade").returncode == 0
    with notified_daemon(cfg, tmp_path) as (proc, _sock):
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err[-2000:]
    events = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert "attendd running" in [e.get("event") for e in events]
    chatter = [e for e in events if "apscheduler" in str(e.get("logger", ""))]
    assert chatter == [], chatter[:3]
    assert "Added job" not in err and "Scheduler started" not in err


def test_the_version_has_one_home():
    """``pyproject.toml`` reads the version from ``daemon/__init__.py`` (nothing else writes it)."""
    import tomllib

    pyproject = tomllib.loads((Path(daemon.__file__).parent.parent / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["dynamic"] == ["version"] and "version" not in pyproject["project"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "daemon.__version__"}
