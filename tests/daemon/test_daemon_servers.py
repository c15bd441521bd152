"""The daemon against the real PostgreSQL and MariaDB servers (never mocks; under CI
they must be there): push through the CLI, the job lock between two daemons, and
SIGKILL during a push."""

from __future__ import annotations

import json
import signal
import tomllib
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from helpers import TZ, fill, push_march, sigkill, spawn, utc, wait_for, write_centre
from helpers import attendd as run_attendd
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from daemon.config import config_from_dict
from daemon.outbox import take_snapshot
from daemon.scheduler import Daemon, job_runs
from daemon.scoring import ScoringDB
from daemon.scoring.locks import lock_name, pg_key
from daemon.store import open_store, put_records
from rules import parse_period

TABLES = ("att_staff_day", "att_staff_period", "att_window_period", "att_deduction")


def write_config(tmp_path: Path, url: str, schema: str | None) -> Path:
    return write_centre(tmp_path, scoring_url=url, schema=schema)


def attendd(cfg: Path, *args: str, wait: bool = True):
    if wait:
        return run_attendd("--log-format", "json", *args, config=cfg, timeout=300)
    return spawn("--log-format", "json", *args, config=cfg, text=False)


def push_lock_holder(admin, url: str, schema: str | None) -> dict | None:
    """The session holding the scoring DB's push lock, if any, and whether it is writing the slice.

    A session holds the lock only inside ``ScoringDB.push_period``, around the one transaction that
    replaces the slice and adds the ``att_push_run`` row: PostgreSQL takes it as the transaction's
    first statement (``pg_advisory_xact_lock``, gone at commit or rollback), MariaDB on the push's
    connection just before the transaction (``GET_LOCK``, released after it). ``writing``:
    PostgreSQL has given the transaction an id (it has deleted or copied rows); on MariaDB a
    ``DELETE`` / ``INSERT`` on a slice table is running in that session.
    """
    with admin.connect() as conn:
        if admin.dialect.name == "postgresql":
            key = pg_key(lock_name("push", schema or "public", "slices"))
            row = conn.execute(
                text(
                    "SELECT l.pid, a.backend_xid IS NOT NULL AS writing FROM pg_locks l JOIN pg_stat_activity a "
                    "USING (pid) WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
                    "AND l.classid::bigint = :hi AND l.objid::bigint = :lo"
                ),
                {"hi": (key >> 32) & 0xFFFFFFFF, "lo": key & 0xFFFFFFFF},
            ).first()
            return None if row is None else {"session": row.pid, "writing": bool(row.writing)}
        holder = conn.scalar(
            text("SELECT IS_USED_LOCK(:n)"), {"n": lock_name("push", make_url(url).database, "slices")}
        )
        if holder is None:
            return None
        info = conn.scalar(text("SELECT INFO FROM information_schema.PROCESSLIST WHERE ID = :id"), {"id": holder})
    return {"session": holder, "writing": (info or "").startswith(("INSERT INTO att_", "DELETE FROM att_"))}


def contents(db: ScoringDB) -> dict[str, list]:
    """Every row, without the push's own stamps; JSON values compared as JSON."""

    def value(v):
        return json.dumps(v, sort_keys=True, ensure_ascii=False) if isinstance(v, (dict, list)) else str(v)

    def strip(rows):
        return sorted(
            tuple(sorted((k, value(v)) for k, v in r.items() if k not in ("computed_at", "rules_version")))
            for r in rows
        )

    return {t: strip(db.rows(t)) for t in TABLES}


def upgraded_centre(tmp_path, url, schema):
    """The config on the scoring DB (upgraded through the CLI) and the store, filled with staff 2 late on 03-05."""
    cfg = write_config(tmp_path, url, schema)
    assert attendd(cfg, "db", "upgrade").returncode == 0
    store = open_store(f"sqlite:///{tmp_path / 'store.db'}", timezone="Asia/Shanghai")
    fill(store, late_on=date(2026, 3, 5))
    return cfg, store


def test_cli_upgrade_and_push_into_a_real_server(tmp_path, server_db):
    url, schema = server_db
    cfg, store = upgraded_centre(tmp_path, url, schema)
    pushed = attendd(cfg, "push", "--period", "2026-03")
    assert pushed.returncode == 0, pushed.stderr
    assert "pushed" in pushed.stdout
    again = attendd(cfg, "push", "--period", "2026-03")
    assert again.returncode == 0 and "already has these results" in again.stdout
    db = ScoringDB(url, schema=schema)
    rows = {r["staff_no"]: r for r in db.rows("att_staff_period", period_key="2026-03")}
    assert rows["2"]["late_count"] == 1 and float(rows["2"]["attendance_score"]) == 22
    assert len(db.rows("att_staff_day")) == 4 * 31
    db.close()
    store.close()


def test_two_daemons_never_run_the_same_job_at_once(tmp_path, server_db):
    url, schema = server_db
    config = config_from_dict(
        {
            "site": {"name": "x", "timezone": "Asia/Shanghai"},
            "store": {"url": f"sqlite:///{tmp_path / 'a.db'}"},
            "daemon": {"pull_times": ["09:10"]},
        }
    )
    first, second = ScoringDB(url, schema=schema), ScoringDB(url, schema=schema)
    first.upgrade()
    store_b = open_store(f"sqlite:///{tmp_path / 'b.db'}", timezone="Asia/Shanghai")
    now = utc(2026, 4, 3, 9, 30)
    daemon_b = Daemon(config, store_b, second, connect=None, clock=lambda: now, tz=TZ)
    slot = utc(2026, 4, 3, 9, 10)
    with first.job_lock("pull") as held:
        assert held
        assert daemon_b.execute("pull", slot) is False  # daemon A is pulling: B stands aside
    (run,) = [r for r in job_runs(store_b) if r["job"] == "pull"]
    assert "another daemon" in (run["error"] or "")
    assert daemon_b.execute("pull", utc(2026, 4, 3, 17, 10))  # the lock is free again
    first.close()
    second.close()
    store_b.close()


@pytest.mark.slow
def test_sigkill_during_push_then_push_equals_a_clean_recomputation(tmp_path, server_db):
    url, schema = server_db
    cfg, store = upgraded_centre(tmp_path, url, schema)
    # a bigger roster so that the push takes a moment
    put_records(
        store,
        "roster",
        [
            {
                "staff_no": str(1000 + i),
                "name": f"员工{i}",
                "window_code": "gongan" if i % 2 else "shuiwu",
                "role": "staff",
                "active_from": None,
                "active_to": None,
                "exempt": False,
            }
            for i in range(400)
        ],
        now_utc=datetime(2026, 4, 1, tzinfo=UTC),
    )
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    db = ScoringDB(url, schema=schema)
    # Each kill lands inside the push: the first once the push holds the push lock (its
    # transaction is open), the others once it is writing the slice (about 0.3 s before it
    # would commit, on an idle machine; longer under load).
    for writing in (False, True, True):
        proc = attendd(cfg, "push", "--period", "2026-03", wait=False)

        def caught(writing=writing):
            h = push_lock_holder(admin, url, schema)
            return h if h and (h["writing"] or not writing) else None

        holder = wait_for(
            caught,
            "the push writing the slice" if writing else "the push holding the push lock",
            proc=proc,
            timeout=120,
            poll=0.005,
        )
        assert sigkill(proc) == -signal.SIGKILL  # killed by the signal, not exited on its own first
        assert holder["writing"] or not writing
        # begun but not finished: nothing committed (no att_push_run row), and the server rolls the
        # killed session's transaction back and frees its lock
        assert db.push_runs("2026-03") == []
        wait_for(lambda: push_lock_holder(admin, url, schema) is None, "the killed push's lock freed", timeout=60)
    admin.dispose()
    db.close()
    final = attendd(cfg, "push", "--period", "2026-03")
    assert final.returncode == 0, final.stderr
    db = ScoringDB(url, schema=schema)
    assert len(db.rows("att_staff_day")) == 404 * 31
    after_kills = contents(db)
    # a clean recomputation, written over the slice from scratch (force: no skip-unchanged)
    config = config_from_dict(tomllib.loads(cfg.read_text(encoding="utf-8")))
    snap = take_snapshot(store, config, parse_period("2026-03"), now=datetime.now(UTC))
    push_march(db, snap, rules_version="clean", computed_at=datetime.now(UTC), run_id="clean", force=True)
    clean = contents(db)
    for table in TABLES:
        a, b = set(after_kills[table]), set(clean[table])
        assert a == b, (table, sorted(a - b)[:2], sorted(b - a)[:2])
    db.close()
    store.close()
