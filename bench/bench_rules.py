"""Rules benchmark: one year of realistic punches for 250, 1,000 and 4,000 staff.

Four punches a workday with lates, early leaves, missing punches, leave and
inspections; the luoshan preset; evaluates the year (which scores every
quarter) and reports staff-days per second. Goal: 1,000 staff (about a
million punches) in under 10 s, linear in staff.

Run: .venv/bin/python bench/bench_rules.py [--staff 250 1000 4000]
"""

from __future__ import annotations

import argparse
import random
import sys
import time as clock
from datetime import date, datetime, time, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # scenario: CAL, evaluate

from scenario import CAL, evaluate  # noqa: E402

from daemon.period_results import no_cyclic_gc  # noqa: E402
from rules import Inputs, Inspection, Leave, Staff, build_timetable, resolve_policy  # noqa: E402

YEAR = 2025


def build(n_staff: int, seed: int = 7) -> tuple[Inputs, int]:
    rng = random.Random(seed)
    policy = resolve_policy("hall", "luoshan")
    tt = build_timetable("luoshan", policy.timetable)
    n_windows = max(1, n_staff // 12)
    windows = {f"w{i:03d}": f"窗口{i}" for i in range(n_windows)}
    staff = [
        Staff(str(1000 + i), f"员工{i}", f"w{i % n_windows:03d}", "chief" if i < n_windows else "staff")
        for i in range(n_staff)
    ]
    workdays = [date(YEAR, 1, 1) + timedelta(days=i) for i in range(365)]
    workdays = [d for d in workdays if CAL.is_workday(d)]
    punches: dict[str, list[datetime]] = {}
    leaves, inspections = [], []
    total = 0
    for s in staff:
        mine = []
        for d in workdays:
            r = rng.random()
            if r < 0.01:
                leaves.append(
                    Leave(
                        s.staff_no,
                        rng.choice(["personal", "sick", "annual"]),
                        datetime.combine(d, time(8)),
                        datetime.combine(d, time(18)),
                        f"L{len(leaves)}",
                    )
                )
                continue
            if r < 0.012:
                continue  # absent
            for base, spread in ((time(8, 40), 14), (time(12, 2), 20), (time(12, 52), 7), (time(17, 3), 30)):
                if rng.random() < 0.01:
                    continue
                t = datetime.combine(d, base) + timedelta(minutes=rng.randint(0, spread), seconds=rng.randint(0, 59))
                if rng.random() < 0.03:
                    t += (
                        timedelta(minutes=rng.randint(5, 40))
                        if base.hour in (8, 12) and base.minute > 30
                        else -timedelta(minutes=rng.randint(5, 40))
                    )
                mine.append(t)
                if rng.random() < 0.02:
                    mine.append(t + timedelta(seconds=rng.randint(2, 30)))
            if rng.random() < 0.005:
                inspections.append(
                    Inspection(
                        s.staff_no,
                        datetime.combine(d, time(10, 20)),
                        "off_post",
                        rng.randint(10, 150),
                        "",
                        f"I{len(inspections)}",
                    )
                )
        punches[s.staff_no] = mine
        total += len(mine)
    inputs = Inputs(
        staff=staff,
        punches=punches,
        windows=windows,
        policies={w: policy for w in windows},
        timetables={"luoshan": tt},
        window_timetable={w: "luoshan" for w in windows},
        calendar=CAL,
        leaves=leaves,
        inspections=inspections,
    )
    return inputs, total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--staff", type=int, nargs="+", default=[250, 1000, 4000])
    args = ap.parse_args()
    print(f"year {YEAR}, preset luoshan (quarterly; the year scores each quarter)")
    for n in args.staff:
        inputs, punches = build(n)
        t0 = clock.perf_counter()
        with no_cyclic_gc():  # as the daemon evaluates
            ev = evaluate(inputs, str(YEAR))
        dt = clock.perf_counter() - t0
        staff_days = sum(len(v) for v in ev.days.values())
        print(
            f"{n:5d} staff, {punches:9,d} punches: {dt:6.2f} s, {staff_days / dt:9,.0f} staff-days/s, "
            f"{dt / n * 1000:.2f} ms per staff (goal for 1,000 staff: < 10 s)"
        )


if __name__ == "__main__":
    main()
