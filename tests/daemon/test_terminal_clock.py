"""Terminal clocks (issue 16, items 1 and 2): a drift beyond ``[daemon] max_clock_drift`` is a
problem everywhere a terminal's health shows, logged once when it starts and once when it ends;
``attendd devices set-time`` and ``auto_set_time`` set the clock from the host's.

Against the simulator over real sockets, TCP and UDP: our client, pyzk, CMD_GET_TIME / SET_TIME.
"""

from __future__ import annotations

import json
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from helpers import config_problems, run_cli, write_devices_config
from structlog.testing import capture_logs

from daemon.clock import site_time, system_clock
from daemon.config import Device, load_config
from daemon.devices import connect_device
from daemon.health import CLOCK_OFF, OK, clock_problem, health, problem, whole_hours
from daemon.sync import sync_device
from drivers.zk import codec
from drivers.zk.simulator import SimulatedTerminal, SimulatorServer, synthetic_punches

TZ = ZoneInfo("Asia/Shanghai")
EIGHT_HOURS = timedelta(hours=8)


def off_by(drift: timedelta, clock=system_clock, **kw) -> SimulatedTerminal:
    """A terminal whose clock is ``drift`` ahead of the site's time by ``clock``."""
    term = SimulatedTerminal(clock=lambda: site_time(clock(), TZ), punches=synthetic_punches(30, pins=3), **kw)
    term.set_clock(term.clock_now() + drift)
    return term


def site_config(tmp_path, port: int, protocol: str, extra: str = "", **device):
    cfg = write_devices_config(tmp_path, [{"name": "hall", "port": port, "protocol": protocol, **device}])
    cfg.write_text(cfg.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return cfg


def device_rows(proc) -> dict[str, dict]:
    assert proc.stdout.strip(), proc.stderr
    return {r["device"]: r for r in json.loads(proc.stdout)}


# --- the rule -----------------------------------------------------------------------------------


def test_whole_hours_are_named_a_time_zone_setting():
    assert clock_problem(90, 120) is None and clock_problem(None, 120) is None
    assert clock_problem(-121, 120) == "clock 2.0min behind (limit 2.0min)"
    eight = clock_problem(8 * 3600 + 40, 120)
    assert eight is not None and "8.0h ahead" in eight and "8 whole hours, likely the terminal's time-zone" in eight
    # within 2 minutes of a non-zero whole number of hours, either way; not beyond
    assert whole_hours(-3600 - 119) == -1 and whole_hours(3600 + 121) is None and whole_hours(100) is None
    assert "time-zone" not in (clock_problem(3600 + 300, 120) or "")


def test_max_clock_drift_takes_seconds_or_a_duration(tmp_path):
    base = '[site]\nname = "x"\ntimezone = "Asia/Shanghai"\n[store]\nurl = "sqlite:///s.db"\n'
    for given, seconds in (('"2m"', 120), ("90", 90), ('"1h"', 3600), ('"1m30s"', 90), ('"45"', 45)):
        path = tmp_path / "a.toml"
        path.write_text(base + f"[daemon]\nmax_clock_drift = {given}\n", encoding="utf-8")
        assert load_config(path).daemon.max_clock_drift == seconds
    (problem_line,) = config_problems(tmp_path, base + '[daemon]\nmax_clock_drift = "two minutes"\n')
    assert "daemon.max_clock_drift" in problem_line and '"90s", "2m" or "1h"' in problem_line
    assert load_config(path).daemon.max_clock_drift == 45
    (only_zk,) = config_problems(tmp_path, base + '[[devices]]\nname = "u"\ndriver = "usb"\nauto_set_time = true\n')
    assert "auto_set_time" in only_zk and 'only for driver "zk"' in only_zk


# --- pulls: the problem logged once when it starts, once when it ends ------------------------------


@pytest.mark.parametrize("protocol", ["tcp", "udp"])
def test_an_eight_hour_drift_is_a_problem_logged_once_until_it_ends(store, clock, protocol):
    term = off_by(EIGHT_HOURS, clock)
    with SimulatorServer(term) as srv:
        dev = Device(name="hall", host="127.0.0.1", port=srv.port, protocol=protocol, timeout=2)
        with capture_logs() as logs:
            first = sync_device(store, dev, connect=connect_device, clock=clock, tz=TZ)
            second = sync_device(store, dev, connect=connect_device, clock=clock, tz=TZ)
            drifting = store.device_state("hall")
            term.set_clock(site_time(clock(), TZ))  # someone set it right at the terminal
            third = sync_device(store, dev, connect=connect_device, clock=clock, tz=TZ)
    assert (first.status, second.status, third.status) == ("ok", "unchanged", "unchanged")
    assert abs(first.clock_offset_s - 8 * 3600) <= 2 and abs(third.clock_offset_s) <= 2
    clock_events = [(e["event"], e["log_level"]) for e in logs if "max_clock_drift" in e["event"]]
    assert clock_events == [
        ("terminal clock beyond max_clock_drift", "warning"),
        ("terminal clock back within max_clock_drift", "info"),
    ]
    assert (health(drifting, max_drift_s=120), health(store.device_state("hall"), max_drift_s=120)) == (CLOCK_OFF, OK)
    assert "time-zone" in problem(drifting, max_drift_s=120)
    assert problem(drifting) is None  # without the limit, the old meaning: only a failure's error
    assert term.counters[codec.CMD_SET_TIME] == 0  # auto_set_time is off by default


def test_auto_set_time_sets_a_drifting_clock_at_the_pull_and_logs_it(store, clock):
    term = off_by(timedelta(minutes=10), clock)
    with SimulatorServer(term) as srv:
        dev = Device(name="hall", host="127.0.0.1", port=srv.port, timeout=2, auto_set_time=True)
        with capture_logs() as logs:
            res = sync_device(store, dev, connect=connect_device, clock=clock, tz=TZ, max_drift_s=300)
            again = sync_device(store, dev, connect=connect_device, clock=clock, tz=TZ, max_drift_s=300)
    assert res.status == "ok" and abs(res.clock_offset_s - 600) <= 2
    assert res.clock_set_offset_s is not None and abs(res.clock_set_offset_s) <= 2
    assert abs((term.clock_now() - site_time(clock(), TZ)).total_seconds()) <= 2
    assert term.counters[codec.CMD_SET_TIME] == 1 and again.clock_set_offset_s is None  # set once
    (set_event,) = [e for e in logs if e["event"].startswith("terminal clock set")]
    assert set_event["log_level"] == "warning" and abs(set_event["drift_before_s"] - 600) <= 2
    assert not [e for e in logs if "max_clock_drift" in e["event"]]  # set at once: never a standing problem
    (run, _) = store.ingest_runs("hall")
    assert abs(run["clock_offset_s"] - 600) <= 2  # the run keeps the drift the punches were stamped with
    assert abs(store.device_state("hall").clock_offset_s) <= 2  # the state, the clock as it is now


def test_a_drift_within_the_limit_is_left_alone(store, clock):
    term = off_by(timedelta(seconds=70), clock)
    with SimulatorServer(term) as srv:
        dev = Device(name="hall", host="127.0.0.1", port=srv.port, timeout=2, auto_set_time=True)
        res = sync_device(store, dev, connect=connect_device, clock=clock, tz=TZ)
    assert res.status == "ok" and res.clock_set_offset_s is None and term.counters[codec.CMD_SET_TIME] == 0


# --- the commands -------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", ["tcp", "udp"])
def test_devices_flags_the_drift_and_set_time_mends_it(tmp_path, protocol):
    term = off_by(-EIGHT_HOURS)  # a terminal left on UTC, 8 hours behind Beijing time
    with SimulatorServer(term) as srv:
        cfg = site_config(tmp_path, srv.port, protocol)
        synced = run_cli("--config", str(cfg), "sync")
        assert synced.returncode == 0 and "8.0h behind" in synced.stdout and "time-zone" in synced.stdout
        listed = run_cli("--config", str(cfg), "devices", "--format", "json")
        assert listed.returncode == 1, listed.stderr  # a clock beyond the limit fails the check
        row = device_rows(listed)["hall"]
        assert abs(row["drift_s"] + 8 * 3600) <= 2 and "behind" in row["last_error"]
        assert "time-zone" in row["last_error"]
        status = json.loads(run_cli("--config", str(cfg), "status", "--format", "json").stdout)
        (dev,) = status["devices"]
        assert dev["health"] == "clock off" and "time-zone" in dev["error"]

        fixed = run_cli("--config", str(cfg), "devices", "set-time", "--format", "json")
        assert fixed.returncode == 0, (fixed.stdout, fixed.stderr)
        (row,) = json.loads(fixed.stdout)
        assert abs(row["before_s"] + 8 * 3600) <= 2 and abs(row["after_s"]) <= 2 and row["status"] == "ok"
        assert term.counters[codec.CMD_SET_TIME] == 1
        assert abs((term.clock_now() - site_time(system_clock(), TZ)).total_seconds()) <= 2
        # the stored drift is the new one at once: status no longer flags it
        status = json.loads(run_cli("--config", str(cfg), "status", "--format", "json").stdout)
        assert status["devices"][0]["health"] == "ok" and status["devices"][0]["error"] == ""
        listed = run_cli("--config", str(cfg), "devices", "--format", "json")
        assert listed.returncode == 0 and device_rows(listed)["hall"]["last_error"] == ""


def test_set_time_table_and_refusals(tmp_path):
    term = off_by(timedelta(minutes=3))
    with SimulatorServer(term) as srv:
        cfg = site_config(tmp_path, srv.port, "tcp", '[daemon]\nmax_clock_drift = "5m"\n')
        listed = run_cli("--config", str(cfg), "devices", "--format", "json")
        assert listed.returncode == 0 and device_rows(listed)["hall"]["last_error"] == ""  # within 5 minutes
        shown = run_cli("--config", str(cfg), "devices", "set-time", "--device", "hall")
    assert shown.returncode == 0 and "+3.0min" in shown.stdout and "drift after" in shown.stdout
    unknown = run_cli("--config", str(cfg), "devices", "set-time", "--device", "nope")
    assert unknown.returncode == 2 and "nope" in unknown.stderr and "Traceback" not in unknown.stderr
    down = run_cli("--config", str(cfg), "devices", "set-time")  # the simulator is gone
    assert down.returncode == 1 and "failed" in down.stdout
