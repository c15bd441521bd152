"""Serial benchmark: a burst of records over socket:// into the store.

A serial terminal prints a record per punch, so steady state is tiny; what
matters is the burst after an outage (a serial server buffering a morning's
punches) and the per-batch cost. A simulated terminal serves N attlog lines
at once over TCP; the daemon's serial listener reads them into a fresh
SQLite store. Prints lines/s and store batches (ingest runs) used.

Run: .venv/bin/python bench/bench_serial.py [--records 20000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time as clock
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from daemon.config import config_from_dict  # noqa: E402
from daemon.serial_listener import SerialListener, make_readers  # noqa: E402
from daemon.store import open_store  # noqa: E402
from drivers import Punch  # noqa: E402
from drivers.serial.simulator import SimulatedSerialTerminal, TcpTerminal  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=20000)
    args = ap.parse_args()
    start = datetime(2026, 3, 2, 8, 0)
    punches = [Punch(str(1000 + i % 500), start + timedelta(seconds=7 * i)) for i in range(args.records)]
    server = TcpTerminal(SimulatedSerialTerminal(punches, format="attlog")).start()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = config_from_dict(
            {
                "site": {"name": "基准"},
                "devices": [
                    {
                        "name": "rs485",
                        "driver": "serial",
                        "url": f"socket://127.0.0.1:{server.port}",
                        "format": "attlog",
                        "serial": "BENCH1",
                    }
                ],
            }
        )
        store = open_store(f"sqlite:///{tmp}/store.db", timezone="Asia/Shanghai")
        now = lambda: datetime(2026, 12, 31, tzinfo=UTC)  # noqa: E731 - after every record
        t0 = clock.perf_counter()
        listener = SerialListener(make_readers(store, cfg, now, ZoneInfo("Asia/Shanghai"))).start()
        while store.count_punches() < args.records:
            clock.sleep(0.02)
        dt = clock.perf_counter() - t0
        listener.stop()
        runs = len(store.ingest_runs("rs485"))
        print(
            f"{args.records:,} lines over socket:// into SQLite: {dt:.2f} s ({args.records / dt:,.0f} lines/s), "
            f"{runs:,} store batches ({args.records / max(runs, 1):.0f} lines per batch)"
        )
        store.close()
    server.stop()


if __name__ == "__main__":
    main()
