"""``clear_log = "after_stored"`` (issue 16, item 4; SPEC §4.2: never clear a terminal's log unless
the config says so and every record is safely stored).

The terminal stays locked from the read through the store's commit to the clear, and the clear
happens only if its record count is what it was at the read. The faults are injected in the
simulator, over a real socket: the connection dropping between the store and the clear, a punch
arriving during the pull. Each test shows that its fault was hit.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from structlog.testing import capture_logs

from daemon.clock import site_time
from daemon.config import Device
from daemon.devices import connect_device
from daemon.sync import sync_device
from drivers import Punch
from drivers.zk import codec
from drivers.zk.simulator import Faults, SimulatedTerminal, SimulatorServer, synthetic_punches

TZ = ZoneInfo("Asia/Shanghai")
LATE_PUNCH = Punch("7", datetime(2026, 6, 30, 17, 59))


def terminal(clock, **kw) -> SimulatedTerminal:
    return SimulatedTerminal(clock=lambda: site_time(clock(), TZ), punches=synthetic_punches(300, pins=10), **kw)


def pull(store, srv, clock, protocol: str = "tcp", clear_log: str = "after_stored", **kw):
    dev = Device(name="hall", host="127.0.0.1", port=srv.port, protocol=protocol, timeout=2, clear_log=clear_log)
    return sync_device(store, dev, connect=connect_device, clock=clock, tz=TZ, **kw)


@pytest.mark.parametrize("protocol", ["tcp", "udp"])
def test_a_pull_that_stored_everything_clears_the_log_under_one_lock(store, clock, protocol, monkeypatch):
    term = terminal(clock)
    locked_at_commit = []
    save = store.save_punches

    def watched_save(*args, **kwargs):  # the real store; only notes whether the terminal was locked
        locked_at_commit.append(not term.enabled)
        return save(*args, **kwargs)

    monkeypatch.setattr(store, "save_punches", watched_save)
    with SimulatorServer(term) as srv:
        with capture_logs() as logs:
            res = pull(store, srv, clock, protocol)
        assert res.status == "ok" and res.new == 300 and res.cleared == 300 and res.clear_skipped is None
        assert term.punches == [] and store.count_punches(term.serial) == 300
        # one lock from before the read, through the commit, to after the clear
        assert locked_at_commit == [True] and term.clears == [True]
        assert term.counters[codec.CMD_DISABLEDEVICE] == 1 and term.counters[codec.CMD_ENABLEDEVICE] == 1
        assert term.enabled
        assert store.device_state("hall").record_count == 0
        term.add_punches([LATE_PUNCH])
        with capture_logs() as later:
            nxt = pull(store, srv, clock, protocol)
    assert any(e["event"].startswith("terminal log cleared") for e in logs)
    # the cleared log is not a shrunk one: the stored count followed the clear
    assert nxt.shrunk_from is None and not [e for e in later if "went down" in e["event"]]
    assert (nxt.new, nxt.cleared) == (1, 1) and store.count_punches(term.serial) == 301


def test_off_by_default_the_log_is_never_cleared(store, clock):
    term = terminal(clock)
    with SimulatorServer(term) as srv:
        res = pull(store, srv, clock, clear_log="never")
    assert res.status == "ok" and res.cleared is None and len(term.punches) == 300
    assert term.counters[codec.CMD_CLEAR_ATTLOG] == 0


def test_a_drop_between_the_store_and_the_clear_keeps_the_log_and_the_next_pull_clears(store, clock):
    term = terminal(clock, faults=Faults(drop_on_clear=True))
    with SimulatorServer(term) as srv:
        with capture_logs() as logs:
            res = pull(store, srv, clock)
        assert term.counters[codec.CMD_CLEAR_ATTLOG] == 1  # the fault was hit: the clear was sent, then the drop
        assert res.status == "ok" and res.new == 300 and res.cleared is None
        assert "stopped answering before the clear" in res.clear_skipped
        assert len(term.punches) == 300 and store.count_punches(term.serial) == 300  # nothing lost either side
        assert term.enabled  # unlocked on a new session after the drop
        (skipped,) = [e for e in logs if e["event"] == "log not cleared"]
        assert skipped["log_level"] == "warning"
        term.faults.drop_on_clear = False
        again = pull(store, srv, clock)  # same record count, but the log was meant to be cleared: read again
    assert (again.status, again.new, again.duplicate, again.cleared) == ("ok", 0, 300, 300)
    assert term.punches == [] and store.count_punches(term.serial) == 300


def test_a_punch_arriving_during_the_pull_stops_the_clear(store, clock):
    term = terminal(clock, faults=Faults(punches_during_read=(LATE_PUNCH,)))
    with SimulatorServer(term) as srv:
        res = pull(store, srv, clock)
        assert term.faults.punches_during_read == () and LATE_PUNCH in term.punches  # the fault was hit
        assert res.status == "ok" and res.new == 300 and res.cleared is None
        assert res.clear_skipped == "the record count changed from 300 to 301 since the read (a punch arrived)"
        assert len(term.punches) == 301 and term.counters[codec.CMD_CLEAR_ATTLOG] == 0
        nxt = pull(store, srv, clock)
    assert (nxt.new, nxt.duplicate, nxt.cleared) == (1, 300, 301) and term.punches == []
    assert store.count_punches(term.serial) == 301


def test_a_record_the_store_did_not_keep_stops_the_clear(store, clock):
    # 31 February is quarantined with its raw bytes: stored, so the clear goes ahead
    term = terminal(clock, faults=Faults(invalid_dates=frozenset({5})))
    with SimulatorServer(term) as srv:
        res = pull(store, srv, clock)
    assert res.quarantined == 1 and res.new == 299 and res.cleared == 300
