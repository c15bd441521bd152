"""Shared fixtures: paths to ../shared, a fresh store, a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime
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
    return FakeClock(datetime(2026, 6, 30, 10, 0, tzinfo=UTC))


# --- the real database servers (CONTRIBUTING.md): PostgreSQL and MariaDB ------------------------

import uuid  # noqa: E402

from helpers import CI, MYSQL_URL, PG_URL, run_cli, server_engine  # noqa: E402, F401 - shared with the tests


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
