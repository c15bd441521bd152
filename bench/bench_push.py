"""Push benchmark: a year's slice for 1,000 staff into PostgreSQL and MariaDB.

A year of 1,000 staff × 250 workdays is 250,000 ``att_staff_day`` rows (each
with its per-slot JSON detail), plus 1,000 staff periods, 80 window periods
and about 20,000 deductions. For each database, in a schema / database of its
own that is dropped afterwards:

  first    the first push into empty tables
  same     an identical re-push (skipped by the content digest: only the
           digest, the slice's row counts and an ``unchanged`` run row)
  same+    the same with the caller's digest passed as ``content_hash`` (what
           the outbox can do: it keeps a digest per snapshot)
  changed  a re-push where one staff's day changed: the whole slice is
           deleted and written again in one transaction
  forced   the identical content rewritten with ``force=True``

Goals (issue): first push < 10 s, identical re-push < 2 s.

Run: .venv/bin/python bench/bench_push.py [--staff 1000] [--days 250] [--only postgresql mariadb sqlite]
Servers: ATTENDD_BENCH_PG_URL, ATTENDD_BENCH_MYSQL_URL (default: the local test servers).
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import structlog  # noqa: E402
from sqlalchemy import create_engine  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from daemon.scoring import ScoringDB  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # helpers: the row shape
from helpers import scoring_staff_day  # noqa: E402

structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))

PG_URL = os.environ.get("ATTENDD_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MYSQL_URL = os.environ.get("ATTENDD_BENCH_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
YEAR = 2026
SLOTS = (("am_in", 9, 0), ("am_out", 12, 0), ("pm_in", 13, 0), ("pm_out", 17, 0))


def build(n_staff: int, n_days: int, seed: int = 7) -> dict[str, list[dict]]:
    """Rows shaped like daemon.period_results.scoring_rows for a year."""
    rng = random.Random(seed)
    days = [d for d in (date(YEAR, 1, 1) + timedelta(days=i) for i in range(366)) if d.weekday() < 5][:n_days]
    n_windows = max(1, n_staff // 12)
    staff = [(str(100000 + i), f"w{i % n_windows:03d}") for i in range(n_staff)]
    staff_days, deductions = [], []
    for no, window in staff:
        for d in days:
            detail, late, late_min = [], 0, 0
            for slot, h, m in SLOTS:
                minutes = rng.choice((0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 12))
                punch = datetime(d.year, d.month, d.day, h, m) + timedelta(minutes=minutes, seconds=rng.randint(0, 59))
                status = "late" if minutes > 10 and slot.endswith("_in") else "ok"
                if status == "late":
                    late, late_min = late + 1, late_min + minutes
                detail.append({"slot": slot, "status": status, "punch": punch.isoformat(sep=" "), "minutes": minutes})
            staff_days.append(
                scoring_staff_day(
                    no,
                    d,
                    window_code=window,
                    status="late" if late else "ok",
                    late_count=late,
                    late_minutes=late_min,
                    deduction_points=3.0 * late,
                    first_punch=datetime.fromisoformat(detail[0]["punch"]),
                    last_punch=datetime.fromisoformat(detail[-1]["punch"]),
                    detail=detail,
                )
            )
            for s in detail:
                if s["status"] == "late":
                    deductions.append(
                        {
                            "period_kind": "year",
                            "period_key": str(YEAR),
                            "staff_no": no,
                            "rule": "late",
                            "ref": f"{d}/{s['slot']}",
                            "work_date": d,
                            "slot": s["slot"],
                            "points": 3.0,
                            "evidence": f"{s['punch']} 人脸识别",
                            "note": "",
                        }
                    )
    staff_periods = [
        {
            "period_kind": "year",
            "period_key": str(YEAR),
            "staff_no": no,
            "window_code": window,
            "policy": "hall",
            "scheduled_days": n_days,
            "present_days": n_days,
            "late_count": 20,
            "early_count": 0,
            "missing_punches": 0,
            "absent_days": 0.0,
            "personal_leave_days": 1.0,
            "sick_leave_days": 0.5,
            "other_leave_days": 0.0,
            "midday_leave_count": 2,
            "off_post_count": 0,
            "deduction_points": 25.0,
            "max_points": 25.0,
            "attendance_score": 0.0,
            "grade": "称职",
            "disqualified": True,
            "disqualify_reasons": ["迟到早退缺卡累计 8 次以上"],
            "is_final": False,
        }
        for no, window in staff
    ]
    window_periods = [
        {
            "period_kind": "year",
            "period_key": str(YEAR),
            "window_code": f"w{i:03d}",
            "window_name": f"窗口{i}",
            "staff_count": 12,
            "attendance_score": 20.5,
            "max_points": 25.0,
            "rank": i + 1,
            "red_flag": i < 5,
            "chief_onsite_ratio": 0.9,
            "is_final": False,
        }
        for i in range(n_windows)
    ]
    return {
        "staff_days": staff_days,
        "staff_periods": staff_periods,
        "window_periods": window_periods,
        "deductions": deductions,
    }


def timed(db: ScoringDB, rows: dict, **kw) -> tuple[float, int]:
    t0 = time.perf_counter()
    n = db.push_period(
        period_kind="year",
        period_key=str(YEAR),
        start=date(YEAR, 1, 1),
        end=date(YEAR + 1, 1, 1),
        rules_version="0.1.0+bench",
        computed_at=datetime(YEAR + 1, 1, 3, 2, 0, tzinfo=UTC),
        run_id=uuid.uuid4().hex,
        **rows,
        **kw,
    )
    return time.perf_counter() - t0, n


def run(name: str, url: str, schema: str | None, rows: dict, total: int) -> None:
    db = ScoringDB(url, schema=schema)
    try:
        db.upgrade()
        first, n = timed(db, rows)
        assert n == total, (n, total)
        same, n_same = timed(db, rows)
        timed(db, rows, content_hash="bench-digest-1")  # the first push with that digest writes
        same_caller, n_caller = timed(db, rows, content_hash="bench-digest-1")
        assert n_same == 0 and n_caller == 0, (n_same, n_caller)
        changed_rows = dict(rows)
        changed_rows["staff_days"] = list(rows["staff_days"])
        changed_rows["staff_days"][0] = {**rows["staff_days"][0], "late_minutes": 99}
        changed, n_changed = timed(db, changed_rows)
        forced, _ = timed(db, changed_rows, force=True)
        print(
            f"{name:10s} first {first:6.2f} s ({total / first:7,.0f} rows/s) · same {same:5.2f} s · "
            f"same+ {same_caller:5.2f} s · changed {changed:6.2f} s ({n_changed / changed:7,.0f} rows/s) · "
            f"forced {forced:6.2f} s"
        )
    finally:
        db.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--staff", type=int, default=1000)
    ap.add_argument("--days", type=int, default=250)
    ap.add_argument("--only", nargs="+", default=["postgresql", "mariadb"], choices=["postgresql", "mariadb", "sqlite"])
    args = ap.parse_args()
    t0 = time.perf_counter()
    rows = build(args.staff, args.days)
    total = sum(len(v) for v in rows.values())
    print(
        f"{args.staff} staff × {args.days} days: {len(rows['staff_days']):,} staff days, "
        f"{len(rows['staff_periods']):,} staff periods, {len(rows['window_periods']):,} window periods, "
        f"{len(rows['deductions']):,} deductions = {total:,} rows (built in {time.perf_counter() - t0:.1f} s)"
    )
    suffix = uuid.uuid4().hex[:8]
    if "postgresql" in args.only:
        schema = f"att_bench_{suffix}"
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        try:
            run("postgresql", PG_URL, schema, rows, total)
        finally:
            with admin.connect() as c:
                c.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            admin.dispose()
    if "mariadb" in args.only:
        name = f"att_bench_{suffix}"
        admin = create_engine(MYSQL_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.exec_driver_sql(f"CREATE DATABASE `{name}`")
        try:
            run(
                "mariadb",
                make_url(MYSQL_URL).set(database=name).render_as_string(hide_password=False),
                None,
                rows,
                total,
            )
        finally:
            with admin.connect() as c:
                c.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
            admin.dispose()
    if "sqlite" in args.only:
        with tempfile.TemporaryDirectory() as d:
            run("sqlite", f"sqlite:///{d}/scoring.db", None, rows, total)


if __name__ == "__main__":
    main()
