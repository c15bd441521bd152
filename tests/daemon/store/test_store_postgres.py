"""Issue 19.2: the local store on PostgreSQL, in a schema of its own, for central deployments.

The store's own tests (test_store.py) run on SQLite and PostgreSQL through the ``store``
fixture; these check what only a server store has: the ``[store] schema`` it lives in (and
nothing in ``public``), values the way PostgreSQL types them, a connection the server dropped,
and ``attendd db upgrade`` with such a config. Each test's schemas are private and dropped.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from conftest import PG_URL, open_test_store, server_engine
from helpers import run_cli, write_toml
from sqlalchemy import insert, inspect, select, text

from daemon.store import Quarantined, open_store
from daemon.store.models import snapshot_table
from drivers import Punch

NOW = datetime(2026, 3, 31, 10, 0, 0, 123456, tzinfo=UTC)


@pytest.fixture
def admin():
    engine = server_engine(PG_URL, "PostgreSQL")
    yield engine
    engine.dispose()


@pytest.fixture
def pg_store(tmp_path):
    yield from open_test_store("postgresql", tmp_path)


def _save(store, serial: str, punches: list[Punch], quarantined=()):
    return store.save_punches(
        device_name=serial.lower(),
        device_serial=serial,
        source="zk",
        punches=punches,
        quarantined=list(quarantined),
        now_utc=NOW,
    )


def test_a_store_lives_in_its_schema_alone(pg_store, admin, tmp_path):
    """Two stores in one database, each in its schema: tables and version table there, none in
    ``public``, and neither sees the other's punches (the search path is the schema alone)."""
    insp = inspect(admin)
    mine = set(insp.get_table_names(schema=pg_store.schema))
    assert {"punch", "quarantine", "period_snapshot", "attendd_store_version"} <= mine
    assert not mine & set(insp.get_table_names(schema="public"))
    other_gen = open_test_store("postgresql", tmp_path)
    other = next(other_gen)
    try:
        assert other.schema != pg_store.schema
        assert _save(pg_store, "S1", [Punch("1001", datetime(2026, 3, 2, 8, 55))]).new == 1
        assert pg_store.count_punches() == 1 and other.count_punches() == 0
        with other.reading() as conn:  # raw SQL too resolves to the store's own schema
            assert conn.scalar(text("SELECT count(*) FROM punch")) == 0
            assert conn.scalar(text("SELECT current_schema()")) == other.schema
    finally:
        next(other_gen, None)


def test_values_come_back_as_written(pg_store):
    """Naive local punch times with microseconds, aware UTC instants, bytes, autoincrement ids,
    and ON CONFLICT DO NOTHING counting what was new."""
    t = datetime(2026, 3, 2, 8, 55, 1, 654321)
    first = _save(pg_store, "S1", [Punch("1001", t), Punch("1002", t)], [Quarantined(raw="1\x002", reason="bad")])
    again = _save(pg_store, "S1", [Punch("1001", t), Punch("1003", t)], [Quarantined(raw="1\x002", reason="bad")])
    assert (first.new, first.quarantined_new, again.new, again.duplicate, again.quarantined_new) == (2, 1, 1, 1, 0)
    rows = pg_store.punches()
    assert [(r["pin"], r["punched_at"]) for r in rows] == [("1001", t), ("1002", t), ("1003", t)]
    assert all(r["punched_at"].tzinfo is None and r["first_seen_utc"] == NOW for r in rows)
    (q,) = pg_store.quarantine()
    assert q["raw"] == "1\\x002" and q["first_seen_utc"] == NOW  # PostgreSQL refuses NUL in text
    runs = pg_store.ingest_runs()
    assert [r["id"] for r in runs] == sorted(r["id"] for r in runs) and len({r["id"] for r in runs}) == 2
    payload = bytes(range(256)) * 3
    with pg_store.transaction() as conn:
        conn.execute(
            insert(snapshot_table),
            {
                "period_key": "2026-03",
                "period_kind": "month",
                "computed_utc": NOW,
                "rules_version": "v",
                "digest": "d" * 64,
                "payload": payload,
            },
        )
    with pg_store.reading() as conn:
        got = conn.execute(select(snapshot_table.c.payload, snapshot_table.c.computed_utc)).one()
    assert (bytes(got.payload), got.computed_utc) == (payload, NOW)


def test_a_connection_the_server_dropped_is_replaced(pg_store, admin):
    """A PostgreSQL restart (here: the store's server process terminated) must not fail the next pull."""
    with pg_store.reading() as conn:  # the pool keeps this one connection for the next checkout
        pid = conn.scalar(text("SELECT pg_backend_pid()"))
    with admin.connect() as c:
        assert c.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})  # the fault hit
    assert _save(pg_store, "S1", [Punch("1001", datetime(2026, 3, 2, 8, 55))]).new == 1
    with pg_store.reading() as conn:
        assert conn.scalar(text("SELECT pg_backend_pid()")) != pid


def test_db_upgrade_with_a_postgresql_store_in_a_schema(tmp_path, admin):
    """``[store] url`` on PostgreSQL with ``schema``: `attendd db upgrade` creates the store there."""
    schema = f"att_store_{uuid.uuid4().hex[:10]}"
    cfg = write_toml(
        tmp_path,
        f"""
        [site]
        name = "中心"
        [store]
        url = "{PG_URL}"
        schema = "{schema}"
        [scoring]
        url = "sqlite:///{tmp_path / "scoring.db"}"
        """,
    )
    try:
        proc = run_cli("--config", str(cfg), "db", "upgrade")
        assert proc.returncode == 0, proc.stderr
        assert f"(schema {schema}): revision" in proc.stdout and "created" in proc.stdout
        assert "attendd_store_version" in inspect(admin).get_table_names(schema=schema)
        again = open_store(PG_URL, timezone="Asia/Shanghai", schema=schema)
        try:
            with again.reading() as conn:
                assert again.revision(conn) == again.head()
        finally:
            again.close()
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
