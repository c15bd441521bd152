"""The local store: migrations match the models, writes are idempotent and atomic."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from daemon.ingest import implausible, sort_punches
from daemon.store import Quarantined, StoreError, open_store
from daemon.store.models import Base
from drivers import BadRecord, Punch

#: every test here that takes the ``store`` fixture runs on SQLite and on PostgreSQL (issue 19)
pytestmark = pytest.mark.store_backends("sqlite", "postgresql")

NOW = datetime(2026, 3, 31, 18, 0, tzinfo=UTC)  # an instant (the *_utc columns)
NOW_LOCAL = NOW.replace(tzinfo=None)  # a wall-clock time (compared with punch times)


def test_migrations_create_exactly_the_models(store):
    with store.reading() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"include_name": lambda name, type_, _p: name != "attendd_store_version"}
        )
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []


def test_upgrade_twice_is_a_no_op(store):
    before, after = store.upgrade()
    assert before == after == store.head()


def test_same_punches_twice_are_stored_once(store):
    punches = [Punch("7", datetime(2026, 3, 2, 8, 50, s)) for s in range(10)]
    first = store.save_punches(
        device_name="d", device_serial="S1", source="zk", punches=punches, quarantined=[], now_utc=NOW
    )
    second = store.save_punches(
        device_name="d",
        device_serial="S1",
        source="zk",
        punches=punches[:5] + [Punch("8", datetime(2026, 3, 2, 9))],
        quarantined=[],
        now_utc=NOW,
    )
    assert (first.new, first.duplicate) == (10, 0)
    assert (second.new, second.duplicate) == (1, 5)
    assert store.count_punches("S1") == 11


def test_same_pin_and_time_on_two_devices_are_two_punches(store):
    p = [Punch("7", datetime(2026, 3, 2, 8, 50))]
    for serial in ("S1", "S2"):
        store.save_punches(
            device_name=serial, device_serial=serial, source="zk", punches=p, quarantined=[], now_utc=NOW
        )
    assert store.count_punches() == 2


def test_a_failed_write_leaves_nothing_behind(store):
    """Punches, quarantine, run and device state commit together: the device
    state violates NOT NULL (the last statement of the transaction), nothing stays."""
    punches = [Punch("7", datetime(2026, 3, 2, 8, 50))]
    q = [Quarantined(raw="ff", reason="invalid timestamp")]
    with pytest.raises(StoreError):
        store.save_punches(
            device_name="d",
            device_serial="S1",
            source="zk",
            punches=punches,
            quarantined=q,
            now_utc=NOW,
            state={"serial": "S1", "consecutive_failures": None},
        )
    assert store.count_punches() == 0
    assert store.quarantine() == []
    assert store.device_state("d") is None
    assert store.ingest_runs() == []


def test_quarantine_is_idempotent(store):
    q = [Quarantined(raw="0100ff", reason="invalid timestamp 2026-02-31 08:00:00")]
    r1 = store.save_punches(device_name="d", device_serial="S1", source="zk", punches=[], quarantined=q, now_utc=NOW)
    r2 = store.save_punches(device_name="d", device_serial="S1", source="zk", punches=[], quarantined=q, now_utc=NOW)
    assert (r1.quarantined_new, r2.quarantined_new) == (1, 0)
    assert len(store.quarantine("S1")) == 1


def test_punch_times_stay_naive_local_with_the_site_timezone(store):
    t = datetime(2026, 3, 2, 8, 50, 7)
    store.save_punches(
        device_name="d", device_serial="S1", source="zk", punches=[Punch("7", t)], quarantined=[], now_utc=NOW
    )
    (row,) = store.punches()
    assert row["punched_at"] == t and row["punched_at"].tzinfo is None
    assert row["tz"] == "Asia/Shanghai"


def test_unwritable_store_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot open the local store"):
        open_store(f"sqlite:///{blocker}/sub/store.db", timezone="Asia/Shanghai")


@pytest.mark.parametrize(
    "ts, reason",
    [
        (datetime(2000, 1, 1, 0, 3), "reset clock"),
        (datetime(2000, 1, 3, 8, 1), "reset clock"),  # the days after a reset: the clock counts on from 2000
        (datetime(2000, 12, 31, 23, 59), "reset clock"),
        (datetime(2026, 4, 2, 9, 0), "in the future"),
        (datetime(2025, 12, 31, 9, 0), "before the terminal was installed"),
        (datetime(2026, 4, 1, 9, 0), None),  # within a day of now: clock drift, kept
        (datetime(2026, 1, 5, 9, 0), None),
    ],
)
def test_implausible_timestamps(ts, reason):
    got = implausible(ts, now_local=NOW_LOCAL, installed=date(2026, 1, 1))
    assert (got is None) if reason is None else (reason in got)


def test_sort_keeps_bad_records_aside_with_their_raw_bytes():
    good, aside = sort_punches(
        [Punch("1", datetime(2026, 3, 2, 9)), Punch("2", datetime(2000, 1, 1, 0, 0, 5))],
        [BadRecord(3, b"\x01\x02", "invalid timestamp 2026-02-31 08:00:00", "9")],
        now_local=NOW_LOCAL,
    )
    assert [p.pin for p in good] == ["1"]
    assert [(q.pin, q.reason.split(" (")[0]) for q in aside] == [
        ("2", "reset clock"),
        ("9", "invalid timestamp 2026-02-31 08:00:00"),
    ]
    assert aside[1].raw == "0102"


def test_migration_0003_keeps_the_outbox_and_one_key_per_period(tmp_path):
    """Issue 10.9/10.10: snapshots stored before 0003 stay queued when they are months or were
    pushed (the others were looks); a key spelt with full-width digits becomes canonical."""
    from alembic import command
    from sqlalchemy import text

    from daemon.store import Store

    s = Store(f"sqlite:///{tmp_path / 'old.db'}", timezone="Asia/Shanghai")
    with s.transaction() as conn:
        command.upgrade(s._alembic(conn), "0002")
        for key, kind, pushed in (
            ("２０２６-03", "month", None),
            ("2026-W11", "week", None),
            ("2026-Q1", "quarter", "d@x"),
        ):
            conn.execute(
                text(
                    "INSERT INTO period_snapshot (period_key, period_kind, computed_utc, rules_version, "
                    "is_final, digest, payload, pushed_digest, attempts) "
                    "VALUES (:k, :kind, '2026-04-01 00:00:00', 'v', 0, 'd', x'00', :p, 0)"
                ),
                {"k": key, "kind": kind, "p": pushed},
            )
    s.upgrade()
    with s.reading() as conn:
        rows = dict(conn.execute(text("SELECT period_key, queued FROM period_snapshot")).all())
    assert rows == {"2026-03": 1, "2026-W11": 0, "2026-Q1": 1}
    s.close()


def test_nothing_outside_the_store_touches_its_engine_lock_or_tables():
    """Issue 12.1: writes go through ``store.transaction()``, reads through ``store.reading()``,
    tables by their handles in daemon.store.models: no ``_writing``, ``.engine`` or ``__table__``
    outside daemon/store/ (the scoring package has its own database and may use its own)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    offenders = []
    for package in ("daemon", "drivers", "rules"):
        for f in sorted((root / package).rglob("*.py")):
            rel = f.relative_to(root).as_posix()
            if rel.startswith(("daemon/store/", "daemon/scoring/")):
                continue  # the store's own code, and the scoring DB's own engine
            for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Attribute) and node.attr in ("_writing", "engine", "__table__"):
                    offenders.append(f"{rel}:{node.lineno}: .{node.attr}")
    assert offenders == []
