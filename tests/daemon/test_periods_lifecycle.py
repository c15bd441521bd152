"""Issue 10, points 7–11: go-live, closing and exploratory runs.

A period's life: nothing before the go-live month (``[site] since``) exists for attendd; a month
whose data is incomplete is held open instead of closed, and closed by force only with a name
and a reason; looking at a period (``attendd evaluate``, ``attendd bulletin``) queues nothing for
the shared scoring DB; a period has one key; a reopened month is final again, as a new revision.
Through the CLI (subprocesses) and the daemon with a fake clock, into a SQLite scoring DB.
"""

from __future__ import annotations

import json
import tomllib
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
from helpers import TWO_WINDOWS, TZ, assert_clean_failure, utc, write_centre
from helpers import run_cli as attendd

from daemon.config import config_from_dict
from daemon.outbox import held_periods, pending
from daemon.scheduler import Daemon, job_runs
from daemon.scoring import ScoringDB
from daemon.store import dirty_months, open_store, put_records
from drivers import Punch
from rules import RulesError, WorkCalendar, parse_period

CAL = WorkCalendar()
KEYED = ("att_staff_period", "att_window_period", "att_deduction", "att_push_run")


def write_cfg(tmp_path: Path, since: str = "2026-03-01") -> Path:
    return write_centre(
        tmp_path,
        since=since,
        scoring_url=f"sqlite:///{tmp_path / 'scoring.db'}",
        windows=TWO_WINDOWS[:1],
        extra=f'[bulletin]\ndir = "{tmp_path / "bulletins"}"\nformats = ["html"]\n'
        '[[devices]]\nname = "hall"\ndriver = "usb"\nserial = "S1"\n',
    )


def punches(month: str, skip: tuple[date, ...] = ()) -> list[Punch]:
    out = []
    for d in parse_period(month).days():
        if CAL.is_workday(d) and d not in skip:
            for no in "12":
                out += [Punch(no, datetime.combine(d, time(h, m))) for h, m in ((8, 50), (12, 1), (12, 55), (17, 5))]
    return out


def save(store, ps: list[Punch], run_at: datetime) -> None:
    """Punches of the USB terminal ``hall`` (S1), imported at ``run_at`` (UTC)."""
    store.save_punches(
        device_name="hall",
        device_serial="S1",
        source="usb",
        punches=ps,
        quarantined=[],
        now_utc=run_at.replace(tzinfo=UTC),
    )


@pytest.fixture
def site(tmp_path):
    """(config path, config, store, scoring DB): two officers at one window, a terminal in
    service since 1 March 2026 (go-live), nothing punched yet."""
    path = write_cfg(tmp_path)
    config = config_from_dict(tomllib.loads(path.read_text(encoding="utf-8")))
    store = open_store(config.store_url(), timezone="Asia/Shanghai")
    put_records(
        store,
        "roster",
        [
            {
                "staff_no": no,
                "name": name,
                "window_code": "gongan",
                "role": role,
                "active_from": None,
                "active_to": None,
                "exempt": False,
            }
            for no, name, role in (("1", "甲", "chief"), ("2", "乙", "staff"))
        ],
        now_utc=datetime(2026, 3, 1, tzinfo=UTC),
    )
    scoring = ScoringDB(config.scoring_url())
    scoring.upgrade()
    yield path, config, store, scoring
    scoring.close()
    store.close()


def keys(scoring, table: str = "att_staff_period") -> set[str]:
    return {r["period_key"] for r in scoring.rows(table)}


# --- 7. go-live ---------------------------------------------------------------------------------


def test_nothing_before_go_live_is_evaluated_pushed_closed_or_published(site):
    """Issue 10.7: an import brings punches of 2022 (an old terminal's memory); the first run
    evaluates and pushes only from the go-live month on, and a close slot for a month before
    go-live closes and publishes nothing."""
    _, config, store, scoring = site
    save(store, punches("2022-05") + punches("2026-03"), datetime(2026, 3, 1))
    assert "2022-05" in dirty_months(store)
    clock = [utc(2026, 4, 3, 9, 30)]
    daemon = Daemon(config, store, scoring, connect=None, clock=lambda: clock[0], tz=TZ)
    assert sorted(daemon.catch_up()) == ["close", "pull"]
    daemon.drain()
    assert all(k >= "2026" for t in KEYED for k in keys(scoring, t)), {t: keys(scoring, t) for t in KEYED}
    assert {"2026-03", "2026-04"} <= keys(scoring)
    assert min(r["work_date"] for r in scoring.rows("att_staff_day")) >= date(2026, 1, 1)
    assert dirty_months(store) == []  # the old month is not left to be tried at every pull
    # a close slot in March closes February, before go-live: nothing evaluated, closed or published
    assert daemon.execute("close", datetime(2026, 3, 3, 2, 0, tzinfo=TZ))
    assert not any("2026-02" in p.name for p in config.bulletin_dir().iterdir())
    assert "2026-02" not in keys(scoring) and all(p["period_key"] != "2026-02" for p in pending(store))


def test_the_cli_refuses_a_period_before_go_live(site):
    """Issue 10.7: `evaluate/push/bulletin --period` before `since`'s month: exit 2, one line.
    A period that overlaps the go-live month (2026-Q1, since 2026-03-01) is allowed."""
    path, _, store, _ = site
    save(store, punches("2026-03"), datetime(2026, 3, 1))
    for args in (
        ("evaluate", "--period", "2026-02"),
        ("push", "--period", "2025"),
        ("bulletin", "--period", "2026-W05", "-o", "x.html"),
    ):
        proc = attendd("--config", str(path), *args)
        assert_clean_failure(proc, 2)
        (line,) = proc.stderr.strip().splitlines()
        assert "before go-live" in line and "2026-03-01" in line, line
    ok = attendd("--config", str(path), "evaluate", "--period", "2026-Q1")
    assert ok.returncode == 0, ok.stderr
    assert "2026-Q1: 2 staff" in ok.stdout


# --- 8. an incomplete month is held open ----------------------------------------------------------


def test_a_month_with_a_silent_terminal_is_held_open_until_its_punches_arrive(site):
    """Issue 10.8: the terminal stored nothing on 30 and 31 March (workdays it covers): the close
    job does not finalise March, logs an error, publishes nothing, and says why; once the USB
    export of those days is imported, the next pull closes the month."""
    _, config, store, scoring = site
    dead = (date(2026, 3, 30), date(2026, 3, 31))
    save(store, punches("2026-03", skip=dead), datetime(2026, 3, 1))
    clock = [utc(2026, 4, 3, 9, 30)]
    daemon = Daemon(config, store, scoring, connect=None, clock=lambda: clock[0], tz=TZ)
    assert daemon.execute("close", datetime(2026, 4, 3, 2, 0, tzinfo=TZ))
    (run,) = [r for r in job_runs(store) if r["job"] == "close"]
    assert run["status"] == "held" and "hall" in run["error"] and "2026-03-30" in run["error"]
    (held,) = held_periods(store)
    assert held["period_key"] == "2026-03" and "terminal hall stored nothing on 2 workday(s)" in held["reasons"]
    assert not any(r["is_final"] for r in scoring.rows("att_staff_period", period_key="2026-03"))
    assert not config.bulletin_dir().exists() or not list(config.bulletin_dir().iterdir())
    # a pull while the data is still missing: still held
    daemon.pull_and_push()
    assert [h["period_key"] for h in held_periods(store)] == ["2026-03"]
    # the export arrives: the next pull closes March
    save(store, [p for p in punches("2026-03") if p.timestamp.date() in dead], datetime(2026, 4, 6))
    clock[0] = utc(2026, 4, 6, 9, 10)
    daemon.pull_and_push()
    assert held_periods(store) == []
    rows = scoring.rows("att_staff_period", period_key="2026-03")
    assert rows and all(r["is_final"] for r in rows) and {r["attendance_score"] for r in rows} == {25}
    assert (config.bulletin_dir() / "考勤通报-2026-03.html").is_file()


def test_a_month_that_came_by_usb_after_it_ended_is_still_checked_for_silent_days(site):
    """Issue 10.8: the whole of March arrives in an import on 2 April (the terminal's first ingest
    is after the month): its silent 30 and 31 March still hold March open — the terminal was in
    service from its first punch, not from the day the clerk imported its export."""
    _, config, store, _ = site
    dead = (date(2026, 3, 30), date(2026, 3, 31))
    save(store, punches("2026-03", skip=dead), datetime(2026, 4, 2))
    from daemon.outbox import incomplete

    assert incomplete(store, config, parse_period("2026-03"), now=utc(2026, 4, 3, 2, 0)) == [
        "terminal hall stored nothing on 2 workday(s): 2026-03-30, 2026-03-31"
    ]


def test_a_month_without_punches_is_held_then_closed_by_force_with_an_audit(site):
    """Issue 10.8: April has no punch at all (the terminal was unplugged): held open, `attendd
    status` says why, `evaluate --final` refuses, `--final --force --by --reason` closes it and
    the forced close is listed (who, when, why, what was incomplete)."""
    path, config, store, scoring = site
    save(store, punches("2026-03"), datetime(2026, 3, 1))
    daemon = Daemon(config, store, scoring, connect=None, clock=lambda: utc(2026, 5, 6, 9, 30), tz=TZ)
    assert daemon.execute("close", datetime(2026, 5, 6, 2, 0, tzinfo=TZ))
    assert [h["period_key"] for h in held_periods(store)] == ["2026-04"]
    status = attendd("--config", str(path), "status")
    assert status.returncode == 0, status.stderr
    assert "periods held open: 1" in status.stdout and "no punches stored for 2026-04" in status.stdout
    refused = attendd("--config", str(path), "evaluate", "--period", "2026-04", "--final")
    assert_clean_failure(refused, 2)
    (line,) = refused.stderr.strip().splitlines()
    assert "data incomplete" in line and "--force" in line
    no_name = attendd("--config", str(path), "evaluate", "--period", "2026-04", "--final", "--force")
    assert_clean_failure(no_name, 2)
    forced = attendd(
        "--config",
        str(path),
        "evaluate",
        "--period",
        "2026-04",
        "--final",
        "--force",
        "--by",
        "王科长",
        "--reason",
        "停电一月，纸质签到另行考核",
    )
    assert forced.returncode == 0, forced.stderr
    assert "2026-04: final, revision 1: queued" in forced.stdout
    closes = json.loads(attendd("--config", str(path), "list", "closes", "--format", "json").stdout)
    assert [(c["period_key"], c["by"], c["reason"]) for c in closes] == [
        ("2026-04", "王科长", "停电一月，纸质签到另行考核")
    ]
    assert "no punches stored for 2026-04" in closes[0]["incomplete"] and closes[0]["at"].startswith("2026-")
    assert held_periods(store) == []
    # the console's audit log has it too, with before and after (issue 15, 6)
    from daemon.store import changes

    [entry] = changes(store, action="period_close")
    assert (entry["by"], entry["via"], entry["subject_id"], entry["reason"]) == (
        "王科长",
        "cli",
        "2026-04",
        "停电一月，纸质签到另行考核",
    )
    assert entry["before"] is None and entry["after"] == {"is_final": True, "revision": 1, "forced": True}
    # the final snapshot reaches the scoring DB through the daemon's drain (at the CLI's real time)
    Daemon(config, store, scoring, connect=None, clock=lambda: datetime.now(UTC), tz=TZ).drain()
    rows = scoring.rows("att_staff_period", period_key="2026-04")
    assert rows and all(r["is_final"] for r in rows)


# --- 9. looking queues nothing --------------------------------------------------------------------


def test_evaluate_and_bulletin_only_look(site, tmp_path):
    """Issue 10.9: a week and a month evaluated, a week's bulletin written "to have a look": then
    `attendd push` of another period and the daemon's drain. The looked-at periods never reach
    the scoring DB; the bulletin still prints the rows a push would send."""
    path, config, store, scoring = site
    save(store, punches("2026-03"), datetime(2026, 3, 1))
    for args in (
        ("evaluate", "--period", "2026-W11"),
        ("evaluate", "--period", "2026-03"),
        ("bulletin", "--period", "2026-W12", "-o", str(tmp_path / "w.html")),
    ):
        proc = attendd("--config", str(path), *args)
        assert proc.returncode == 0, proc.stderr
        assert args[0] == "bulletin" or "not queued for the scoring DB" in proc.stdout
    assert (tmp_path / "w.html").is_file() and pending(store) == []
    pushed = attendd("--config", str(path), "push", "--period", "2026-Q1")
    assert pushed.returncode == 0 and "pushed" in pushed.stdout, pushed.stderr
    Daemon(config, store, scoring, connect=None, clock=lambda: utc(2026, 4, 1, 9), tz=TZ).drain()
    for table in KEYED:
        assert keys(scoring, table) <= {"2026-Q1"}, (table, keys(scoring, table))
    assert keys(scoring) == {"2026-Q1"}


# --- 10. one key per period -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, key",
    [
        ("２０２６-03", "2026-03"),
        ("٢٠٢٦-٠٣", "2026-03"),
        ("۲۰۲۶-Q۱", "2026-Q1"),
        ("2026-q1", "2026-Q1"),
        ("2026-h2", "2026-H2"),
        ("2026-w12", "2026-W12"),
        ("２０２６－Ｗ１２", "2026-W12"),
        (" 2026 ", "2026"),
    ],
)
def test_a_period_has_one_ascii_key(text, key):
    """Issue 10.10: Unicode digits (full-width, Arabic-Indic, Persian) and lower case give the canonical key."""
    p = parse_period(text)
    assert p.key == key and p.key.isascii() and p == parse_period(key)


def test_unicode_digits_on_the_command_line_push_one_key(site):
    """Issue 10.10: `push --period ２０２６-03` then `push --period ٢٠٢٦-٠٣`: one period, one key."""
    path, _, store, scoring = site
    save(store, punches("2026-03"), datetime(2026, 3, 1))
    first = attendd("--config", str(path), "push", "--period", "２０２６-03")
    assert first.returncode == 0 and "2026-03: pushed" in first.stdout, first.stderr
    second = attendd("--config", str(path), "push", "--period", "٢٠٢٦-٠٣")
    assert second.returncode == 0 and "already has these results" in second.stdout, second.stdout
    assert all(keys(scoring, t) == {"2026-03"} for t in ("att_staff_period", "att_window_period", "att_push_run"))
    bad = attendd("--config", str(path), "evaluate", "--period", "２０２６-13")
    assert_clean_failure(bad, 2)
    assert len(bad.stderr.strip().splitlines()) == 1
    with pytest.raises(RulesError):
        parse_period("2026-3")


# --- 11. a reopened month is final again ----------------------------------------------------------


def test_a_reopened_month_is_final_again_as_a_new_revision(site):
    """Issue 10.11: March closed and pushed; a sick leave is filed late; `evaluate --reopen --by
    --reason` recomputes it, final again (revision 2), the daemon's drain pushes it, a later pull
    does not make it provisional, and `attendd list reopens` shows who, when and why."""
    from sqlalchemy import select

    from daemon.store.models import SnapshotRow

    path, config, store, scoring = site
    save(store, punches("2026-03"), datetime(2026, 3, 1))
    clock = [utc(2026, 4, 3, 9, 30)]
    daemon = Daemon(config, store, scoring, connect=None, clock=lambda: clock[0], tz=TZ)
    assert daemon.execute("close", datetime(2026, 4, 3, 2, 0, tzinfo=TZ))
    not_final = attendd(
        "--config", str(path), "evaluate", "--period", "2026-04", "--reopen", "--by", "x", "--reason", "y"
    )
    assert_clean_failure(not_final, 2)
    assert "not final" in not_final.stderr
    put_records(
        store,
        "leaves",
        [
            {
                "ref": "L1",
                "staff_no": "2",
                "kind": "sick",
                "note": "",
                "start": datetime(2026, 3, 10, 8),
                "end": datetime(2026, 3, 10, 18),
            }
        ],
        now_utc=datetime(2026, 4, 8, tzinfo=UTC),
    )
    reopened = attendd(
        "--config", str(path), "evaluate", "--period", "2026-03", "--reopen", "--by", "王科长", "--reason", "补录病假"
    )
    assert reopened.returncode == 0, reopened.stderr
    assert "(final)" in reopened.stdout and "revision 2" in reopened.stdout
    clock[0] = datetime.now(UTC)  # the CLI ran at the real time
    daemon.pull_and_push()  # the daemon's drain pushes it; its re-evaluation leaves a final month alone
    rows = {r["staff_no"]: r for r in scoring.rows("att_staff_period", period_key="2026-03")}
    assert rows and all(r["is_final"] for r in rows.values()) and rows["2"]["sick_leave_days"] == 1
    with store.reading() as conn:
        snap = conn.execute(select(SnapshotRow.__table__).where(SnapshotRow.period_key == "2026-03")).mappings().one()
    assert snap["is_final"] and snap["revision"] == 2
    from daemon.store import changes

    [entry] = changes(store, action="period_reopen")
    assert (entry["by"], entry["via"], entry["reason"]) == ("王科长", "cli", "补录病假")
    assert entry["before"] == {"is_final": True, "revision": 1} and entry["after"] == {"is_final": True, "revision": 2}
    assert changes(store, action="period_close") == []  # the daemon's own close is in its tables, not the log
    listed = json.loads(attendd("--config", str(path), "list", "reopens", "--format", "json").stdout)
    assert [(r["period_key"], r["by"], r["reason"], r["revision"]) for r in listed] == [
        ("2026-03", "王科长", "补录病假", 2)
    ]
    assert listed[0]["at"].startswith("2026-")
