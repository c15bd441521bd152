"""Web console page speed: a person's month and a window's month grid, for a store holding
1,000 staff × a year (bench_rules' synthetic year, luoshan, about a million punches).

The pages are requested through the ASGI app in-process (no network), signed in, each for a
different person or window: the staff page evaluates one person's month (and what the
year-counting rules look back on); the grid one window's staff, its score and rank coming from
the period's results (computed on the first request, then kept for a minute). Prints the first
(cold) request and p50 / p95 of the rest. Goal: p95 under 200 ms.

Run: .venv/bin/python bench/bench_console.py [--staff 1000] [--requests 40]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # helpers, scenario
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_rules: the synthetic year

from bench_rules import YEAR, build  # noqa: E402
from helpers import timetable_toml  # noqa: E402

from drivers import Punch  # noqa: E402

PASSWORD = "bench password 1"


def make_store(folder: Path, n_staff: int):
    from daemon.config import load_config
    from daemon.store import Accounts, open_store, put_records
    from daemon.web.passwords import hash_password
    from rules import resolve_policy

    inputs, n_punches = build(n_staff)
    windows = sorted(inputs.windows)
    toml = f'[site]\nname = "bench"\n[store]\nurl = "sqlite:///{folder / "store.db"}"\n'
    toml += timetable_toml("luoshan", resolve_policy("hall", "luoshan").timetable["slots"])
    toml += '[policies.hall]\npreset = "luoshan"\n'
    for code in windows:
        toml += (
            f'[[windows]]\ncode = "{code}"\nname = "{inputs.windows[code]}"\ntimetable = "luoshan"\npolicy = "hall"\n'
        )
    (folder / "attendd.toml").write_text(toml, encoding="utf-8")
    config = load_config(folder / "attendd.toml")
    store = open_store(config.store.url, timezone="Asia/Shanghai")
    stamp = datetime(YEAR + 1, 1, 5, tzinfo=UTC)
    put_records(
        store,
        "roster",
        [
            {"staff_no": s.staff_no, "name": s.name, "window_code": s.window, "role": s.role, "exempt": False}
            for s in inputs.staff
        ],
        now_utc=stamp,
    )
    put_records(
        store,
        "leaves",
        [
            {"ref": lv.ref, "staff_no": lv.staff_no, "kind": lv.kind, "start": lv.start, "end": lv.end, "note": ""}
            for lv in inputs.leaves
        ],
        now_utc=stamp,
    )
    punches = [Punch(no, t) for no, times in inputs.punches.items() for t in times]
    store.save_punches(
        device_name="hall", device_serial="BENCH1", source="zk", punches=punches, quarantined=[], now_utc=stamp
    )
    Accounts(store).add_user("bench", "viewer", hash_password(PASSWORD), by="bench", at=stamp)
    return store, config, inputs, n_punches


def timed(client, paths: list[str]) -> list[float]:
    out = []
    for path in paths:
        t0 = time.perf_counter()
        r = client.get(path)
        out.append(time.perf_counter() - t0)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
    return out


def report(what: str, seconds: list[float]) -> None:
    first, rest = seconds[0], sorted(seconds[1:])
    p95 = rest[max(0, round(0.95 * len(rest)) - 1)]
    print(
        f"{what:<22} first {first * 1000:7.0f} ms · p50 {statistics.median(rest) * 1000:6.0f} ms · "
        f"p95 {p95 * 1000:6.0f} ms · max {rest[-1] * 1000:6.0f} ms ({len(rest)} requests)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--staff", type=int, default=1000)
    ap.add_argument("--requests", type=int, default=40)
    ap.add_argument("--month", default=f"{YEAR}-03")
    args = ap.parse_args()

    from fastapi.testclient import TestClient

    from daemon.web import create_app

    with tempfile.TemporaryDirectory(prefix="attendd-bench-console-") as tmp:
        t0 = time.perf_counter()
        store, config, inputs, n_punches = make_store(Path(tmp), args.staff)
        print(
            f"{args.staff} staff, {len(inputs.windows)} windows, {n_punches:,} punches of {YEAR} stored in "
            f"{time.perf_counter() - t0:.1f} s"
        )
        now = datetime(YEAR + 1, 1, 15, 2, 0, tzinfo=UTC)
        client = TestClient(create_app(store, config, clock=lambda: now), follow_redirects=False)
        client.get("/login")
        r = client.post(
            "/login",
            data={"name": "bench", "password": PASSWORD, "csrf": client.cookies.get("attendd_login_csrf"), "next": "/"},
        )
        assert r.status_code == 303, r.text[:300]
        staff = [s.staff_no for s in inputs.staff]
        step = max(1, len(staff) // args.requests)
        report("staff month", timed(client, [f"/staff/{no}/{args.month}" for no in staff[::step][: args.requests]]))
        codes = sorted(inputs.windows)
        grid_paths = [f"/windows/{codes[i % len(codes)]}/{args.month}" for i in range(args.requests)]
        report("window month grid", timed(client, grid_paths))
        report("period results", timed(client, [f"/periods/{args.month}"] * 10))
        report("dashboard", timed(client, ["/"] * 10))
        store.close()


if __name__ == "__main__":
    main()
