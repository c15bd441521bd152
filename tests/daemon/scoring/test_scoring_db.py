"""The scoring DB contract (SPEC §4.4) against real PostgreSQL, MariaDB and SQLite.

Each test gets its own PostgreSQL schema (``att_test_<random>``) or MariaDB
database, dropped afterwards, so tests never see each other's rows or any
other table. Servers are found at ``ATTENDD_TEST_PG_URL`` /
``ATTENDD_TEST_MYSQL_URL`` (defaults: the local test servers). When
``CI=true`` an unreachable server fails the tests; elsewhere they are
skipped with the reason.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from conftest import MYSQL_URL, PG_URL, server_engine
from helpers import scoring_staff_day
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import Engine, make_url

from daemon.errors import UserError
from daemon.scoring import RowError, ScoringDB, ScoringError
from daemon.scoring.tables import TABLES, VERSION_TABLE

ATT_TABLES = set(TABLES)
UTC = UTC
T0 = datetime(2026, 4, 3, 2, 0, tzinfo=UTC)
MARCH = ("month", "2026-03", date(2026, 3, 1), date(2026, 4, 1))
APRIL = ("month", "2026-04", date(2026, 4, 1), date(2026, 5, 1))
Q1 = ("quarter", "2026-Q1", date(2026, 1, 1), date(2026, 4, 1))
HEAD = "0004"


@dataclass
class Target:
    """One test's own scoring DB: how to open it, and an admin engine to look inside."""

    backend: str
    url: str
    schema: str | None
    admin: Engine

    def open(self, site: str | None = None) -> ScoringDB:
        return ScoringDB(self.url, schema=self.schema, **({"site": site} if site else {}))

    @property
    def where(self) -> str | None:
        """The schema to inspect (PostgreSQL), else the URL's default."""
        return self.schema if self.backend == "postgresql" else None

    def table_names(self) -> set[str]:
        return set(inspect(self.admin).get_table_names(schema=self.where))

    def create_other_table(self) -> None:
        """A table of another system, with a row, beside where attendd's go."""
        if self.backend == "postgresql":
            with self.admin.connect() as c:
                c.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
        name = f'"{self.where}".other_system_table' if self.where else "other_system_table"
        with self.admin.begin() as c:
            c.exec_driver_sql(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, note VARCHAR(20))")
            c.exec_driver_sql(f"INSERT INTO {name} VALUES (1, 'keep me')")

    def other_rows(self) -> list[tuple]:
        name = f'"{self.where}".other_system_table' if self.where else "other_system_table"
        with self.admin.connect() as c:
            return [tuple(r) for r in c.exec_driver_sql(f"SELECT id, note FROM {name}")]


@pytest.fixture(params=["postgresql", "mariadb", "sqlite"])
def target(request, tmp_path) -> Target:
    suffix = uuid.uuid4().hex[:10]
    if request.param == "postgresql":
        admin = server_engine(PG_URL, "PostgreSQL")
        schema = f"att_test_{suffix}"  # not created: upgrade must create it
        yield Target("postgresql", PG_URL, schema, admin)
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()
    elif request.param == "mariadb":
        server = server_engine(MYSQL_URL, "MariaDB")
        name = f"att_test_{suffix}"
        with server.connect() as c:
            # latin1 on purpose: attendd's tables must still be utf8mb4 (Chinese names)
            c.exec_driver_sql(f"CREATE DATABASE `{name}` CHARACTER SET latin1")
        url = make_url(MYSQL_URL).set(database=name).render_as_string(hide_password=False)
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        yield Target("mysql", url, "ignored_on_mysql", admin)
        admin.dispose()
        with server.connect() as c:
            c.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        server.dispose()
    else:
        url = f"sqlite:///{tmp_path / 'scoring.db'}"
        admin = create_engine(url)
        yield Target("sqlite", url, "ignored_on_sqlite", admin)
        admin.dispose()


@pytest.fixture
def db(target) -> ScoringDB:
    s = target.open()
    s.upgrade()
    yield s
    s.close()


# --- rows (staff_day: helpers.scoring_staff_day) --------------------------------------------------


def staff_period(kind: str, key: str, no: str, **over) -> dict:
    return {
        "period_kind": kind,
        "period_key": key,
        "staff_no": no,
        "window_code": "gongan",
        "policy": "hall",
        "scheduled_days": 22,
        "present_days": 21,
        "late_count": 2,
        "early_count": 0,
        "missing_punches": 1,
        "absent_days": 0.5,
        "personal_leave_days": 1.0,
        "sick_leave_days": 0.0,
        "other_leave_days": 0.0,
        "midday_leave_count": 0,
        "off_post_count": 0,
        "deduction_points": 6.5,
        "max_points": 25.0,
        "attendance_score": 18.5,
        "grade": "称职",
        "disqualified": False,
        "disqualify_reasons": ["旷工 0.5 天"],
        "is_final": False,
        "excused_punches": 1,
        "grade_note": None,
        **over,
    }


def window_period(kind: str, key: str, code: str, **over) -> dict:
    return {
        "period_kind": kind,
        "period_key": key,
        "window_code": code,
        "window_name": "公安窗口",
        "staff_count": 3,
        "attendance_score": 21.25,
        "max_points": 25.0,
        "rank": 1,
        "red_flag": True,
        "chief_onsite_ratio": 0.875,
        "is_final": False,
        "ranking_group": "",
        "score_percent": 85.0,
        **over,
    }


def deduction(kind: str, key: str, no: str, ref: str, **over) -> dict:
    return {
        "period_kind": kind,
        "period_key": key,
        "staff_no": no,
        "rule": "late",
        "ref": ref,
        "work_date": date.fromisoformat(ref.split("/")[0]) if "/" in ref else None,
        "slot": ref.split("/")[1] if "/" in ref else None,
        "points": 3.0,
        "evidence": "09:07:12 人脸",
        "note": "",
        **over,
    }


def days_of(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days)]


def slice_rows(period, staff=("1001", "1002", "1003"), *, late_minutes=7, deductions_per_staff=3) -> dict:
    kind, key, start, end = period
    return {
        "staff_days": [
            scoring_staff_day(no, d, late_minutes=late_minutes) for no in staff for d in days_of(start, end)
        ],
        "staff_periods": [staff_period(kind, key, no) for no in staff],
        "window_periods": [
            window_period(kind, key, "gongan"),
            window_period(kind, key, "shuiwu", rank=2, red_flag=False, window_name="税务窗口"),
        ],
        "deductions": [
            deduction(kind, key, no, f"{start + timedelta(days=i)}/am_in")
            for no in staff
            for i in range(deductions_per_staff)
        ],
    }


def push(db: ScoringDB, period, rows: dict, *, computed_at: datetime = T0, run_id: str | None = None, **kw) -> int:
    kind, key, start, end = period
    return db.push_period(
        period_kind=kind,
        period_key=key,
        start=start,
        end=end,
        rules_version="0.1.0+test",
        computed_at=computed_at,
        run_id=run_id or uuid.uuid4().hex,
        **rows,
        **kw,
    )


def snapshot(db: ScoringDB) -> dict[str, list[dict]]:
    return {t: db.rows(t) for t in ("att_staff_day", "att_staff_period", "att_window_period", "att_deduction")}


def without_stamp(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in ("site_code", "computed_at", "rules_version")} for r in rows]


# --- migrations ------------------------------------------------------------------------------------


def test_upgrade_creates_only_att_tables_and_is_idempotent(target):
    target.create_other_table()
    s = target.open()
    try:
        assert s.upgrade() == (None, HEAD)
        assert target.table_names() == ATT_TABLES | {VERSION_TABLE, "other_system_table"}
        assert s.upgrade() == (HEAD, HEAD)
        assert target.table_names() == ATT_TABLES | {VERSION_TABLE, "other_system_table"}
        assert target.other_rows() == [(1, "keep me")]
        s.check()
    finally:
        s.close()


def test_tables_match_the_contract(db, target):
    """What the migration created is what tables.py (and SPEC §4.4) says."""
    insp = inspect(target.admin)
    for name, table in TABLES.items():
        cols = [c["name"] for c in insp.get_columns(name, schema=target.where)]
        assert cols == [c.name for c in table.columns], name
        pk = insp.get_pk_constraint(name, schema=target.where)["constrained_columns"]
        assert pk == [c.name for c in table.primary_key.columns], name
        indexed = {tuple(ix["column_names"]) for ix in insp.get_indexes(name, schema=target.where)}
        assert {tuple(c.name for c in ix.columns) for ix in table.indexes} <= indexed, name
        assert {"site_code", "computed_at", "rules_version"} <= set(cols)
    natural = {  # the site first in every natural key (issue 19)
        "att_staff_day": ["site_code", "staff_no", "work_date"],
        "att_staff_period": ["site_code", "period_kind", "period_key", "staff_no"],
        "att_window_period": ["site_code", "period_kind", "period_key", "window_code"],
        "att_deduction": ["site_code", "period_kind", "period_key", "staff_no", "rule", "ref"],
    }
    for name, key in natural.items():
        assert insp.get_pk_constraint(name, schema=target.where)["constrained_columns"] == key
    uniques = insp.get_unique_constraints("att_push_run", schema=target.where)
    assert ["site_code", "run_id"] in [u["column_names"] for u in uniques]


@pytest.mark.parametrize("target", ["postgresql"], indirect=True)
def test_postgresql_upgrade_creates_the_schema(target):
    assert target.schema not in inspect(target.admin).get_schema_names()
    with target.open() as s:
        s.upgrade()
    assert target.schema in inspect(target.admin).get_schema_names()
    assert VERSION_TABLE in target.table_names()
    assert VERSION_TABLE not in set(inspect(target.admin).get_table_names())  # not in public


@pytest.mark.parametrize("target", ["postgresql"], indirect=True)
def test_postgresql_role_with_only_its_schema(target):
    """A DBA gives attendd a role and a schema, nothing on the database: upgrade and push work."""
    role = f"{target.schema}_role"  # a new role has no CREATE on the database (PostgreSQL's default)
    with target.admin.connect() as c:
        c.exec_driver_sql(f'CREATE ROLE "{role}" LOGIN')
        c.exec_driver_sql(f'CREATE SCHEMA "{target.schema}"')
        c.exec_driver_sql(f'GRANT USAGE, CREATE ON SCHEMA "{target.schema}" TO "{role}"')
    try:
        url = make_url(target.url).set(username=role).render_as_string(hide_password=False)
        with ScoringDB(url, schema=target.schema) as s:
            assert s.upgrade() == (None, HEAD)
            s.check()
            assert push(s, MARCH, slice_rows(MARCH)) > 0
            with s.job_lock("pull") as got:
                assert got
    finally:
        with target.admin.connect() as c:
            c.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{target.schema}" CASCADE')
            c.exec_driver_sql(f'DROP OWNED BY "{role}"')
            c.exec_driver_sql(f'DROP ROLE "{role}"')


def test_check_on_unmigrated_db_names_the_command(target):
    with target.open() as s:
        with pytest.raises(ScoringError, match="attendd db upgrade") as err:
            s.check()
        assert "\n" not in str(err.value)
        s.upgrade()
        s.check()


# --- push -------------------------------------------------------------------------------------------


def test_push_round_trips_every_value(db):
    rows = slice_rows(MARCH)
    n = push(db, MARCH, rows, computed_at=datetime(2026, 4, 3, 10, 0, 0, 123456, tzinfo=timezone(timedelta(hours=8))))
    assert n == sum(len(v) for v in rows.values())
    got = snapshot(db)
    assert without_stamp(got["att_staff_day"]) == rows["staff_days"]
    assert without_stamp(got["att_staff_period"]) == rows["staff_periods"]
    assert without_stamp(got["att_window_period"]) == sorted(rows["window_periods"], key=lambda r: r["window_code"])
    assert without_stamp(got["att_deduction"]) == sorted(rows["deductions"], key=lambda r: (r["staff_no"], r["ref"]))
    for table in got.values():
        for r in table:
            # stored as UTC: 10:00 in Shanghai is 02:00 UTC
            assert r["computed_at"] == datetime(2026, 4, 3, 2, 0, 0, 123456, tzinfo=UTC)
            assert r["rules_version"] == "0.1.0+test"
    [run] = db.push_runs()
    assert run["status"] == "ok" and run["rows"] == n and run["period_key"] == "2026-03"
    assert run["started_at"] <= run["finished_at"]


def test_repush_identical_leaves_tables_identical(db):
    rows = slice_rows(MARCH)
    first = push(db, MARCH, rows, run_id="run-1")
    before = snapshot(db)
    assert push(db, MARCH, slice_rows(MARCH), run_id="run-2") == 0  # nothing to rewrite
    assert snapshot(db) == before
    runs = db.push_runs()
    assert [(r["run_id"], r["status"], r["rows"]) for r in runs] == [("run-1", "ok", first), ("run-2", "unchanged", 0)]
    assert runs[0]["content_hash"] == runs[1]["content_hash"]
    # forced, the identical content is rewritten and still identical
    assert push(db, MARCH, slice_rows(MARCH), run_id="run-3", force=True) == first
    assert snapshot(db) == before
    assert len(db.push_runs("2026-03")) == 3


def test_recomputed_period_replaces_its_slice_exactly(db):
    push(db, MARCH, slice_rows(MARCH))
    push(db, APRIL, slice_rows(APRIL))
    april = {
        t: [
            r
            for r in rows
            if r.get("period_key", "2026-04") == "2026-04" and (t != "att_staff_day" or r["work_date"] >= APRIL[2])
        ]
        for t, rows in snapshot(db).items()
    }
    # March recomputed: staff 1003 left, fewer deductions, other minutes
    new = slice_rows(MARCH, staff=("1001", "1002"), late_minutes=9, deductions_per_staff=1)
    new["window_periods"] = new["window_periods"][:1]
    push(db, MARCH, new, computed_at=T0 + timedelta(hours=1))
    got = snapshot(db)
    march = {
        t: [
            r
            for r in rows
            if r.get("period_key", "2026-03") == "2026-03" and (t != "att_staff_day" or r["work_date"] < APRIL[2])
        ]
        for t, rows in got.items()
    }
    assert without_stamp(march["att_staff_day"]) == new["staff_days"]
    assert without_stamp(march["att_staff_period"]) == new["staff_periods"]
    assert without_stamp(march["att_window_period"]) == new["window_periods"]
    assert without_stamp(march["att_deduction"]) == new["deductions"]
    assert {r["computed_at"] for t in march.values() for r in t} == {T0 + timedelta(hours=1)}
    assert not [r for r in got["att_staff_day"] if r["staff_no"] == "1003" and r["work_date"] < APRIL[2]]
    # April untouched, its staff 1003 days included
    assert {
        t: [
            r
            for r in rows
            if r.get("period_key", "2026-04") == "2026-04" and (t != "att_staff_day" or r["work_date"] >= APRIL[2])
        ]
        for t, rows in got.items()
    } == april


def test_overlapping_push_is_not_mistaken_for_unchanged(db):
    """A quarter pushed after its month rewrote March's days: the month's identical re-push must restore them."""
    month = slice_rows(MARCH)
    push(db, MARCH, month)
    quarter = slice_rows(Q1, late_minutes=11)
    push(db, Q1, quarter)
    assert {r["late_minutes"] for r in db.rows("att_staff_day")} == {11}
    assert push(db, MARCH, slice_rows(MARCH)) > 0
    march_days = [r for r in db.rows("att_staff_day") if r["work_date"] >= MARCH[2]]
    assert without_stamp(march_days) == month["staff_days"]
    # the quarter's period rows were not touched by the month
    assert without_stamp(db.rows("att_staff_period", period_key="2026-Q1")) == quarter["staff_periods"]
    # now the month is the last writer: a further identical push is skipped
    assert push(db, MARCH, slice_rows(MARCH)) == 0


def test_rows_deleted_behind_our_back_are_rewritten(db, target):
    push(db, MARCH, slice_rows(MARCH))
    before = snapshot(db)
    table = f'"{target.schema}".att_deduction' if target.backend == "postgresql" else "att_deduction"
    with target.admin.begin() as c:
        c.exec_driver_sql(f"DELETE FROM {table} WHERE staff_no = '1002'")
    assert push(db, MARCH, slice_rows(MARCH)) > 0
    assert snapshot(db) == before


def test_push_without_days_keeps_staff_days(db):
    push(db, MARCH, slice_rows(MARCH))
    days = db.rows("att_staff_day")
    new = slice_rows(MARCH, staff=("1001",))
    push(db, MARCH, new, include_days=False)
    assert db.rows("att_staff_day") == days
    assert [r["staff_no"] for r in db.rows("att_staff_period", period_key="2026-03")] == ["1001"]


def test_push_failing_midway_keeps_the_previous_slice(db):
    push(db, MARCH, slice_rows(MARCH), run_id="good")
    before = snapshot(db)
    bad = slice_rows(MARCH, staff=("1001", "1002"), late_minutes=30)
    bad["deductions"][-1]["points"] = None  # the very last row written violates NOT NULL
    with pytest.raises(ScoringError) as err:
        push(db, MARCH, bad, run_id="bad")
    message = str(err.value)
    assert "\n" not in message and "2026-03" in message and "INSERT" not in message and "COPY" not in message
    assert snapshot(db) == before
    assert [(r["run_id"], r["status"]) for r in db.push_runs()] == [("good", "ok"), ("bad", "failed")]
    # the next good push goes through, and is not mistaken for the failed one
    assert push(db, MARCH, slice_rows(MARCH, staff=("1001",))) > 0
    assert [r["staff_no"] for r in db.rows("att_staff_period")] == ["1001"]


def test_rows_that_do_not_belong_are_refused_before_writing(db):
    push(db, MARCH, slice_rows(MARCH))
    before = snapshot(db)
    outside = slice_rows(MARCH)
    outside["staff_days"].append(scoring_staff_day("1001", date(2026, 4, 1)))
    with pytest.raises(RowError, match="outside"):
        push(db, MARCH, outside)
    other = slice_rows(MARCH)
    other["deductions"].append(deduction("month", "2026-04", "1001", "2026-04-01/am_in"))
    with pytest.raises(RowError, match="2026-04"):
        push(db, MARCH, other)
    typo = slice_rows(MARCH)
    typo["staff_periods"][0]["late_cnt"] = 1
    with pytest.raises(RowError, match="late_cnt"):
        push(db, MARCH, typo)
    assert snapshot(db) == before


def test_period_keys_may_be_left_out(db):
    rows = slice_rows(MARCH)
    for table in ("staff_periods", "window_periods", "deductions"):
        for r in rows[table]:
            del r["period_kind"], r["period_key"]
    push(db, MARCH, rows)
    assert {r["period_key"] for r in db.rows("att_deduction")} == {"2026-03"}


def test_computed_at_must_be_aware(db):
    with pytest.raises(ValueError, match="timezone-aware"):
        push(db, MARCH, slice_rows(MARCH), computed_at=datetime(2026, 4, 3, 2, 0))


# --- locks --------------------------------------------------------------------------------------------


def test_job_lock_is_exclusive_across_instances(db, target):
    other = target.open()
    try:
        with db.job_lock("pull") as got:
            assert got is True
            with other.job_lock("pull") as second:
                assert second is False
            with other.job_lock("bulletin") as different:
                assert different is True
        with other.job_lock("pull") as after_release:
            assert after_release is True
        with pytest.raises(RuntimeError):
            with db.job_lock("pull") as got:
                assert got
                raise RuntimeError("the job failed")
        with other.job_lock("pull") as after_failure:
            assert after_failure is True
    finally:
        other.close()


def test_job_lock_is_granted_when_the_db_is_unreachable():
    s = ScoringDB("postgresql+psycopg://u:s3cretpw@127.0.0.1:1/x")
    with s.job_lock("pull") as got:
        assert got is True


# --- unreachable --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://u:s3cretpw@127.0.0.1:1/x",
        "mysql+pymysql://u:s3cretpw@127.0.0.1:1/x",
    ],
)
def test_unreachable_db_is_one_line_without_the_password(url):
    s = ScoringDB(url, schema="attendance")
    for call in (s.check, s.upgrade, lambda: push(s, MARCH, slice_rows(MARCH, staff=("1001",)))):
        with pytest.raises(ScoringError) as err:
            call()
        message = str(err.value)
        assert "s3cretpw" not in message
        assert "\n" not in message
        assert "127.0.0.1" in message
    assert "s3cretpw" not in s.display
    s.close()


def test_bad_url_is_a_user_error_without_the_password():
    from daemon.errors import UserError

    with pytest.raises(UserError) as err:
        ScoringDB("postgresql+nosuchdriver://u:s3cretpw@h/x")
    assert "s3cretpw" not in str(err.value)
    with pytest.raises(UserError) as err:
        ScoringDB("not a url s3cretpw")
    assert "s3cretpw" not in str(err.value)


# --- text that needs escaping, and concurrent pushes --------------------------------------------------

NASTY = [
    "it's",
    'say "hi"',
    "back\\slash",
    "new\nline",
    "cr\rlf",
    "tab\there",
    "100% 罗山",
    "emoji 🚩",
    "\\N",
    "'); DROP TABLE att_deduction; --",
    "ctrl-z \x1a",
    "",
]


def nasty_rows(period) -> dict:
    rows = slice_rows(period, staff=("1001",), deductions_per_staff=len(NASTY))
    for d, text_ in zip(rows["deductions"], NASTY, strict=True):
        d["evidence"], d["note"] = text_, text_ * 2
    rows["window_periods"][0]["window_name"] = "O'Brien \\ 窗口\n"
    rows["staff_periods"][0]["disqualify_reasons"] = NASTY
    rows["staff_days"][0]["detail"] = [{"slot": s, "status": "ok"} for s in NASTY]
    return rows


def test_text_round_trips_whatever_it_holds(db):
    rows = nasty_rows(MARCH)
    push(db, MARCH, rows)
    assert [(r["evidence"], r["note"]) for r in sorted(db.rows("att_deduction"), key=lambda r: r["ref"])] == [
        (d["evidence"], d["note"]) for d in sorted(rows["deductions"], key=lambda r: r["ref"])
    ]
    assert db.rows("att_window_period", window_code="gongan")[0]["window_name"] == "O'Brien \\ 窗口\n"
    assert db.rows("att_staff_period")[0]["disqualify_reasons"] == NASTY
    assert db.rows("att_staff_day", work_date=MARCH[2])[0]["detail"] == rows["staff_days"][0]["detail"]
    assert len(db.rows("att_deduction")) == len(NASTY)


@pytest.mark.parametrize("target", ["mariadb"], indirect=True)
def test_mysql_without_backslash_escapes(target):
    """A server in NO_BACKSLASH_ESCAPES mode reads quotes doubled and backslashes as themselves."""
    url = make_url(target.url).update_query_dict({"init_command": "SET SESSION sql_mode='NO_BACKSLASH_ESCAPES'"})
    with ScoringDB(url.render_as_string(hide_password=False)) as s:
        s.upgrade()
        with s.engine.connect() as conn:  # the mode the escaping follows is really on
            from pymysql.constants import SERVER_STATUS

            status = conn.connection.driver_connection.server_status
            assert status & SERVER_STATUS.SERVER_STATUS_NO_BACKSLASH_ESCAPES
        rows = nasty_rows(MARCH)
        push(s, MARCH, rows)
        assert sorted(r["evidence"] for r in s.rows("att_deduction")) == sorted(NASTY)
        assert s.rows("att_staff_period")[0]["disqualify_reasons"] == NASTY


def test_concurrent_pushes_of_overlapping_periods_take_turns(db, target):
    import threading

    other = target.open()
    errors: list[BaseException] = []

    def run(s: ScoringDB, period) -> None:
        try:
            for _ in range(3):
                push(s, period, slice_rows(period, late_minutes=5 if period is MARCH else 6), force=True)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(db, MARCH)), threading.Thread(target=run, args=(other, Q1))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    other.close()
    assert not errors
    assert len(db.push_runs()) == 6
    days = db.rows("att_staff_day")
    assert len(days) == 3 * len(days_of(Q1[2], Q1[3]))  # every day once, whoever wrote it last
    assert {r["late_minutes"] for r in days if r["work_date"] < MARCH[2]} == {6}


# --- sites: several centres in one scoring DB (issue 19) ------------------------------------------


def test_two_sites_with_the_same_staff_numbers_keep_their_own_slices(target):
    """Two centres, both with staff 1001, push into one scoring DB: each push, re-push and forced
    re-push replaces only its own site's rows, and the other's stay exactly as they were."""
    a, b = target.open("county-a"), target.open("county-b")
    try:
        a.upgrade()
        rows_a = slice_rows(MARCH, staff=("1001", "1002"), late_minutes=7)
        rows_b = slice_rows(MARCH, staff=("1001", "1003"), late_minutes=12, deductions_per_staff=2)
        n_a = push(a, MARCH, rows_a, run_id="run-1")
        n_b = push(b, MARCH, rows_b, run_id="run-1")  # a run id is unique per site
        assert n_a > 0 and n_b > 0
        assert without_stamp(a.rows("att_staff_day")) == rows_a["staff_days"]
        assert without_stamp(b.rows("att_staff_day")) == rows_b["staff_days"]
        assert {r["late_minutes"] for r in b.rows("att_staff_day", staff_no="1001")} == {12}
        assert {r["site_code"] for r in a.rows("att_deduction")} == {"county-a"}
        assert len(a.rows("att_staff_period", all_sites=True)) == 4
        slice_b = snapshot(b)

        # A recomputes March (1002 left, other minutes), re-pushes it identically, forces it, and
        # pushes a quarter over the same days: B's slice is untouched each time
        changed = slice_rows(MARCH, staff=("1001",), late_minutes=9, deductions_per_staff=1)
        assert push(a, MARCH, changed) > 0
        assert snapshot(b) == slice_b
        assert push(a, MARCH, changed) == 0  # unchanged: only A's runs and rows are compared
        assert push(a, MARCH, changed, force=True) > 0
        assert push(a, Q1, slice_rows(Q1, staff=("1001",), late_minutes=4)) > 0
        assert snapshot(b) == slice_b
        assert {r["late_minutes"] for r in a.rows("att_staff_day", staff_no="1001")} == {4}

        # B's identical re-push is unchanged although A wrote the same keys since; forced, it
        # rewrites B's rows only
        slice_a = snapshot(a)
        assert push(b, MARCH, rows_b) == 0
        assert push(b, MARCH, rows_b, force=True) == n_b
        assert snapshot(a) == slice_a
        assert without_stamp(b.rows("att_staff_day")) == rows_b["staff_days"]
        assert [(r["run_id"], r["status"]) for r in b.push_runs()] == [
            ("run-1", "ok"),
            (b.push_runs()[1]["run_id"], "unchanged"),
            (b.push_runs()[2]["run_id"], "ok"),
        ]
        assert {r["site_code"] for r in a.push_runs()} == {"county-a"} and len(a.push_runs()) == 5
        # the push names the site, never the rows: a row claiming another site is refused
        claims = slice_rows(MARCH, staff=("1001",))
        claims["staff_periods"][0]["site_code"] = "county-b"
        with pytest.raises(RowError, match="site_code"):
            push(a, MARCH, claims)
    finally:
        a.close()
        b.close()


def test_job_locks_are_per_site(target):
    """Two centres pull at the same times: one's job lock does not stop the other's jobs."""
    a, a2, b = target.open("county-a"), target.open("county-a"), target.open("county-b")
    try:  # job locks need no tables
        with a.job_lock("pull") as got_a, b.job_lock("pull") as got_b, a2.job_lock("pull") as got_a2:
            assert (got_a, got_b, got_a2) == (True, True, False)
    finally:
        for s in (a, a2, b):
            s.close()


def at_0002_with_rows(db: ScoringDB, rows: dict) -> None:
    """Migrate ``db`` to revision 0002 and write ``rows`` (and a run) as an attendd of 0002 did."""
    from alembic import command
    from sqlalchemy import Column, MetaData, Table, insert

    from daemon.scoring import tables

    def at_0002(table: Table) -> Table:  # the table as revision 0002 had it: no site_code
        return Table(table.name, MetaData(), *(Column(c.name, c.type) for c in table.columns if c.name != "site_code"))

    with db.engine.begin() as conn:
        command.upgrade(db._migrations.config(conn), "0002")
    stamp = {"computed_at": T0.replace(tzinfo=None), "rules_version": "0.9"}
    with db.engine.begin() as conn:
        # the attendance tables (revision 0002 had no assessment tables: they came with 0004)
        for table, given in zip(tables.SLICE_TABLES[:4], rows.values(), strict=True):
            conn.execute(insert(at_0002(table)), [{**r, **stamp} for r in given])
        run = {"run_id": "old", "period_kind": "month", "period_key": "2026-03", "include_days": True}
        conn.execute(
            insert(at_0002(tables.push_run)),
            {**run, **stamp, "period_start": MARCH[2], "period_end": MARCH[3], "rows": 1, "status": "ok"}
            | {"started_at": stamp["computed_at"]},
        )


def test_migration_gives_existing_rows_the_configured_site(target):
    """An installation at revision 0002, with pushed rows, upgrades: its rows (and runs) carry
    ``[site] code``, its next push replaces them rather than adding beside them, and another
    site pushes its own staff 1001 beside them."""
    old = target.open("xian-1")
    try:
        rows = slice_rows(MARCH, staff=("1001", "1002"))
        at_0002_with_rows(old, rows)
        assert old.upgrade() == ("0002", HEAD)
        migrated = snapshot(old)
        assert without_stamp(migrated["att_staff_day"]) == rows["staff_days"]
        assert {r["site_code"] for t in migrated.values() for r in t} == {"xian-1"}
        assert [r["run_id"] for r in old.push_runs()] == ["old"]
        # the default the migration used to fill the column is gone: every writer names its site
        insp = inspect(target.admin)
        (site_column,) = [c for c in insp.get_columns("att_staff_day", schema=target.where) if c["name"] == "site_code"]
        assert site_column["default"] is None and not site_column["nullable"]

        other = target.open("xian-2")
        try:
            push(other, MARCH, slice_rows(MARCH, staff=("1001",), late_minutes=20))
            recomputed = slice_rows(MARCH, staff=("1001",), late_minutes=3)
            push(old, MARCH, recomputed)
            assert without_stamp(old.rows("att_staff_day")) == recomputed["staff_days"]
            assert {r["late_minutes"] for r in other.rows("att_staff_day")} == {20}
        finally:
            other.close()
    finally:
        old.close()


def test_a_site_code_is_ascii():
    from daemon.scoring.tables import DEFAULT_SITE_CODE, check_site_code

    assert check_site_code(DEFAULT_SITE_CODE) is None and check_site_code("xian_01-A") is None
    for bad in ("", "县中心", "a b", "x" * 33, "a.b"):
        assert check_site_code(bad), bad
    with pytest.raises(UserError, match="site.code"):
        ScoringDB("sqlite://", site="县中心")


@pytest.mark.parametrize("target", ["postgresql", "mariadb"], indirect=True)
def test_db_upgrade_migrates_with_the_configured_site_code(target, tmp_path):
    """`attendd db upgrade` gives the rows of an older scoring DB ``[site] code``; check-config
    warns while a server scoring DB is used without one."""
    from helpers import run_cli, write_toml

    def config(code: str) -> str:
        path = write_toml(
            tmp_path,
            f"""
            [site]
            name = "中心"
            {code}
            [store]
            url = "sqlite:///{tmp_path / "store.db"}"
            [scoring]
            url = "{target.url}"
            schema = "{target.schema}"
            """,
        )
        return str(path)

    unset = run_cli("check-config", config(""))
    assert unset.returncode == 0 and "warning: site.code is not set" in unset.stdout
    with target.open() as s:
        at_0002_with_rows(s, slice_rows(MARCH, staff=("1001", "1002")))
    path = config('code = "xian-1"')
    assert "site.code" not in run_cli("check-config", path).stdout
    proc = run_cli("--config", path, "db", "upgrade")
    assert proc.returncode == 0, proc.stderr
    assert f"revision {HEAD} (migrated from 0002), site xian-1" in proc.stdout
    with target.open("xian-1") as s:
        assert {r["site_code"] for t in snapshot(s).values() for r in t} == {"xian-1"}
        assert len(s.rows("att_staff_period", all_sites=True)) == 2 and len(s.push_runs()) == 1
