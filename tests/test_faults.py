"""Fault injection on whole processes: SIGKILL during a pull, then rerun.

The terminal runs in this process (slowed down so the pull is caught in the
act); `attendd sync` runs in a child that is killed with SIGKILL at several
moments. Afterwards a normal run must leave every punch stored exactly once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from daemon.store import open_store
from drivers.zk.simulator import Faults, SimulatedTerminal, SimulatorServer, synthetic_punches

ROOT = Path(__file__).resolve().parent.parent


def _config(tmp_path: Path, port: int) -> Path:
    path = tmp_path / "attendd.toml"
    path.write_text(
        f'[site]\nname = "x"\ntimezone = "Asia/Shanghai"\n[store]\nurl = "sqlite:///{tmp_path / "store.db"}"\n'
        f'[[devices]]\nname = "hall"\nhost = "127.0.0.1"\nport = {port}\ntimeout = 5\n',
        encoding="utf-8",
    )
    return path


def _sync(cfg: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "daemon", "--config", str(cfg), "--log-format", "json", "sync", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_sigkill_during_pulls_loses_and_doubles_nothing(tmp_path):
    punches = synthetic_punches(40_000, pins=60)
    term = SimulatedTerminal(serial="KILL0001", punches=punches)
    with SimulatorServer(term) as srv:
        cfg = _config(tmp_path, srv.port)
        # slow chunks: the transfer takes a couple of seconds, so kills land inside it
        term.faults = Faults(packet_pause=0.05)
        for delay in (0.3, 0.8, 1.5, 2.5):
            proc = _sync(cfg, "--force")
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
        store = open_store(f"sqlite:///{tmp_path / 'store.db'}", timezone="Asia/Shanghai")
        partial = store.count_punches()
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
