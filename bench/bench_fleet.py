"""Fleet benchmark: 50 simulated terminals x 20,000 records in one `attendd sync`.

The terminals run in a separate process (so their CPU and memory are not
counted as ours); `attendd sync` runs as a child process and we report its
wall time and peak RSS (from wait4), then the unchanged re-sync.

Run: .venv/bin/python bench/bench_fleet.py [--devices 50] [--records 20000] [--workers 8]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SERVE = r"""
import json, sys
from datetime import datetime
sys.path.insert(0, %(root)r)
from drivers.zk.simulator import SimulatedTerminal, SimulatorServer, synthetic_punches
servers = []
for i in range(%(devices)d):
    punches = synthetic_punches(%(records)d, pins=80, start=datetime(2025, 6, 2), seed=i + 1)
    t = SimulatedTerminal(serial=f"FLEET{i:04d}", punches=punches)
    servers.append(SimulatorServer(t).start())
print(json.dumps([s.port for s in servers]), flush=True)
sys.stdin.read()
for s in servers:
    s.stop()
"""


def run_sync(cmd: list[str]) -> tuple[float, int, int]:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = proc.stdout.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    rows = [line for line in out.decode().splitlines() if line.startswith("│")]
    print(f"  ({len(rows)} devices in the summary table, {sum(' ok ' in row for row in rows)} ok)")
    return wall, usage.ru_maxrss, proc.returncode


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--devices", type=int, default=50)
    ap.add_argument("--records", type=int, default=20_000)
    ap.add_argument("--workers", type=int, default=8)
    args = ap.parse_args()

    serve = subprocess.Popen(
        [sys.executable, "-c", SERVE % {"root": str(ROOT), "devices": args.devices, "records": args.records}],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    ports = json.loads(serve.stdout.readline())
    try:
        with tempfile.TemporaryDirectory() as tmp:
            cfg = Path(tmp) / "attendd.toml"
            lines = [
                '[site]\nname = "bench"\ntimezone = "Asia/Shanghai"\n',
                f'[store]\nurl = "sqlite:///{tmp}/fleet.db"\n',
                f"[daemon]\nsync_workers = {args.workers}\n",
            ]
            for i, port in enumerate(ports):
                lines.append(
                    f'[[devices]]\nname = "t{i:02d}"\ndriver = "zk"\nhost = "127.0.0.1"\n'
                    f'port = {port}\nprotocol = "tcp"\ntimeout = 30\n'
                )
            cfg.write_text("\n".join(lines), encoding="utf-8")
            cmd = [str(ROOT / ".venv" / "bin" / "attendd"), "--config", str(cfg), "--log-level", "warning", "sync"]
            wall, rss_kb, rc = run_sync(cmd)
            total = args.devices * args.records
            print(f"\nfirst sync: {args.devices} terminals x {args.records:,} records = {total:,} punches")
            print(f"  wall {wall:.2f} s, {total / wall:,.0f} punches/s, peak RSS {rss_kb / 1024:.0f} MiB, exit {rc}")
            wall2, rss2, rc2 = run_sync(cmd)
            print(f"unchanged re-sync: wall {wall2:.2f} s, peak RSS {rss2 / 1024:.0f} MiB, exit {rc2}")
    finally:
        serve.stdin.close()
        serve.wait(timeout=30)


if __name__ == "__main__":
    main()
