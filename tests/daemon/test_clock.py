"""daemon.clock: instants are aware, wall-clock times naive, and the two never mix (issue 12.2)."""

from __future__ import annotations

import ast
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select
from sqlalchemy.exc import StatementError

from daemon.clock import UtcDateTime, naive_utc, site_time, system_clock, utc_of

TZ = ZoneInfo("Asia/Shanghai")
ROOT = Path(__file__).resolve().parents[2]


def test_the_clock_is_aware_utc():
    now = system_clock()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)


def test_site_time_and_back():
    instant = datetime(2026, 3, 2, 1, 5, tzinfo=UTC)
    local = site_time(instant, TZ)
    assert local == datetime(2026, 3, 2, 9, 5) and local.tzinfo is None
    assert utc_of(local, TZ) == instant
    assert utc_of(date(2026, 3, 2), TZ) == datetime(2026, 3, 1, 16, 0, tzinfo=UTC)


def test_naive_where_an_instant_is_needed_is_refused():
    with pytest.raises(TypeError, match="naive datetime"):
        naive_utc(datetime(2026, 3, 2, 9, 5))
    with pytest.raises(TypeError, match="naive datetime"):
        site_time(datetime(2026, 3, 2, 9, 5), TZ)
    with pytest.raises(TypeError, match="wall-clock"):
        utc_of(datetime(2026, 3, 2, 9, 5, tzinfo=UTC), TZ)


def _roundtrip(engine, schema: str | None = None):
    md = MetaData()
    t = Table("att_clock_probe", md, Column("id", Integer, primary_key=True), Column("at_utc", UtcDateTime))
    eng = engine.execution_options(schema_translate_map={None: schema}) if schema else engine
    md.create_all(eng)
    try:
        with eng.begin() as conn:
            conn.execute(insert(t), [{"id": 1, "at_utc": datetime(2026, 3, 2, 9, 5, 7, tzinfo=TZ)}])
            conn.execute(
                insert(t), [{"id": 2, "at_utc": datetime(2026, 3, 1, 20, 5, 7, tzinfo=timezone(timedelta(hours=-5)))}]
            )
            conn.execute(insert(t), [{"id": 3, "at_utc": None}])
        with eng.connect() as conn:
            got = dict(conn.execute(select(t.c.id, t.c.at_utc).order_by(t.c.id)).all())
            # the database holds naive UTC (what other readers of a *_utc column expect)
            raw = conn.exec_driver_sql(
                "SELECT at_utc FROM " + (f'"{schema}".' if schema else "") + "att_clock_probe WHERE id = 1"
            ).scalar()
        with eng.begin() as conn, pytest.raises(StatementError, match="naive datetime"):
            conn.execute(insert(t), [{"id": 4, "at_utc": datetime(2026, 3, 2, 9, 5)}])
    finally:
        md.drop_all(eng)
    return got, raw


def test_utc_column_on_sqlite(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'c.db'}")
    got, raw = _roundtrip(engine)
    expected = datetime(2026, 3, 2, 1, 5, 7, tzinfo=UTC)
    assert got == {1: expected, 2: expected, 3: None}
    assert got[1].tzinfo is not None
    assert str(raw).startswith("2026-03-02 01:05:07")
    engine.dispose()


def test_utc_column_on_the_servers(server_db):
    url, schema = server_db
    engine = create_engine(url)
    if schema:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    got, raw = _roundtrip(engine, schema)
    expected = datetime(2026, 3, 2, 1, 5, 7, tzinfo=UTC)
    assert got == {1: expected, 2: expected, 3: None}
    assert raw.replace(tzinfo=None) == expected.replace(tzinfo=None) and raw.tzinfo is None
    engine.dispose()


def test_nothing_but_the_clock_reads_the_time():
    """No module of the daemon, the drivers or the rules calls datetime.now / utcnow / date.today /
    time.time except daemon/clock.py (monotonic timers for durations are not "now").

    One exception, named here: the simulated ZKTeco terminal's own battery clock
    (drivers/zk/simulator/device.py). It is the device's time, which a real terminal keeps
    itself and attendd only reads; drivers do not import the daemon, and every test or demo
    that cares passes the terminal a clock."""
    # a simulated terminal keeps its own wall clock, as a real one does (the daemon's is the clock's)
    allowed = {"drivers/zk/simulator/device.py: datetime.now", "drivers/zk/simulator/cli.py: datetime.now"}
    offenders = []
    for package in ("daemon", "drivers", "rules"):
        for f in sorted((ROOT / package).rglob("*.py")):
            rel = f.relative_to(ROOT).as_posix()
            if rel == "daemon/clock.py":
                continue
            for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Attribute) and node.attr in ("now", "utcnow", "today"):
                    base = node.value
                    name = base.id if isinstance(base, ast.Name) else getattr(base, "attr", "")
                    if name in ("datetime", "date"):
                        offenders.append(f"{rel}:{node.lineno}: {name}.{node.attr}")
                if isinstance(node, ast.Attribute) and node.attr == "time":
                    base = node.value
                    if isinstance(base, ast.Name) and base.id == "time":
                        offenders.append(f"{rel}:{node.lineno}: time.time")
    assert [o for o in offenders if o.split(":")[0] + ":" + o.split(":", 2)[2] not in allowed] == []
    assert any(o.startswith("drivers/zk/simulator/device.py:") for o in offenders), "the exception is gone: drop it"
