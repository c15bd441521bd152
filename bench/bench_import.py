"""Clerk-import benchmark: a 200,000-row roster and a 100,000-row leave file (issue 13, point 6).

Times ``attendd import roster`` and ``attendd import leaves`` (in process: read, parse, one
transaction) into a fresh store, then the unchanged re-import of each, and prints rows/s. On
SQLite always; on PostgreSQL too when ``ATTENDD_TEST_PG_URL`` (default: the test server) answers,
in a schema of its own that is dropped afterwards.

Run: .venv/bin/python bench/bench_import.py [--staff 200000] [--leaves 100000]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import tempfile
import time as clock
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # helpers: the centre's config

from helpers import centre_toml  # noqa: E402

from daemon.cli import main as attendd  # noqa: E402

PG_URL = os.environ.get("ATTENDD_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def write_files(folder: Path, staff: int, leaves: int) -> tuple[Path, Path]:
    roster = folder / "花名册.csv"
    with roster.open("w", encoding="utf-8") as f:
        f.write("工号,姓名,窗口,角色,入职日期\n")
        for i in range(staff):
            f.write(
                f"{100000 + i},员工{i},{'gongan' if i % 2 else 'shuiwu'},{'首席代表' if i % 50 == 0 else '工作人员'},2026-01-05\n"
            )
    leave = folder / "请假.csv"
    with leave.open("w", encoding="utf-8") as f:
        f.write("工号,请假类型,开始时间,结束时间,备注\n")
        for i in range(leaves):
            day = 1 + i % 28
            f.write(f"{100000 + i % staff},事假,2026-03-{day:02d} 09:00,2026-03-{day:02d} 12:00,家中有事\n")
    return roster, leave


def config(folder: Path, url: str) -> Path:
    """The tests' two-window centre (公安窗口, 税务窗口), its store at ``url``."""
    text = "\n".join(
        f'url = "{url}"' if line.startswith("url = ") else line for line in centre_toml(folder).splitlines()
    )
    path = folder / "attendd.toml"
    path.write_text(text + "\n", encoding="utf-8")
    return path


def timed(cfg: Path, kind: str, path: Path) -> tuple[float, str]:
    out, err = io.StringIO(), io.StringIO()
    t0 = clock.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = attendd(["--config", str(cfg), "import", kind, str(path)])
    took = clock.perf_counter() - t0
    if code != 0:
        raise SystemExit(f"import {kind} failed ({code}): {err.getvalue().strip()}")
    return took, out.getvalue().strip().rsplit(": ", 1)[-1]


def run(backend: str, url: str, folder: Path, files: tuple[Path, Path], counts: tuple[int, int]) -> None:
    cfg = config(folder, url)
    for (kind, path, n), label in zip(
        [("roster", files[0], counts[0]), ("leaves", files[1], counts[1])], ("roster", "leaves"), strict=True
    ):
        first, said = timed(cfg, kind, path)
        again, said_again = timed(cfg, kind, path)
        print(
            f"{backend:10} {label:7} {n:>8,} rows: first {first:6.2f} s ({n / first:>8,.0f} rows/s)  "
            f"unchanged {again:6.2f} s ({n / again:>8,.0f} rows/s)   [{said} | {said_again}]"
        )


def pg_database_url() -> tuple[str, object, str] | None:
    """A fresh database on the PostgreSQL server (its URL, the admin engine, its name), or None."""
    try:
        from sqlalchemy import create_engine, make_url, text

        engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        name = f"att_bench_{uuid.uuid4().hex[:8]}"
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # no server: SQLite only
        print(f"PostgreSQL not reachable ({type(exc).__name__}); SQLite only")
        return None
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False), engine, name


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--staff", type=int, default=200_000)
    ap.add_argument("--leaves", type=int, default=100_000)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = write_files(folder, a.staff, a.leaves)
        run("sqlite", f"sqlite:///{folder / 'store.db'}", folder, files, (a.staff, a.leaves))
        pg = pg_database_url()
        if pg is not None:
            url, engine, name = pg
            try:
                run("postgresql", url, folder, files, (a.staff, a.leaves))
            finally:
                from sqlalchemy import text

                with engine.connect() as conn:  # type: ignore[attr-defined]
                    conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
