"""Pulling terminals into the store, end to end against the simulator on loopback.

Every test talks to a real socket: our client, pyzk underneath, the
simulator answering like a terminal.
"""

from __future__ import annotations

import io
import json
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from helpers import free_port

from daemon.config import Device
from daemon.devices import connect_device
from daemon.logging import clear_secrets, register_secret, setup_logging
from daemon.sync import sync_all, sync_device
from drivers import Punch
from drivers.attlog import read_attlog
from drivers.zk import codec
from drivers.zk.simulator import Faults, SimulatedTerminal, SimulatorServer, make_users, synthetic_punches

TZ = ZoneInfo("Asia/Shanghai")


def device(port: int, name: str = "hall", **kw) -> Device:
    return Device(name=name, driver="zk", host="127.0.0.1", port=port, timeout=kw.pop("timeout", 5), **kw)


def terminal(clock, **kw) -> SimulatedTerminal:
    """A simulated terminal whose clock follows the test's fake clock."""
    kw.setdefault("punches", synthetic_punches(600, pins=20))
    return SimulatedTerminal(clock=lambda: clock().astimezone(TZ).replace(tzinfo=None), **kw)


def pull(store, dev, clock, **kw):
    return sync_device(store, dev, connect=connect_device, clock=clock, tz=TZ, **kw)


@pytest.fixture
def logs():
    buf = io.StringIO()
    setup_logging("json", "debug", stream=buf)
    yield buf
    setup_logging("json", "info")


def events(buf) -> list[dict]:
    return [json.loads(line) for line in buf.getvalue().splitlines() if line.strip()]


def test_real_attlog_served_and_pulled_stores_every_distinct_punch_once(store, clock, attlog_path):
    punches = read_attlog(attlog_path)
    distinct = {(p.pin, p.timestamp) for p in punches}
    with SimulatorServer(terminal(clock, punches=punches, serial="ATTLOG0001")) as srv:
        res = pull(store, device(srv.port), clock)
    assert res.status == "ok", res.error
    assert res.new == len(distinct) == store.count_punches("ATTLOG0001")
    assert res.quarantined == 0
    stored = {(r["pin"], r["punched_at"]) for r in store.punches()}
    assert stored == distinct
    # raw fields survive: the file's overtime-out punches (state 5) are there
    assert sum(1 for r in store.punches() if r["state"] == 5) == sum(1 for p in punches if p.state == 5)


def test_second_pull_adds_nothing_and_skips_the_download(store, clock):
    term = terminal(clock)
    with SimulatorServer(term) as srv:
        first = pull(store, device(srv.port), clock)
        reads_after_first = term.counters[codec.CMD_PREPARE_BUFFER]
        second = pull(store, device(srv.port), clock)
        assert term.counters[codec.CMD_PREPARE_BUFFER] == reads_after_first  # no transfer
        forced = pull(store, device(srv.port), clock, force=True)
    assert (first.status, first.new) == ("ok", 600)
    assert (second.status, second.new) == ("unchanged", 0)
    assert (forced.status, forced.new, forced.duplicate) == ("ok", 0, 600)
    assert store.count_punches() == 600


def test_new_punches_on_the_terminal_are_added_once(store, clock):
    term = terminal(clock)
    with SimulatorServer(term) as srv:
        pull(store, device(srv.port), clock)
        term.add_punches([Punch("3", datetime(2026, 3, 31, 17, 5, 1)), Punch("4", datetime(2026, 3, 31, 17, 6))])
        res = pull(store, device(srv.port), clock)
    assert (res.status, res.new, res.duplicate) == ("ok", 2, 600)


@pytest.mark.parametrize("reset", [False, True], ids=["close", "reset"])
def test_connection_dropped_mid_transfer_commits_nothing_then_next_pull_completes(store, clock, reset):
    term = terminal(clock, punches=synthetic_punches(5000, pins=40))
    term.faults = Faults(drop_after_chunks=2, drop_with_reset=reset)
    with SimulatorServer(term) as srv:
        res = pull(store, device(srv.port), clock)
        assert res.status == "failed"
        assert "mid-transfer" in res.error
        assert store.count_punches() == 0
        assert store.device_state("hall").record_count is None  # the failed pull is not remembered as done
        assert term.enabled, "the terminal must be unlocked after a dropped transfer"
        term.faults = Faults()
        again = pull(store, device(srv.port), clock)
    assert (again.status, again.new) == ("ok", 5000)


def test_device_is_re_enabled_when_the_read_fails(store, clock):
    term = terminal(clock)
    term.faults = Faults(fail_attendance_read=True)
    with SimulatorServer(term) as srv:
        res = pull(store, device(srv.port), clock)
    assert res.status == "failed"
    assert term.counters[codec.CMD_DISABLEDEVICE] == 1
    assert term.counters[codec.CMD_ENABLEDEVICE] >= 1 and term.enabled


def test_unknown_pins_are_kept_and_reported(store, clock):
    punches = synthetic_punches(200, pins=10)
    users = [u for u in make_users(p.pin for p in punches) if u.pin not in ("3", "7")]
    with SimulatorServer(terminal(clock, punches=punches, users=users)) as srv:
        res = pull(store, device(srv.port), clock)
    assert res.unknown_pins == ["3", "7"]
    assert res.new == 200
    assert {r["pin"] for r in store.punches(staff="7")} == {"7"}


def test_invalid_dates_are_quarantined_without_aborting_the_pull(store, clock):
    term = terminal(clock)
    term.faults = Faults(invalid_dates=frozenset({0, 17, 599}))
    with SimulatorServer(term) as srv:
        res = pull(store, device(srv.port), clock)
        again = pull(store, device(srv.port), clock, force=True)
    assert (res.status, res.new, res.quarantined) == ("ok", 597, 3)
    assert (again.new, again.quarantined) == (0, 0)
    rows = store.quarantine()
    assert len(rows) == 3 and all("invalid timestamp" in r["reason"] and "-02-31" in r["reason"] for r in rows)


def test_reset_clock_and_future_punches_are_quarantined(store, clock):
    now_local = clock().astimezone(TZ).replace(tzinfo=None)
    punches = synthetic_punches(100, pins=5) + [
        Punch("1", datetime(2000, 1, 1, 0, 0, 12)),
        Punch("2", now_local + timedelta(days=30)),
    ]
    with SimulatorServer(terminal(clock, punches=punches)) as srv:
        res = pull(store, device(srv.port, installed=datetime(2026, 3, 3).date()), clock)
    reasons = sorted(r["reason"].split(" (")[0] for r in store.quarantine())
    # 2026-03-02's punches predate the installation on 2026-03-03
    assert "reset clock" in reasons and "in the future" in reasons
    assert any(r.startswith("before the terminal was installed") for r in reasons)
    assert res.new + res.quarantined == 102


def test_clock_drift_is_measured(store, clock):
    term = terminal(clock)
    with SimulatorServer(term) as srv:
        term.set_clock(clock().astimezone(TZ).replace(tzinfo=None) + timedelta(minutes=7))
        res = pull(store, device(srv.port), clock)
    assert res.clock_offset_s == pytest.approx(420, abs=3)
    assert store.device_state("hall").clock_offset_s == pytest.approx(420, abs=3)


def test_cleared_log_is_reported(store, clock):
    term = terminal(clock)
    with SimulatorServer(term) as srv:
        pull(store, device(srv.port), clock)
        term.clear_log()
        term.add_punches([Punch("1", datetime(2026, 3, 31, 8, 55))])
        res = pull(store, device(srv.port), clock)
    assert res.shrunk_from == 600 and res.record_count == 1
    assert res.new == 1 and store.count_punches() == 601  # nothing stored is lost


@pytest.mark.parametrize("protocol", ["tcp", "udp"])
def test_comm_key_over_tcp_and_udp(store, clock, protocol):
    term = terminal(clock, comm_key=918273)
    with SimulatorServer(term) as srv:
        good = pull(store, device(srv.port, protocol=protocol, comm_key=918273), clock)
        bad = pull(store, device(srv.port, name="wrong", protocol=protocol, comm_key=111111), clock)
    assert (good.status, good.new) == ("ok", 600)
    assert bad.status == "failed" and "comm key" in bad.error
    assert "111111" not in bad.error and "918273" not in bad.error


@pytest.mark.parametrize("size", [8, 16, 49])
def test_every_record_layout_pulls_right(store, clock, size):
    punches = synthetic_punches(300, pins=12)
    with SimulatorServer(terminal(clock, punches=punches, record_size=size)) as srv:
        res = pull(store, device(srv.port), clock)
    assert res.new == 300
    stored = {(r["pin"], r["punched_at"], r["state"]) for r in store.punches()}
    assert stored == {(p.pin, p.timestamp, p.state) for p in punches}


def test_unreachable_device_health_is_logged_once_then_recovery(store, clock, logs):
    port = free_port()
    dev = device(port, timeout=1)
    for _ in range(3):
        res = pull(store, dev, clock)
        assert res.status == "failed" and "cannot reach 127.0.0.1" in res.error
    assert store.device_state("hall").consecutive_failures == 3
    term = terminal(clock)
    with SimulatorServer(term, port=port) as srv:
        assert srv.port == port
        ok = pull(store, dev, clock)
    assert ok.status == "ok"
    evs = [e for e in events(logs) if e.get("device") == "hall"]
    errors = [e for e in evs if e["level"] == "error"]
    assert len(errors) == 1 and errors[0]["event"] == "sync failed"
    assert [e for e in evs if e["event"] == "device recovered"][0]["failures"] == 3
    assert all(e.get("job") == "sync" for e in evs)


def test_one_failing_device_never_stops_the_others(store, clock):
    terms = [terminal(clock, serial=f"S{i}", punches=synthetic_punches(100, pins=5, seed=i)) for i in range(3)]
    servers = [SimulatorServer(t).start() for t in terms]
    try:
        devs = [device(s.port, name=f"d{i}") for i, s in enumerate(servers)]
        devs.insert(1, device(free_port(), name="dead", timeout=1))
        done = []
        results = sync_all(store, devs, connect=connect_device, clock=clock, tz=TZ, workers=4, on_done=done.append)
    finally:
        for s in servers:
            s.stop()
    assert [r.device for r in results] == ["d0", "dead", "d1", "d2"]
    assert [r.status for r in results] == ["ok", "failed", "ok", "ok"]
    assert len(done) == 4
    assert store.count_punches() == 300


def test_serial_mismatch_fails_the_pull(store, clock):
    with SimulatorServer(terminal(clock, serial="REAL0001")) as srv:
        res = pull(store, device(srv.port, serial="OTHER0001"), clock)
    assert res.status == "failed" and "REAL0001" in res.error and store.count_punches() == 0


def test_comm_key_never_reaches_the_logs(store, clock, logs):
    register_secret("918273")
    try:
        term = terminal(clock, comm_key=918273)
        with SimulatorServer(term) as srv:
            pull(store, device(srv.port, comm_key=918273), clock)
            pull(store, device(srv.port, name="bad", comm_key=918274), clock)
            term.faults = Faults(drop_after_chunks=1)
            pull(store, device(srv.port, comm_key=918273), clock, force=True)
    finally:
        clear_secrets()
    text = logs.getvalue()
    assert "sync failed" in text
    assert "918273" not in text and "918274" not in text


def test_parallel_pulls_into_sqlite_do_not_collide(store, clock):
    terms = [terminal(clock, serial=f"P{i}", punches=synthetic_punches(2000, pins=30, seed=i)) for i in range(6)]
    servers = [SimulatorServer(t).start() for t in terms]
    try:
        devs = [device(s.port, name=f"p{i}") for i, s in enumerate(servers)]
        results = sync_all(store, devs, connect=connect_device, clock=clock, tz=TZ, workers=6)
    finally:
        for s in servers:
            s.stop()
    assert all(r.status == "ok" for r in results), [r.error for r in results]
    assert store.count_punches() == 12000
    assert threading.active_count() < 50
