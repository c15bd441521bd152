"""The daemon against the real PostgreSQL and MariaDB servers (never mocks; under CI
they must be there): push through the CLI, the job lock between two daemons, and
SIGKILL during a push."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import tomllib
from datetime import date, datetime, timezone
from pathlib import Path

from test_daemon import TZ, fill, utc

from daemon.config import config_from_dict
from daemon.outbox import take_snapshot
from daemon.scheduler import Daemon, job_runs
from daemon.scoring import ScoringDB
from daemon.store import open_store
from daemon.store.records import put_records
from rules import parse_period

ROOT = Path(__file__).resolve().parent.parent
TABLES = ("att_staff_day", "att_staff_period", "att_window_period", "att_deduction")


def write_config(tmp_path: Path, url: str, schema: str | None) -> Path:
    path = tmp_path / "attendd.toml"
    schema_line = f'schema = "{schema}"\n' if schema else ""
    path.write_text(f"""
[site]
name = "测试中心"
timezone = "Asia/Shanghai"
[store]
url = "sqlite:///{tmp_path / 'store.db'}"
[scoring]
url = "{url}"
{schema_line}
[timetables.standard]
slots = [
  {{ name = "am_in",  kind = "in",  at = "09:00", accept = ["07:00", "10:30"] }},
  {{ name = "am_out", kind = "out", at = "12:00", accept = ["11:00", "12:29"] }},
  {{ name = "pm_in",  kind = "in",  at = "13:00", accept = ["12:30", "15:00"] }},
  {{ name = "pm_out", kind = "out", at = "17:00", accept = ["16:00", "20:00"] }},
]
[policies.hall]
preset = "luoshan"
[[windows]]
code = "gongan"
name = "公安窗口"
timetable = "standard"
policy = "hall"
[[windows]]
code = "shuiwu"
name = "税务窗口"
timetable = "standard"
policy = "hall"
""", encoding="utf-8")
    return path


def attendd(cfg: Path, *args: str, wait: bool = True):
    cmd = [sys.executable, "-m", "daemon", "--config", str(cfg), "--log-format", "json", *args]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if wait:
        return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=env)


def contents(db: ScoringDB) -> dict[str, list]:
    """Every row, without the push's own stamps; JSON values compared as JSON."""
    def value(v):
        return json.dumps(v, sort_keys=True, ensure_ascii=False) if isinstance(v, (dict, list)) else str(v)

    def strip(rows):
        return sorted((tuple(sorted((k, value(v)) for k, v in r.items() if k not in ("computed_at", "rules_version")))
                       for r in rows))

    return {t: strip(db.rows(t)) for t in TABLES}


def test_cli_upgrade_and_push_into_a_real_server(tmp_path, server_db):
    url, schema = server_db
    cfg = write_config(tmp_path, url, schema)
    assert attendd(cfg, "db", "upgrade").returncode == 0
    store = open_store(f"sqlite:///{tmp_path / 'store.db'}", timezone="Asia/Shanghai")
    fill(store, late_on=date(2026, 3, 5))
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
    config = config_from_dict({
        "site": {"name": "x", "timezone": "Asia/Shanghai"},
        "store": {"url": f"sqlite:///{tmp_path / 'a.db'}"},
        "daemon": {"pull_times": ["09:10"]},
    })
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


def test_sigkill_during_push_then_push_equals_a_clean_recomputation(tmp_path, server_db):
    url, schema = server_db
    cfg = write_config(tmp_path, url, schema)
    assert attendd(cfg, "db", "upgrade").returncode == 0
    store = open_store(f"sqlite:///{tmp_path / 'store.db'}", timezone="Asia/Shanghai")
    fill(store, late_on=date(2026, 3, 5))
    # a bigger roster so that the push takes a moment
    put_records(store, "roster", [
        {"staff_no": str(1000 + i), "name": f"员工{i}", "window_code": "gongan" if i % 2 else "shuiwu",
         "role": "staff", "active_from": None, "active_to": None, "exempt": False} for i in range(400)
    ], now_utc=datetime(2026, 4, 1))
    rng = random.Random(5)
    for _ in range(3):
        proc = attendd(cfg, "push", "--period", "2026-03", wait=False)
        time.sleep(rng.uniform(1.0, 3.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    final = attendd(cfg, "push", "--period", "2026-03")
    assert final.returncode == 0, final.stderr
    db = ScoringDB(url, schema=schema)
    assert len(db.rows("att_staff_day")) == 404 * 31
    after_kills = contents(db)
    # a clean recomputation, written over the slice from scratch (force: no skip-unchanged)
    config = config_from_dict(tomllib.loads(cfg.read_text(encoding="utf-8")))
    snap = take_snapshot(store, config, parse_period("2026-03"), now=datetime.now(timezone.utc))
    db.push_period(period_kind="month", period_key="2026-03", start=date(2026, 3, 1), end=date(2026, 4, 1),
                   staff_days=snap.rows["staff_days"], staff_periods=snap.rows["staff_periods"],
                   window_periods=snap.rows["window_periods"], deductions=snap.rows["deductions"],
                   rules_version="clean", computed_at=datetime.now(timezone.utc), run_id="clean", force=True)
    clean = contents(db)
    for table in TABLES:
        a, b = set(after_kills[table]), set(clean[table])
        assert a == b, (table, sorted(a - b)[:2], sorted(b - a)[:2])
    db.close()
    store.close()
