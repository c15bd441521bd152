"""Month-close benchmark: the completeness check and the close of a month at a large centre.

50 terminals (one window each, 20 staff per window: 1,000 staff), a month of four punches a
workday (88,000 punches) in a fresh SQLite store; one terminal goes silent for the month's last
two workdays. Times :func:`daemon.outbox.incomplete` (the check the close job runs before it
finalises a month: no punches, silent workdays per terminal), the refused close, and the forced
close (evaluation, snapshot, audit row).

Run: .venv/bin/python bench/bench_close.py [--terminals 50] [--staff-per-window 20]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time as clock
from datetime import UTC, datetime, time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # scenario: timetable tables

import chinese_calendar  # noqa: E402
from scenario import slots, timetable  # noqa: E402

from daemon.config import config_from_dict  # noqa: E402
from daemon.outbox import PeriodIncomplete, close_period, incomplete  # noqa: E402
from daemon.store import (
    open_store,  # noqa: E402
    put_records,  # noqa: E402
)
from drivers import Punch  # noqa: E402
from rules import parse_period  # noqa: E402

MONTH = parse_period("2026-03")
NOW = datetime(2026, 4, 3, 2, 0, tzinfo=UTC)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--terminals", type=int, default=50)
    ap.add_argument("--staff-per-window", type=int, default=20)
    a = ap.parse_args()
    workdays = [d for d in MONTH.days() if chinese_calendar.is_workday(d)]
    with tempfile.TemporaryDirectory() as tmp:
        cfg = config_from_dict(
            {
                "site": {"name": "基准中心", "since": "2026-01-01"},
                "store": {"url": f"sqlite:///{tmp}/store.db"},
                "devices": [{"name": f"t{i}", "driver": "usb", "serial": f"S{i:04d}"} for i in range(a.terminals)],
                "timetables": {
                    "standard": timetable(
                        slots(
                            ("09:00", "12:00", "13:00", "17:00"),
                            [("07:00", "10:30"), ("11:00", "12:29"), ("12:30", "15:00"), ("16:00", "20:00")],
                        )
                    )
                },
                "policies": {"hall": {"preset": "luoshan"}},
                "windows": [
                    {
                        "code": f"w{i}",
                        "name": f"窗口{i}",
                        "timetable": "standard",
                        "policy": "hall",
                        "devices": [f"t{i}"],
                    }
                    for i in range(a.terminals)
                ],
            }
        )
        store = open_store(cfg.store_url(), timezone="Asia/Shanghai")
        stamp = datetime(2026, 4, 1, tzinfo=UTC)
        roster, total = [], 0
        for i in range(a.terminals):
            pins = [str(10_000 + i * 100 + j) for j in range(a.staff_per_window)]
            roster += [
                {
                    "staff_no": p,
                    "name": f"员工{p}",
                    "window_code": f"w{i}",
                    "role": "staff",
                    "active_from": None,
                    "active_to": None,
                    "exempt": False,
                }
                for p in pins
            ]
            days = workdays[:-2] if i == 0 else workdays  # terminal t0 goes silent
            punches = [
                Punch(p, datetime.combine(d, time(h, m)))
                for d in days
                for p in pins
                for h, m in ((8, 50), (12, 1), (12, 55), (17, 5))
            ]
            total += len(punches)
            store.save_punches(
                device_name=f"t{i}",
                device_serial=f"S{i:04d}",
                source="usb",
                punches=punches,
                quarantined=[],
                now_utc=stamp,
                run={},
            )
        put_records(store, "roster", roster, now_utc=stamp)
        print(f"{a.terminals} terminals, {len(roster)} staff, {total:,} punches in {MONTH.key}")

        t0 = clock.perf_counter()
        reasons = incomplete(store, cfg, MONTH, now=NOW)
        t1 = clock.perf_counter()
        print(
            f"completeness check: {t1 - t0:.3f} s ({(t1 - t0) / a.terminals * 1000:.1f} ms per terminal): "
            f"{'; '.join(reasons)}"
        )
        try:
            close_period(store, cfg, MONTH, now=NOW)
        except PeriodIncomplete:
            pass
        t2 = clock.perf_counter()
        print(f"close refused (incomplete): {t2 - t1:.3f} s")
        snap = close_period(store, cfg, MONTH, now=NOW, force_by="基准", force_reason="bench")
        t3 = clock.perf_counter()
        print(f"forced close (evaluate {len(snap.rows['staff_periods'])} staff, snapshot, audit): {t3 - t2:.2f} s")
        store.close()


if __name__ == "__main__":
    main()
