"""Several ``attendd run`` on one PostgreSQL store divide each pull slot (issue 19, item 3).

Real processes (``attendd run``), real simulated terminals over loopback TCP, a private schema on
the PostgreSQL test server (dropped at the end). The daemons get a shifted clock through
``ATTENDD_TEST_CLOCK_OFFSET`` (read only by ``attendd run``): each phase starts them at a pull
slot of their (fake) day, so their start-up catch-up is that slot's pull; leases are 2 s.
"""

from __future__ import annotations

import json
import signal
import subprocess
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from helpers import PG_URL, TZ, run_cli, server_engine, spawn, wait_for
from sqlalchemy import create_engine, text

from drivers.zk import codec
from drivers.zk.simulator import SimulatedTerminal, SimulatorServer, synthetic_punches

TERMINALS = 20
RECORDS = 150
LEASE_S = 2


@pytest.fixture
def shared(tmp_path):
    """(config path, store engine, servers) for 20 terminals on a private PostgreSQL schema."""
    admin = server_engine(PG_URL, "PostgreSQL")
    schema = f"att_shared_{uuid.uuid4().hex[:10]}"
    shift = [timedelta()]  # the terminals' clocks agree with the daemons' (no drift warnings)

    def terminal_clock() -> datetime:
        return datetime.now(TZ).replace(tzinfo=None) + shift[0]

    terms = [
        SimulatedTerminal(
            serial=f"SHR{i:04d}",
            punches=synthetic_punches(RECORDS, pins=10, start=datetime(2026, 2, 2), seed=i + 1),  # noqa: DTZ001
            clock=terminal_clock,
        )
        for i in range(TERMINALS)
    ]
    servers = [SimulatorServer(t, reply_delay=0.03).start() for t in terms]
    devices = "".join(
        f'[[devices]]\nname = "t{i:02d}"\nhost = "127.0.0.1"\nport = {s.port}\ntimeout = 5\n'
        for i, s in enumerate(servers)
    )
    cfg = tmp_path / "attendd.toml"
    cfg.write_text(
        f'[site]\nname = "共享"\ntimezone = "Asia/Shanghai"\n'
        f'[store]\nurl = "{PG_URL}"\nschema = "{schema}"\n'
        f'[scoring]\nurl = "sqlite:///{tmp_path / "scoring.db"}"\n'
        f'[daemon]\npull_times = ["09:10", "14:10"]\nsync_workers = 2\nclaim_lease = "{LEASE_S}s"\n' + devices,
        encoding="utf-8",
    )
    assert run_cli("--config", str(cfg), "db", "upgrade").returncode == 0
    engine = create_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield cfg, engine, servers, shift
    finally:
        for s in servers:
            s.stop()
        engine.dispose()
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


def start_daemons(cfg, tmp_path, n: int, at: datetime, shift: list) -> list[subprocess.Popen]:
    """``n`` × ``attendd run`` whose clocks read ``at`` now (their logs in files: no pipe fills)."""
    offset = (at - datetime.now(UTC)).total_seconds()
    shift[0] = timedelta(seconds=offset)
    procs = []
    for i in range(n):
        log = open(tmp_path / f"daemon-{at:%H%M}-{i}.log", "w")  # noqa: SIM115 - the process holds it
        procs.append(
            spawn(
                "--log-format",
                "json",
                "run",
                config=cfg,
                env={"ATTENDD_TEST_CLOCK_OFFSET": str(offset)},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    return procs


def stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        p.wait(timeout=20)


def rows(engine, sql: str, **params) -> list:
    with engine.connect() as c:
        return list(c.execute(text(sql), params))


def slot_done(engine, slot: datetime) -> bool:
    """Every device's claim of ``slot`` done, and the after-pull job recorded ok."""
    done = rows(engine, "SELECT count(*) FROM claim WHERE slot_utc = :s AND done_utc IS NOT NULL", s=_naive(slot))
    job = rows(engine, "SELECT status FROM job_run WHERE job = 'pull' AND scheduled_for_utc = :s", s=_naive(slot))
    return done[0][0] == TERMINALS and [r[0] for r in job] == ["ok"]


def _naive(t: datetime) -> datetime:
    return t.astimezone(UTC).replace(tzinfo=None)


def runs_per_device(engine, since: datetime) -> dict[str, list]:
    got: dict[str, list] = {}
    for name, status, new in rows(
        engine, "SELECT device_name, status, new FROM ingest_run WHERE started_utc >= :t", t=_naive(since)
    ):
        got.setdefault(name, []).append((status, new))
    return got


def test_two_then_three_daemons_pull_each_device_once_a_slot_and_survive_a_sigkill(shared, tmp_path):
    cfg, engine, servers, shift = shared
    names = [f"t{i:02d}" for i in range(TERMINALS)]

    # --- slot 1, two daemons: every device pulled once, the work divided ---
    slot1 = datetime(2026, 3, 2, 9, 10, tzinfo=TZ)
    procs = start_daemons(cfg, tmp_path, 2, slot1.replace(second=20), shift)
    try:
        wait_for(lambda: slot_done(engine, slot1), "slot 1 pulled", proc=procs[0], timeout=30, poll=0.1)
    finally:
        stop(procs)
    runs = runs_per_device(engine, slot1)
    assert sorted(runs) == names
    assert all(len(r) == 1 and r[0] == ("ok", RECORDS) for r in runs.values()), runs
    holders = rows(engine, "SELECT DISTINCT holder FROM claim WHERE name LIKE 'pull:%'")
    assert len(holders) == 2  # both daemons pulled some of the devices
    assert rows(engine, "SELECT count(*) FROM punch")[0][0] == TERMINALS * RECORDS

    # --- slot 2, three daemons; new punches everywhere; t00 slow, its first puller SIGKILLed ---
    slot2 = datetime(2026, 3, 2, 14, 10, tzinfo=TZ)
    extra = 40
    for i, s in enumerate(servers):
        s.terminal.add_punches(
            synthetic_punches(extra, pins=10, start=datetime(2026, 2, 23), seed=100 + i)  # noqa: DTZ001 - terminal time
        )
    slow = servers[0].terminal
    slow.faults.reply_delay = 0.25
    connects_before = slow.counters[codec.CMD_CONNECT]
    procs = start_daemons(cfg, tmp_path, 3, slot2.replace(second=20), shift)
    try:
        claim_q = "SELECT holder FROM claim WHERE name = 'pull:t00' AND slot_utc = :s AND done_utc IS NULL"
        holder = wait_for(lambda: rows(engine, claim_q, s=_naive(slot2)), "t00 claimed", timeout=20, poll=0.02)[0][0]
        pid = rows(engine, "SELECT pid FROM daemon_instance WHERE id = :i", i=holder)[0][0]
        # all three registered first (a daemon starting after the kill would retire the dead one
        # on this host at once, see daemon.claims.retire_dead_here: here the lease must run out)
        live = "SELECT count(*) FROM daemon_instance WHERE stopped_utc IS NULL"
        wait_for(lambda: rows(engine, live)[0][0] == 3, "three instances registered", timeout=10)
        # mid-pull: the holder is talking to the slow terminal
        wait_for(lambda: slow.counters[codec.CMD_CONNECT] > connects_before, "t00 connected", timeout=10)
        victim = next(p for p in procs if p.pid == pid)
        victim.send_signal(signal.SIGKILL)
        assert victim.wait(timeout=10) == -signal.SIGKILL
        assert rows(engine, claim_q, s=_naive(slot2))  # killed mid-pull: the claim still open
        survivor = next(p for p in procs if p is not victim)
        wait_for(lambda: slot_done(engine, slot2), "slot 2 pulled", proc=survivor, timeout=30, poll=0.1)
    finally:
        stop([p for p in procs if p.returncode is None])
    taken = rows(
        engine, "SELECT holder, takeovers FROM claim WHERE name = 'pull:t00' AND slot_utc = :s", s=_naive(slot2)
    )
    assert taken[0][0] != holder and taken[0][1] == 1  # another daemon took the expired claim over
    assert slow.counters[codec.CMD_CONNECT] - connects_before == 2  # the fault hit: pulled twice, stored once
    runs = runs_per_device(engine, slot2)
    assert sorted(runs) == names
    assert all(len(r) == 1 and r[0] == ("ok", extra) for r in runs.values()), runs
    assert rows(engine, "SELECT count(*) FROM punch")[0][0] == TERMINALS * (RECORDS + extra)

    # attendd status lists the five instances: four stopped cleanly, the killed one never said so
    status = run_cli("--config", str(cfg), "status", "--format", "json")
    assert status.returncode == 0, status.stderr
    listed = {i["instance"]: i for i in json.loads(status.stdout)["instances"]}
    assert len(listed) == 5 and listed[holder[:12]]["pid"] == pid
    assert sorted(i["state"] for k, i in listed.items() if k != holder[:12]) == ["stopped"] * 4
    assert listed[holder[:12]]["state"] in ("running", "silent")  # silent once two leases have passed
