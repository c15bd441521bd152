"""Pull benchmark: a 200,000-record terminal over TCP on loopback.

The simulated terminal runs in its own process, so it does not share the
GIL with the client being measured (a real terminal is another machine).

Measures, on the same simulator in the same run:
  raw      pyzk's buffer transfer alone (read_with_buffer, no decoding)
  pyzk     pyzk 0.9's own get_attendance (transfer + its decoder)
  attendd  our full pull into a fresh SQLite store (sync_device)
  re-pull  the same pull again with an unchanged record count

Run: .venv/bin/python bench/bench_pull.py [--records N] [--record-size 40]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from zk import ZK  # noqa: E402

from daemon.store import open_store  # noqa: E402
from daemon.sync import sync_device  # noqa: E402
from drivers.zk import ZKTerminal, codec  # noqa: E402

SERVE = r"""
import sys
from datetime import datetime
sys.path.insert(0, %(root)r)
from drivers.zk.simulator import SimulatedTerminal, SimulatorServer, synthetic_punches
from drivers.zk.simulator.cli import wall_clock
punches = synthetic_punches(%(records)d, pins=%(pins)d, start=datetime(2024, 1, 1))
# the site's wall clock (a terminal keeps local time): no false 8-hour drift on a UTC host; the
# simulator's default pacing (a pause between the packets of a reply, as firmware sends them)
terminal = SimulatedTerminal(serial="BENCH0001", punches=punches, record_size=%(size)d, clock=wall_clock("Asia/Shanghai"))
server = SimulatorServer(terminal).start()
print(server.port, flush=True)
sys.stdin.read()
server.stop()
"""


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=200_000)
    ap.add_argument("--record-size", type=int, default=40, choices=(16, 40))
    ap.add_argument("--pins", type=int, default=500)
    args = ap.parse_args()

    import subprocess

    root = str(Path(__file__).resolve().parent.parent)
    serve = subprocess.Popen(
        [
            sys.executable,
            "-c",
            SERVE % {"root": root, "records": args.records, "pins": args.pins, "size": args.record_size},
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    port = int(serve.stdout.readline())
    print(
        f"simulated terminal: {args.records:,} records ({args.record_size}-byte layout), {args.pins} PINs, port {port}"
    )
    try:

        def raw():
            zk = ZK("127.0.0.1", port=port, timeout=30, ommit_ping=True)
            conn = zk.connect()
            try:
                conn.read_sizes()
                data, size = conn.read_with_buffer(codec.CMD_ATTLOG_RRQ)
                return size
            finally:
                conn.disconnect()

        def pyzk_full():
            zk = ZK("127.0.0.1", port=port, timeout=60, ommit_ping=True)
            conn = zk.connect()
            try:
                return len(conn.get_attendance())
            finally:
                conn.disconnect()

        raw_t = min(timed(raw)[0] for _ in range(3))
        print(f"raw transfer (pyzk read_with_buffer): {raw_t:.3f} s")
        pyzk_t, n = timed(pyzk_full)
        print(f"pyzk get_attendance: {pyzk_t:.3f} s for {n:,} records")

        with tempfile.TemporaryDirectory() as tmp:
            device = SimpleNamespace(
                name="bench",
                driver="zk",
                host="127.0.0.1",
                port=port,
                protocol="tcp",
                encoding="gbk",
                timeout=30,
                installed=None,
                serial=None,
            )

            def connect(d):
                return ZKTerminal(d.host, d.port, protocol=d.protocol, encoding=d.encoding, timeout=d.timeout)

            def clock():
                return datetime.now(UTC)

            tz = ZoneInfo("Asia/Shanghai")
            runs = []
            for i in range(3):  # fresh store each time: a first pull
                store = open_store(f"sqlite:///{tmp}/bench{i}.db", timezone="Asia/Shanghai")
                t, res = timed(lambda store=store: sync_device(store, device, connect=connect, clock=clock, tz=tz))
                assert res.status == "ok", res.error
                runs.append(t)
            ours_t = sorted(runs)[1]
            print(f"attendd first pulls: {', '.join(f'{r:.3f}' for r in runs)} s")
            print(
                f"attendd full pull into the store (median): {ours_t:.3f} s ({res.new:,} new, "
                f"{res.quarantined} quarantined)"
            )
            again_t, res2 = timed(lambda: sync_device(store, device, connect=connect, clock=clock, tz=tz))
            assert res2.status == "unchanged", res2
            print(f"attendd unchanged re-pull: {again_t * 1000:.1f} ms")
            forced_t, res3 = timed(lambda: sync_device(store, device, connect=connect, clock=clock, tz=tz, force=True))
            print(f"attendd forced re-pull (all duplicates): {forced_t:.3f} s ({res3.duplicate:,} duplicate)")
            store.close()
    finally:
        serve.stdin.close()
        serve.wait(timeout=30)

    print()
    print(f"speed-up vs pyzk: {pyzk_t / ours_t:.1f}x (goal >= 10x)")
    print(f"full pull / raw transfer: {ours_t / raw_t:.1f}x (goal <= 3x)")
    print(f"unchanged re-pull: {again_t * 1000:.1f} ms (goal < 100 ms)")


if __name__ == "__main__":
    main()
