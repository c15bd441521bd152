"""Bulletin benchmark: a month and a year for 1,000 staff, every format.

Builds the rules' results with bench_rules' synthetic year (lates, early
leaves, missing punches, leave, inspections; luoshan), shapes them as the
scoring rows, and times building the bulletin and writing HTML, XLSX, PDF
and CSV. Prints seconds, annex lines and file sizes.

Run: .venv/bin/python bench/bench_bulletin.py [--staff 1000] [--periods 2025-03 2025]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time as clock
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_rules import build  # noqa: E402

from daemon.bulletin import build_bulletin, write_bulletin  # noqa: E402
from daemon.period_results import no_cyclic_gc, scoring_rows  # noqa: E402
from rules import evaluate_period, parse_period  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--staff", type=int, default=1000)
    ap.add_argument("--periods", nargs="+", default=["2025-03", "2025"])
    args = ap.parse_args()
    inputs, n_punches = build(args.staff)
    names = {s.staff_no: s.name for s in inputs.staff}
    windows = sorted(inputs.windows.items())
    print(f"{args.staff} staff, {len(windows)} windows, {n_punches:,} punches in the year")
    for key in args.periods:
        period = parse_period(key)
        t0 = clock.perf_counter()
        with no_cyclic_gc():  # as the daemon evaluates
            rows = scoring_rows(evaluate_period(inputs, period))
        t1 = clock.perf_counter()
        b = build_bulletin(
            rows, centre="基准县政务服务中心", period=period, issued=date(2026, 1, 5), names=names, windows=windows
        )
        t2 = clock.perf_counter()
        print(
            f"{key}: rules {t1 - t0:.2f} s, bulletin model {t2 - t1:.2f} s, "
            f"{len(b.staff)} staff lines, {len(b.annex):,} annex lines"
        )
        with tempfile.TemporaryDirectory() as tmp:
            for fmt in ("html", "xlsx", "csv", "pdf", "docx"):
                t = clock.perf_counter()
                files = write_bulletin(b, fmt, Path(tmp) / f"b.{fmt}")
                dt = clock.perf_counter() - t
                size = sum(f.stat().st_size for f in files)
                print(f"  {fmt:5s} {dt:6.2f} s  {size / 1e6:6.2f} MB")


if __name__ == "__main__":
    main()
