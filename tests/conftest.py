"""Shared fixtures: paths to ../shared, a fresh store, a fixed clock."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
ATTLOG = SHARED / "data" / "1_attlog.dat"


@pytest.fixture
def attlog_path() -> Path:
    if not ATTLOG.is_file():
        pytest.skip(f"{ATTLOG} is absent (../shared is not beside this clone)")
    return ATTLOG


@pytest.fixture
def store(tmp_path):
    from daemon.store import open_store

    s = open_store(f"sqlite:///{tmp_path / 'store.db'}", timezone="Asia/Shanghai")
    yield s
    s.close()


class FakeClock:
    """A settable UTC clock for code that takes ``clock`` as an argument."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw) -> None:
        from datetime import timedelta

        self.now += timedelta(**kw)


@pytest.fixture
def clock() -> FakeClock:
    # 2026-06-30 18:00 in Shanghai: after every synthetic punch the tests make
    return FakeClock(datetime(2026, 6, 30, 10, 0, tzinfo=timezone.utc))


# --- the real database servers (DEVELOPERS.md): PostgreSQL and MariaDB ------------------------

import os  # noqa: E402
import uuid  # noqa: E402

PG_URL = os.environ.get("ATTENDD_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MYSQL_URL = os.environ.get("ATTENDD_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
CI = os.environ.get("CI", "").lower() == "true"


def server_engine(url: str, what: str):
    """An AUTOCOMMIT admin engine on a test server; under CI an unreachable server
    fails the test, elsewhere it skips with the reason."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    engine = create_engine(url, connect_args={"connect_timeout": 3}, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect():
            pass
    except Exception as exc:  # noqa: BLE001 - any failure to connect means the same here
        engine.dispose()
        reason = f"{what} at {make_url(url).render_as_string(hide_password=True)} is unreachable: {str(exc).splitlines()[0]}"
        if CI:
            pytest.fail(f"CI=true: {reason}")
        pytest.skip(reason)
    return engine


@pytest.fixture(params=["postgresql", "mariadb"])
def server_db(request):
    """(url, schema) of a fresh, private scoring DB on a real server, dropped afterwards."""
    from sqlalchemy.engine import make_url

    name = f"att_test_{uuid.uuid4().hex[:10]}"
    if request.param == "postgresql":
        admin = server_engine(PG_URL, "PostgreSQL")
        yield PG_URL, name
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    else:
        admin = server_engine(MYSQL_URL, "MariaDB")
        with admin.connect() as c:
            c.exec_driver_sql(f"CREATE DATABASE `{name}`")
        yield make_url(MYSQL_URL).set(database=name).render_as_string(hide_password=False), None
        with admin.connect() as c:
            c.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
    admin.dispose()


# --- the command line, in this process ---------------------------------------------------------


def run_cli(*args: str):
    """``attendd ARGS`` run in this process, as a :class:`subprocess.CompletedProcess`.

    For tests of what a command prints and stores; a new interpreter per call costs about a
    second of imports, so the process-level tests (signals, a daemon running, a real
    terminal's output) keep ``subprocess``. An exception a user mistake should not cause
    propagates and fails the test, as a traceback would.
    """
    import contextlib
    import io
    import subprocess

    from daemon.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse: a usage error
            code = exc.code if isinstance(exc.code, int) else 2
    return subprocess.CompletedProcess(["attendd", *args], code, out.getvalue(), err.getvalue())
