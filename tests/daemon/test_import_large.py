"""Issue 13, point 6: large clerk files import, in one transaction, on SQLite and PostgreSQL.

``put_records`` used to put one ``IN (…)`` parameter per row, which fails above SQLite's and
PostgreSQL's bound-parameter limits. One full-size 200,000-row roster goes through the command
line on SQLite; the backends get 200,000 roster rows and 100,000 leaves through ``put_records``.
Timings are bench/bench_import.py's, not asserted here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from helpers import run_cli as attendd
from helpers import write_centre
from sqlalchemy import func, select

from daemon.store import StoreError, open_store, put_records
from daemon.store.clerk_records import Written
from daemon.store.models import leave_table, staff_table

NOW = datetime(2026, 3, 31, 8, 0, tzinfo=UTC)
STAFF, LEAVES = 200_000, 100_000


def count(store, table) -> int:
    with store.reading() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def roster_rows(n: int) -> list[dict]:
    return [{"staff_no": str(100000 + i), "name": f"员工{i}", "window_code": "gongan"} for i in range(n)]


def leave_rows(n: int) -> list[dict]:
    return [
        {
            "ref": f"L-{i:08d}",
            "staff_no": str(100000 + i),
            "kind": "personal",
            "start": datetime(2026, 3, 1 + i % 28, 9),
            "end": datetime(2026, 3, 1 + i % 28, 12),
        }
        for i in range(n)
    ]


def test_a_200000_row_roster_through_the_command_line_on_sqlite(tmp_path):
    cfg = write_centre(tmp_path)
    path = tmp_path / "花名册.csv"
    path.write_text(
        "工号,姓名,窗口,入职日期\n" + "".join(f"{100000 + i},员工{i},gongan,2026-01-05\n" for i in range(STAFF)),
        encoding="utf-8",
    )
    proc = attendd("--config", str(cfg), "import", "roster", str(path))
    assert proc.returncode == 0, proc.stderr
    assert (
        proc.stdout.strip()
        == f"{path}: roster: read {STAFF}, stored {STAFF}, rejected 0; new {STAFF}, updated 0, unchanged 0"
    )
    store = open_store(f"sqlite:///{tmp_path / 'store.db'}", timezone="Asia/Shanghai")
    assert count(store, staff_table) == STAFF
    with store.reading() as conn:
        assert conn.execute(
            select(staff_table.c.active_from).where(staff_table.c.staff_no == "299999")
        ).scalar_one() == (date(2026, 1, 5))


def test_large_imports_on_sqlite_and_postgresql(sqlite_or_pg_store_url):
    store = open_store(sqlite_or_pg_store_url, timezone="Asia/Shanghai")
    assert put_records(store, "roster", roster_rows(STAFF), now_utc=NOW) == Written(new=STAFF)
    assert count(store, staff_table) == STAFF
    leaves = leave_rows(LEAVES)
    assert put_records(store, "leaves", leaves, now_utc=NOW) == Written(new=LEAVES)
    leaves[-1] = {**leaves[-1], "note": "改"}  # one changed, the rest as stored
    assert put_records(store, "leaves", leaves[-1000:], now_utc=NOW) == Written(updated=1, unchanged=999)
    assert count(store, leave_table) == LEAVES


@pytest.mark.parametrize("n", [50, 30_000])  # by key, and by one pass over the table
def test_a_bad_row_in_a_late_chunk_stores_nothing(tmp_path, n):
    """All or nothing across every chunk: the last row cannot be stored, so none is."""
    store = open_store(f"sqlite:///{tmp_path / 'store.db'}", timezone="Asia/Shanghai")
    put_records(store, "leaves", leave_rows(10), now_utc=NOW)
    rows = [{**r, "note": "新"} for r in leave_rows(n)]
    rows[-1] = {**rows[-1], "kind": None}
    with pytest.raises(StoreError, match="cannot write leaves"):
        put_records(store, "leaves", rows, now_utc=NOW)
    assert count(store, leave_table) == 10
    with store.reading() as conn:
        assert set(conn.execute(select(leave_table.c.note)).scalars()) == {""}
