"""Terminal capacity (issue 16, item 3): what a terminal says it can hold, shown as used / capacity
in ``attendd devices`` and the console, warned about from 90 %; what a full simulated log does.

The capacities travel as a real terminal sends them: the CMD_GET_FREE_SIZES reply, read by pyzk.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from helpers import run_cli, write_devices_config
from structlog.testing import capture_logs

from daemon.clock import site_time, system_clock
from daemon.config import Device
from daemon.devices import connect_device
from daemon.health import capacity_problem, problem
from daemon.sync import sync_device
from drivers import Punch
from drivers.zk.simulator import SimulatedTerminal, SimulatorServer, synthetic_punches

TZ = ZoneInfo("Asia/Shanghai")


def nearly_full(records: int = 95, capacity: int = 100, clock=system_clock, **kw) -> SimulatedTerminal:
    """A terminal holding ``records`` of ``capacity``, its clock right by ``clock``."""
    return SimulatedTerminal(
        punches=synthetic_punches(records, pins=4),
        record_capacity=capacity,
        clock=lambda: site_time(clock(), TZ),
        **kw,
    )


def test_the_terminal_reports_its_capacities_through_pyzk():
    term = nearly_full(user_capacity=500)
    with SimulatorServer(term) as srv, connect_device(Device(name="t", host="127.0.0.1", port=srv.port)) as t:
        info = t.device_info()
    assert (info.record_count, info.record_capacity) == (95, 100)
    assert (info.user_count, info.user_capacity) == (4, 500)


def test_the_warning_starts_at_90_percent_and_full_says_what_happens_next():
    assert capacity_problem(89, 100) is None and capacity_problem(5, None) is None
    assert capacity_problem(90, 100) == "attendance log 90% full (90 of 100)"
    full = capacity_problem(100, 100)
    assert full is not None and full.startswith("attendance log full (100 of 100)") and "by model" in full
    assert capacity_problem(9500, 10000, what="user table") == "user table 95% full (9500 of 10000)"


def test_a_pull_stores_the_capacity_and_warns_once_while_it_lasts(store, clock):
    term = nearly_full(records=85, clock=clock)
    with SimulatorServer(term) as srv:
        dev = Device(name="hall", host="127.0.0.1", port=srv.port, timeout=2)
        with capture_logs() as logs:
            below = sync_device(store, dev, connect=connect_device, clock=clock, tz=TZ)
            term.add_punches(Punch("1", datetime(2026, 6, 30, 8, i)) for i in range(7))  # 92 of 100
            above = sync_device(store, dev, connect=connect_device, clock=clock, tz=TZ)
            term.add_punches([Punch("2", datetime(2026, 6, 30, 9, 0))])
            still = sync_device(store, dev, connect=connect_device, clock=clock, tz=TZ)
    assert (below.status, above.status, still.status) == ("ok", "ok", "ok") and above.new == 7
    state = store.device_state("hall")
    assert (state.record_count, state.record_capacity, state.user_capacity) == (93, 100, 10_000)
    warned = [e for e in logs if "nearly full" in e["event"]]
    assert [(e["event"], e["log_level"], e["records"]) for e in warned] == [
        ("terminal's attendance log nearly full", "warning", 92)
    ]
    assert problem(state, max_drift_s=120) == "attendance log 93% full (93 of 100)"


def test_devices_shows_used_over_capacity_and_the_warning_without_failing(tmp_path):
    term = nearly_full()
    with SimulatorServer(term) as srv:
        cfg = write_devices_config(tmp_path, [{"name": "hall", "port": srv.port}])
        table = run_cli("--config", str(cfg), "devices")
        as_json = run_cli("--config", str(cfg), "devices", "--format", "json")
        assert run_cli("--config", str(cfg), "sync").returncode == 0
    assert table.returncode == 0, table.stderr  # a warning, not a failure: the terminal still records
    assert "95 / 100" in table.stdout and "records / capacity" in table.stdout
    (row,) = json.loads(as_json.stdout)
    assert (row["records"], row["record_capacity"], row["users"], row["user_capacity"]) == (95, 100, 4, 10_000)
    assert row["last_error"] == "attendance log 95% full (95 of 100)"
    offline = json.loads(run_cli("--config", str(cfg), "devices", "--offline", "--format", "json").stdout)
    assert offline[0]["record_capacity"] == 100 and "95% full" in offline[0]["last_error"]


def test_the_console_shows_used_over_capacity_and_flags_the_terminal(tmp_path, store):
    from fastapi.testclient import TestClient

    from daemon.config import load_config
    from daemon.store import Accounts
    from daemon.web import create_app
    from daemon.web.passwords import hash_password

    cfg = load_config(write_devices_config(tmp_path, [{"name": "hall", "port": 1}]))
    at = datetime(2026, 6, 30, 10, 0, tzinfo=UTC)
    store.record_run(
        "hall",
        {
            "serial": "S1",
            "record_count": 95,
            "record_capacity": 100,
            "user_count": 4,
            "user_capacity": 500,
            "clock_offset_s": 8 * 3600.0,
            "last_success_utc": at,
            "consecutive_failures": 0,
        },
        {"device_name": "hall", "source": "zk", "started_utc": at, "status": "ok"},
    )
    Accounts(store).add_user("viewer1", "viewer", hash_password("correct horse battery"), by="test", at=at)
    with TestClient(create_app(store, cfg, clock=lambda: at), follow_redirects=False) as client:
        client.get("/login")
        token = client.cookies.get("attendd_login_csrf")
        client.post("/login", data={"name": "viewer1", "password": "correct horse battery", "csrf": token})
        pages = [client.get(path) for path in ("/", "/devices")]
    for page in pages:
        assert page.status_code == 200, page.text[:300]
        assert "95 / 100" in page.text and "4 / 500" in page.text
        assert "时钟偏差" in page.text and "time-zone" in page.text and "95% full" in page.text


def test_a_full_simulated_log_stops_or_overwrites_as_its_setting_says():
    stop = nearly_full(records=99)
    assert stop.add_punches([Punch("1", datetime(2026, 7, 1, 8, 0)), Punch("1", datetime(2026, 7, 1, 8, 1))]) == 1
    assert len(stop.punches) == 100 and stop.punches[-1].timestamp.minute == 0  # the second was refused
    ring = nearly_full(records=100, when_full="overwrite")
    oldest = ring.punches[0]
    assert ring.add_punches([Punch("1", datetime(2026, 7, 1, 8, 1))]) == 1
    assert len(ring.punches) == 100 and oldest not in ring.punches and ring.punches[-1].pin == "1"
