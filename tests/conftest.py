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
def store(store_backend, tmp_path):
    """A fresh, migrated local store: SQLite, or on PostgreSQL in a private schema of its own
    (dropped afterwards) for tests marked ``store_backends("sqlite", "postgresql")``."""
    yield from open_test_store(store_backend, tmp_path)


@pytest.fixture
def store_backend(request) -> str:
    """The database the ``store`` fixture opens: SQLite unless the test is marked (below)."""
    return getattr(request, "param", "sqlite")


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers", "store_backends(*names): run the test's `store` fixture on each backend (sqlite, postgresql)"
    )


def pytest_generate_tests(metafunc) -> None:
    """A test (or module) marked ``store_backends(...)`` runs once per backend of its ``store``."""
    marker = metafunc.definition.get_closest_marker("store_backends")
    if marker is not None and "store_backend" in metafunc.fixturenames:
        metafunc.parametrize("store_backend", marker.args, indirect=True)


def open_test_store(backend: str, tmp_path):
    """Open (and at the end close and drop) a fresh store on ``backend``: a SQLite file in
    ``tmp_path``, or a private schema on the PostgreSQL test server, never ``public``."""
    from daemon.store import open_store

    if backend == "sqlite":
        s = open_store(f"sqlite:///{tmp_path / 'store.db'}", timezone="Asia/Shanghai")
        yield s
        s.close()
        return
    admin = server_engine(PG_URL, "PostgreSQL")
    schema = f"att_store_{uuid.uuid4().hex[:10]}"  # created by the store's upgrade
    try:
        s = open_store(PG_URL, timezone="Asia/Shanghai", schema=schema)
        yield s
        s.close()
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


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


def _private_database(kind: str):
    """(url, cleanup) of a fresh database of its own on the PostgreSQL or MariaDB server."""
    from sqlalchemy.engine import make_url

    name = f"att_store_{uuid.uuid4().hex[:10]}"
    admin_url = PG_URL if kind == "postgresql" else MYSQL_URL
    admin = server_engine(admin_url, "PostgreSQL" if kind == "postgresql" else "MariaDB")
    quote = '"' if kind == "postgresql" else "`"
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.exec_driver_sql(f"CREATE DATABASE {quote}{name}{quote}")

    def cleanup() -> None:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            if kind == "postgresql":
                c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            else:
                c.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        admin.dispose()

    return make_url(admin_url).set(database=name).render_as_string(hide_password=False), cleanup


def _store_url(kind: str, tmp_path):
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    url, cleanup = _private_database(kind)
    yield url
    cleanup()


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def any_store_url(request, tmp_path):
    """The URL of a fresh, private local store database on each backend (SQLite file, or a
    database of its own on the PostgreSQL / MariaDB server, dropped afterwards)."""
    yield from _store_url(request.param, tmp_path)


@pytest.fixture(params=["sqlite", "postgresql"])
def sqlite_or_pg_store_url(request, tmp_path):
    """:func:`any_store_url` on SQLite and PostgreSQL only (the large-import tests)."""
    yield from _store_url(request.param, tmp_path)
