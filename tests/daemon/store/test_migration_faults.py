"""A migration that fails half-way leaves nothing behind, so the next start migrates cleanly.

On SQLite the driver ran DDL outside the migration's transaction: a SIGKILL during the first
``attendd sync`` of a new store (seen in CI, tests/daemon/test_faults.py) left half the tables and no
revision, and every later start failed with "table device_state already exists". The fault is
injected here deterministically: the fifth table a migration creates raises.

Both databases migrate through the same plumbing (:mod:`daemon.dbkit`), with their own SQLite
PRAGMAs; the last test checks each keeps its own.
"""

from __future__ import annotations

import sqlite3

import pytest
from alembic.operations import Operations
from sqlalchemy import create_engine, inspect

from daemon.scoring import ScoringDB
from daemon.scoring.errors import ScoringError
from daemon.store import Store, StoreError, open_store


@pytest.fixture
def fifth_table_fails(monkeypatch):
    real = Operations.create_table
    calls = {"n": 0}

    def create_table(self, *args, **kw):
        calls["n"] += 1
        if calls["n"] == 5:
            raise RuntimeError("injected: the process dies here")
        return real(self, *args, **kw)

    monkeypatch.setattr(Operations, "create_table", create_table)
    return calls


def _tables(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        return sorted(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_a_store_migration_that_dies_half_way_leaves_no_table(tmp_path, fifth_table_fails, monkeypatch):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    with pytest.raises((RuntimeError, StoreError)):
        open_store(url, timezone="Asia/Shanghai")
    assert fifth_table_fails["n"] == 5  # the fault hit, four tables in
    assert _tables(url) == []  # … and none of them is left
    monkeypatch.undo()
    store = open_store(url, timezone="Asia/Shanghai")  # the rerun migrates from scratch
    assert "punch" in _tables(url) and store.count_punches() == 0
    store.close()


def test_a_scoring_migration_that_dies_half_way_leaves_no_table(tmp_path, fifth_table_fails, monkeypatch):
    url = f"sqlite:///{tmp_path / 'scoring.db'}"
    db = ScoringDB(url)
    with pytest.raises((RuntimeError, ScoringError)):
        db.upgrade()
    assert fifth_table_fails["n"] == 5
    assert _tables(url) == []
    monkeypatch.undo()
    assert db.upgrade()[0] is None and "att_push_run" in _tables(url)
    db.close()


def test_each_database_keeps_its_own_sqlite_pragmas(tmp_path):
    """One PRAGMA hook, two settings: the store turns foreign keys on and keeps a 16 MiB page
    cache, the scoring DB keeps SQLite's defaults; both are WAL, set by the migration's own
    connection too (the file is WAL although nothing else has opened it yet)."""
    store = Store(f"sqlite:///{tmp_path / 'store.db'}", timezone="Asia/Shanghai")
    db = ScoringDB(f"sqlite:///{tmp_path / 'scoring.db'}")
    store.upgrade()
    db.upgrade()
    for name in ("store.db", "scoring.db"):
        plain = sqlite3.connect(tmp_path / name)
        assert plain.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        plain.close()
    default_cache = sqlite3.connect(":memory:").execute("PRAGMA cache_size").fetchone()[0]
    pragmas = ("foreign_keys", "cache_size", "synchronous")  # synchronous 1: NORMAL
    with store.reading() as conn:
        assert [conn.exec_driver_sql(f"PRAGMA {p}").scalar() for p in pragmas] == [1, -16384, 1]
    with db.engine.connect() as conn:
        assert [conn.exec_driver_sql(f"PRAGMA {p}").scalar() for p in pragmas] == [0, default_cache, 1]
    store.close()
    db.close()
