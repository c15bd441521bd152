"""Fault injection on whole processes: SIGKILL during a pull, then rerun.

The terminal runs in this process (slowed down so the pull is caught in the
act); `attendd sync` runs in a child that is killed with SIGKILL at several
moments. Afterwards a normal run must leave every punch stored exactly once.
"""

from __future__ import annotations

import collections
import signal
import subprocess
from pathlib import Path

import pytest
from helpers import sigkill, spawn, wait_for, write_store_config

from daemon.store import open_store
from drivers.zk import codec
from drivers.zk.simulator import Faults, SimulatedTerminal, SimulatorServer, synthetic_punches


def _config(tmp_path: Path, port: int) -> Path:
    return write_store_config(tmp_path, f'[[devices]]\nname = "hall"\nhost = "127.0.0.1"\nport = {port}\ntimeout = 5\n')


def _sync(cfg: Path, *extra: str) -> subprocess.Popen:
    return spawn("--log-format", "json", "sync", *extra, config=cfg, text=False)


@pytest.mark.slow
def test_sigkill_during_pulls_loses_and_doubles_nothing(tmp_path):
    punches = synthetic_punches(40_000, pins=60)
    term = SimulatedTerminal(serial="KILL0001", punches=punches)
    with SimulatorServer(term) as srv:
        cfg = _config(tmp_path, srv.port)
        # slow chunks: the log's transfer (25 chunks) takes a second and a half, and each kill lands
        # inside it, after this many of its chunks were asked for
        term.faults = Faults(packet_pause=0.03)
        chunks = term.counters  # commands received, counted by the terminal as they arrive
        for after in (1, 6, 12, 20):
            before = collections.Counter(chunks)
            proc = _sync(cfg, "--force")
            # the users are read first (one chunk), then the terminal is locked and the log asked for
            wait_for(
                lambda before=before: chunks[codec.CMD_PREPARE_BUFFER] - before[codec.CMD_PREPARE_BUFFER] >= 2,
                "the log's transfer",
                proc=proc,
                timeout=60,
                poll=0.002,
            )
            start = chunks[codec.CMD_READ_BUFFER]
            wait_for(
                lambda start=start, after=after: chunks[codec.CMD_READ_BUFFER] - start >= after,
                f"{after} chunks of the log",
                proc=proc,
                timeout=60,
                poll=0.002,
            )
            assert sigkill(proc) == -signal.SIGKILL  # killed by the signal, not exited on its own first
            # begun and not finished: the terminal was locked for the transfer and never unlocked
            # (a pull unlocks it as soon as the log is read, before it stores anything)
            assert chunks[codec.CMD_DISABLEDEVICE] > before[codec.CMD_DISABLEDEVICE]
            assert chunks[codec.CMD_ENABLEDEVICE] == before[codec.CMD_ENABLEDEVICE] and not term.enabled
            assert chunks[codec.CMD_READ_BUFFER] - start < 25
        store = open_store(f"sqlite:///{tmp_path / 'store.db'}", timezone="Asia/Shanghai")
        partial = store.count_punches()
        assert partial == 0 and store.ingest_runs("hall") == []  # no killed pull stored anything
        assert partial in (0, len(punches))  # a pull commits all of its punches or none
        term.faults = Faults()
        done = _sync(cfg, "--force")
        out, err = done.communicate(timeout=120)
        assert done.returncode == 0, err.decode()[-2000:]
        again = _sync(cfg, "--force")
        again.communicate(timeout=120)
        assert again.returncode == 0
        assert term.enabled  # a killed pull left it locked; the next pull unlocked it
    assert store.count_punches() == len(punches)
    stored = {(r["pin"], r["punched_at"]) for r in store.punches()}
    assert stored == {(p.pin, p.timestamp) for p in punches}
    runs = store.ingest_runs("hall")
    assert runs[-1]["new"] == 0 and runs[-1]["duplicate"] == len(punches)
    store.close()
