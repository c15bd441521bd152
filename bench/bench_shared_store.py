"""Shared-store benchmark (issue 19): one pull slot of many terminals, three `attendd run` on one
PostgreSQL store against one, in the same run.

The simulated terminals run in a few separate processes (their CPU and memory are not the
daemons'); each round gets a fresh private schema on the PostgreSQL server (ATTENDD_TEST_PG_URL,
default the test server), dropped afterwards. The daemons' clocks are shifted to a pull slot
(``ATTENDD_TEST_CLOCK_OFFSET``), so their start-up catch-up is that slot's pull; the round ends
when every device's claim is done. Reported: wall time of the slot (from the daemons' start),
punches/s, peak RSS of each daemon (from wait4).

Run: .venv/bin/python bench/bench_shared_store.py [--terminals 500] [--records 5000] [--workers 8]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("ATTENDD_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

SERVE = r"""
import json, sys
from datetime import datetime
sys.path.insert(0, %(root)r)
from drivers.zk.simulator import SimulatedTerminal, SimulatorServer, synthetic_punches
servers = []
for i in range(%(first)d, %(last)d):
    punches = synthetic_punches(%(records)d, pins=80, start=datetime(2025, 6, 2), seed=i + 1)
    servers.append(SimulatorServer(SimulatedTerminal(serial=f"SHARE{i:04d}", punches=punches)).start())
print(json.dumps([s.port for s in servers]), flush=True)
sys.stdin.read()
for s in servers:
    s.stop()
"""


def start_terminals(n: int, records: int, processes: int) -> tuple[list[subprocess.Popen], list[int]]:
    procs, ports = [], []
    per = -(-n // processes)
    for first in range(0, n, per):
        code = SERVE % {"root": str(ROOT), "first": first, "last": min(n, first + per), "records": records}
        procs.append(
            subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        )
    for p in procs:
        ports += json.loads(p.stdout.readline())
    return procs, ports


def round_(ports: list[int], daemons: int, workers: int, tmp: Path) -> dict:
    """One slot with ``daemons`` × ``attendd run`` on a fresh schema: seconds, punches, RSS."""
    schema = f"att_bench_{uuid.uuid4().hex[:10]}"
    cfg = tmp / f"shared-{daemons}.toml"
    lines = [
        '[site]\nname = "bench"\ntimezone = "Asia/Shanghai"\n',
        f'[store]\nurl = "{PG_URL}"\nschema = "{schema}"\n',
        f'[scoring]\nurl = "sqlite:///{tmp}/scoring-{daemons}.db"\n',
        f'[daemon]\npull_times = ["09:10"]\nsync_workers = {workers}\n',
    ]
    for i, port in enumerate(ports):
        lines.append(f'[[devices]]\nname = "t{i:04d}"\nhost = "127.0.0.1"\nport = {port}\ntimeout = 60\n')
    cfg.write_text("\n".join(lines), encoding="utf-8")
    attendd = [str(ROOT / ".venv" / "bin" / "attendd"), "--config", str(cfg), "--log-level", "warning"]
    subprocess.run([*attendd, "db", "upgrade"], check=True, capture_output=True)
    engine = create_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    slot = datetime(2026, 3, 2, 9, 10, tzinfo=ZoneInfo("Asia/Shanghai"))
    offset = (slot.replace(second=5) - datetime.now(UTC)).total_seconds()
    env = {**os.environ, "ATTENDD_TEST_CLOCK_OFFSET": str(offset)}
    t0 = time.perf_counter()
    procs = [
        subprocess.Popen([*attendd, "run"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(daemons)
    ]
    try:
        while True:
            with engine.connect() as c:
                done = c.execute(text("SELECT count(*) FROM claim WHERE done_utc IS NOT NULL")).scalar()
            if done == len(ports):
                break
            if any(p.poll() is not None for p in procs):
                raise SystemExit("a daemon exited during the slot")
            time.sleep(0.2)
        wall = time.perf_counter() - t0
        with engine.connect() as c:
            punches = c.execute(text("SELECT count(*) FROM punch")).scalar() or 0
            shares = [r[0] for r in c.execute(text("SELECT count(*) FROM claim GROUP BY holder ORDER BY 1 DESC"))]
    finally:
        rss = []
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            _pid, _status, usage = os.wait4(p.pid, 0)
            rss.append(usage.ru_maxrss // 1024)
        engine.dispose()
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()
    return {"daemons": daemons, "wall": wall, "punches": punches, "rss_mib": rss, "devices_each": shares}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--terminals", type=int, default=500)
    ap.add_argument("--records", type=int, default=5000)
    ap.add_argument("--workers", type=int, default=8, help="[daemon] sync_workers of each daemon")
    ap.add_argument("--sim-processes", type=int, default=4, help="processes running the simulated terminals")
    args = ap.parse_args()
    sims, ports = start_terminals(args.terminals, args.records, args.sim_processes)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            print(f"{args.terminals} terminals x {args.records:,} records, sync_workers = {args.workers}")
            for daemons in (3, 1):
                r = round_(ports, daemons, args.workers, Path(tmp))
                print(
                    f"  {daemons} daemon(s): slot {r['wall']:.1f} s, {r['punches']:,} punches, "
                    f"{r['punches'] / r['wall']:,.0f} punches/s, peak RSS {r['rss_mib']} MiB, "
                    f"devices per daemon {r['devices_each']}"
                )
    finally:
        for p in sims:
            p.stdin.close()
        for p in sims:
            p.wait(timeout=60)


if __name__ == "__main__":
    main()
