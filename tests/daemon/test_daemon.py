"""The daemon: evaluate and push from the store, the outbox, the job-run table and
the fake-clock scheduler, final months and reopen. The scoring DB here is an
embedded SQLite file; PostgreSQL and MariaDB are in test_daemon_servers.py.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from helpers import TZ, fill, push_march, standard_slots, utc

from daemon.config import config_from_dict
from daemon.outbox import drain, pending, take_snapshot
from daemon.scheduler import Daemon, job_runs
from daemon.scoring import ScoringDB
from daemon.store import dirty_months, put_records
from rules import parse_period


def cfg(tmp_path, **daemon):
    return config_from_dict(
        {
            "site": {"name": "测试中心", "timezone": "Asia/Shanghai"},
            "store": {"url": f"sqlite:///{tmp_path / 'store.db'}"},
            "scoring": {"url": f"sqlite:///{tmp_path / 'scoring.db'}"},
            "daemon": {"pull_times": ["09:10", "17:10"], **daemon},
            "timetables": {"standard": {"slots": standard_slots()}},
            "policies": {"hall": {"preset": "luoshan"}},
            "windows": [
                {"code": "gongan", "name": "公安窗口", "timetable": "standard", "policy": "hall"},
                {"code": "shuiwu", "name": "税务窗口", "timetable": "standard", "policy": "hall"},
            ],
        }
    )


@pytest.fixture
def env(tmp_path, store):
    config = cfg(tmp_path)
    scoring = ScoringDB(config.scoring_url())
    scoring.upgrade()
    yield config, store, scoring
    scoring.close()


def test_evaluate_snapshot_push_and_the_scoring_rows(env):
    config, store, scoring = env
    fill(store, late_on=date(2026, 3, 5))
    now = utc(2026, 4, 1, 9)
    snap = take_snapshot(store, config, parse_period("2026-03"), now=now)
    assert snap.changed and not snap.is_final
    (out,) = drain(store, scoring, now=now)
    assert out.status == "ok"
    periods = {r["staff_no"]: r for r in scoring.rows("att_staff_period", period_key="2026-03")}
    assert periods["2"]["late_count"] == 1 and periods["2"]["attendance_score"] == 22
    assert periods["4"]["personal_leave_days"] == 1 and periods["4"]["attendance_score"] == 24
    (ded,) = [d for d in scoring.rows("att_deduction", period_key="2026-03") if d["staff_no"] == "2"]
    assert (ded["rule"], ded["ref"], ded["points"]) == ("late", "2026-03-05/am_in", 3)
    assert "09:20:00" in ded["evidence"]
    days = scoring.rows("att_staff_day", staff_no="2")
    assert len(days) == 31 and sum(d["late_count"] for d in days) == 1
    windows = {w["window_code"]: w for w in scoring.rows("att_window_period", period_key="2026-03")}
    assert windows["shuiwu"]["rank"] == 1 and windows["gongan"]["rank"] == 2
    # nothing changed: nothing to push
    assert drain(store, scoring, now=now) == []
    assert pending(store) == []


def test_a_late_punch_for_a_past_day_updates_that_month(env):
    config, store, scoring = env
    fill(store)
    now = utc(2026, 4, 1, 9)
    take_snapshot(store, config, parse_period("2026-03"), now=now)
    drain(store, scoring, now=now)
    # an exemption for 乙 arrives, then a punch the terminal had not sent
    put_records(
        store,
        "exemptions",
        [{"ref": "E1", "staff_no": "2", "day": date(2026, 3, 9), "slot": "all", "reason": "证明"}],
        now_utc=datetime(2026, 4, 2, tzinfo=UTC),
    )
    assert "2026-03" in dirty_months(store)
    daemon = Daemon(config, store, scoring, connect=None, clock=lambda: utc(2026, 4, 2, 9, 10), tz=TZ)
    assert "2026-03" in daemon.reevaluate()
    drain(store, scoring, now=utc(2026, 4, 2, 9, 10))
    assert dirty_months(store) == []
    rows = {r["staff_no"]: r for r in scoring.rows("att_staff_period", period_key="2026-03")}
    assert rows["2"]["attendance_score"] == 25


def test_scoring_db_down_then_back_pushes_the_same_rows(env, tmp_path):
    config, store, scoring = env
    fill(store, late_on=date(2026, 3, 5))
    down = ScoringDB("postgresql+psycopg://u:s3cret@127.0.0.1:1/none")
    now = utc(2026, 4, 1, 9)
    take_snapshot(store, config, parse_period("2026-03"), now=now)
    for i in range(4):  # a day of failed runs, each after the back-off
        outcomes = drain(store, down, now=now + timedelta(hours=i), force=True)
        assert [o.status for o in outcomes] == ["failed"] and "s3cret" not in outcomes[0].error
    (waiting,) = pending(store)
    assert waiting["attempts"] == 4 and waiting["next_attempt_utc"] > now + timedelta(hours=3)
    # the DB returns: the backlog drains when due
    assert drain(store, scoring, now=now + timedelta(hours=3, minutes=1)) == []  # back-off not over
    (ok,) = drain(store, scoring, now=now + timedelta(hours=5))
    assert ok.status == "ok" and pending(store) == []
    # identical to a clean push of the same store into a fresh DB
    clean = ScoringDB(f"sqlite:///{tmp_path / 'clean.db'}")
    clean.upgrade()
    snap = take_snapshot(store, config, parse_period("2026-03"), now=now)
    push_march(clean, snap, rules_version="x", computed_at=now, run_id="clean")
    for table in ("att_staff_day", "att_staff_period", "att_window_period", "att_deduction"):

        def strip(rows):
            return sorted(
                ({k: v for k, v in r.items() if k not in ("computed_at", "rules_version")} for r in rows), key=str
            )

        assert strip(scoring.rows(table)) == strip(clean.rows(table)), table
    clean.close()
    down.close()


def test_final_month_changes_only_on_reopen(env):
    config, store, scoring = env
    fill(store)
    now = utc(2026, 4, 3, 2)
    final = take_snapshot(store, config, parse_period("2026-03"), now=now, final=True)
    drain(store, scoring, now=now)
    assert all(r["is_final"] for r in scoring.rows("att_staff_period", period_key="2026-03"))
    # a late leave record does not move a published month …
    put_records(
        store,
        "leaves",
        [
            {
                "ref": "L9",
                "staff_no": "2",
                "kind": "sick",
                "note": "",
                "start": datetime(2026, 3, 10, 8),
                "end": datetime(2026, 3, 10, 18),
            }
        ],
        now_utc=datetime(2026, 4, 5, tzinfo=UTC),
    )
    again = take_snapshot(store, config, parse_period("2026-03"), now=now + timedelta(days=2))
    assert not again.changed and again.digest == final.digest
    # … until someone reopens it, which is recorded
    reopened = take_snapshot(
        store,
        config,
        parse_period("2026-03"),
        now=now + timedelta(days=3),
        final=True,
        reopen_by="王科长",
        reopen_reason="补录病假",
    )
    assert reopened.changed
    drain(store, scoring, now=now + timedelta(days=3))
    row = next(r for r in scoring.rows("att_staff_period", period_key="2026-03") if r["staff_no"] == "2")
    assert row["sick_leave_days"] == 1
    from sqlalchemy import select

    from daemon.store.models import ReopenRow

    with store.reading() as conn:
        (audit,) = conn.execute(select(ReopenRow.__table__)).mappings().all()
    assert (audit["by"], audit["reason"]) == ("王科长", "补录病假")


def test_fake_clock_scheduler_catches_up_once(env):
    config, store, scoring = env
    fill(store)
    clock = [utc(2026, 4, 3, 9, 30)]
    daemon = Daemon(config, store, scoring, connect=None, clock=lambda: clock[0], tz=TZ)
    # down since before the 09:10 pull and the 02:00 month close: each runs once
    assert sorted(daemon.catch_up()) == ["close", "pull"]
    assert daemon.catch_up() == []
    runs = {r["job"]: r for r in job_runs(store)}
    assert runs["pull"]["scheduled_for_utc"] == utc(2026, 4, 3, 9, 10)
    assert runs["close"]["status"] == "ok"
    assert all(r["is_final"] for r in scoring.rows("att_staff_period", period_key="2026-03"))
    # the 17:10 slot: due once
    clock[0] = utc(2026, 4, 3, 17, 11)
    assert daemon.catch_up() == ["pull"]


def test_a_job_that_crashed_runs_again_at_start_up(env):
    config, store, scoring = env
    fill(store)
    clock = [utc(2026, 4, 3, 9, 30)]
    daemon = Daemon(config, store, scoring, connect=None, clock=lambda: clock[0], tz=TZ)
    slot = utc(2026, 4, 3, 9, 10)
    assert daemon._claim("pull", slot, clock[0])  # the process died here, the row says "running"
    assert daemon.execute("pull", slot)  # the next start runs it
    assert not daemon.execute("pull", slot)  # and only once


def test_a_new_scoring_db_gets_the_results_too(env, tmp_path):
    """What was pushed is remembered per scoring DB: pointing the config at a new
    one (or a new schema) pushes again instead of saying it already has them."""
    config, store, scoring = env
    fill(store)
    now = utc(2026, 4, 1, 9)
    take_snapshot(store, config, parse_period("2026-03"), now=now)
    assert [o.status for o in drain(store, scoring, now=now)] == ["ok"]
    other = ScoringDB(f"sqlite:///{tmp_path / 'other.db'}")
    other.upgrade()
    assert len(pending(store, other)) == 1 and pending(store, scoring) == []
    assert [o.status for o in drain(store, other, now=now)] == ["ok"]
    assert len(other.rows("att_staff_period")) == 4
    other.close()


def test_a_month_in_progress_is_scored_on_the_days_that_have_happened(env):
    """Days after "now" have not happened: scoring them would make the current month a month
    of absences in the scoring DB. Today counts once its last acceptance window (20:00) closed."""
    config, store, _ = env
    fill(store)
    march = parse_period("2026-03")

    def days_scored(now):
        snap = take_snapshot(store, config, march, now=now)
        return {d["work_date"] for d in snap.rows["staff_days"] if d["status"] != "not_scheduled"}, snap

    noon, _ = days_scored(utc(2026, 3, 11, 12))  # Wednesday 11 March, midday
    assert max(noon) == date(2026, 3, 10)
    evening, snap = days_scored(utc(2026, 3, 11, 20, 30))
    assert max(evening) == date(2026, 3, 11)
    assert all(x["work_date"] <= date(2026, 3, 11) for x in snap.rows["deductions"] if x["work_date"])
    assert {r["scheduled_days"] for r in snap.rows["staff_periods"]} == {8}  # 2–6 and 9–11 March
    after, _ = days_scored(utc(2026, 4, 1, 2))
    assert max(after) == date(2026, 3, 31)


def test_the_outbox_never_pushes_a_period_before_go_live(env):
    """Issue 10.7: a month left in the outbox from before `[site] since` was set (as the first
    run of an earlier version left ten months of 2020–2022) is never pushed, and is not evaluated again."""
    from daemon.errors import UserError

    config, store, scoring = env
    fill(store)
    now = utc(2026, 4, 1, 9)
    take_snapshot(store, config, parse_period("2026-03"), now=now)  # no `since` yet
    live = config.model_copy(update={"site": config.site.model_copy(update={"since": date(2026, 4, 1)})})
    assert pending(store, scoring, since=live.site.since) == []
    Daemon(live, store, scoring, connect=None, clock=lambda: now, tz=TZ).drain()
    assert scoring.rows("att_staff_period") == []
    with pytest.raises(UserError, match="before go-live"):
        take_snapshot(store, live, parse_period("2026-03"), now=now)
    # the go-live month itself, and a period overlapping it, are allowed
    assert take_snapshot(store, live, parse_period("2026-Q2"), now=utc(2026, 4, 2, 9), queue=False).revision is None
