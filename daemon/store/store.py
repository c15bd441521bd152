"""The local store: engine, migrations, and the few operations sync needs.

Every write that belongs together is one transaction: a pull's punches, its
quarantined records, the device's users, its sync state and the audit row
commit together or not at all, so a pull that dies half-way leaves nothing
half-written and the next pull simply does the work again.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, delete, event, func, insert, select
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from drivers import DeviceUser, Punch

from ..errors import AttenddError, UserError
from .dirty import mark_dirty
from .models import (
    Base,
    DeviceStateRow,
    DeviceUserRow,
    IngestRunRow,
    PunchRow,
    QuarantineRow,
)

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "attendd_store_version"


class StoreError(AttenddError):
    """The local store cannot be opened or written (exit code 1)."""

    exit_code = 1


@dataclass(frozen=True, slots=True)
class Quarantined:
    """A record kept aside: its raw form and why it cannot be scored."""

    raw: str
    reason: str
    pin: str | None = None
    punched_at: datetime | None = None


@dataclass(slots=True)
class SaveResult:
    """What one batch of punches did to the store."""

    read: int = 0
    new: int = 0
    duplicate: int = 0
    quarantined: int = 0
    quarantined_new: int = 0
    unknown_pins: list[str] = field(default_factory=list)


_PUNCH_COLUMNS = ("device_serial", "pin", "punched_at", "state", "verify", "work_code", "run_id")
_SQLITE_PUNCH_INSERT = (
    f"INSERT OR IGNORE INTO punch ({', '.join(_PUNCH_COLUMNS)}) VALUES ({', '.join('?' * len(_PUNCH_COLUMNS))})"
)


def _insert_punches(conn: Connection, serial: str, punches: Sequence[Punch], run_id: int) -> int:
    """Insert-or-ignore punches by their natural key; returns how many were new.

    On SQLite the rows go straight to the driver's executemany with times
    already in SQLAlchemy's SQLite storage format ("YYYY-MM-DD HH:MM:SS.ffffff",
    which the DateTime type reads back): per-row bind processing would be
    most of the cost of a 200,000-record pull.
    """
    if not punches:
        return 0
    if conn.dialect.name == "sqlite":
        rows = [
            (serial, p.pin, p.timestamp.isoformat(" ", "microseconds"), p.state, p.verify, p.work_code, run_id)
            for p in punches
        ]
        # sqlite3 sums executemany's row counts; ignored rows count nothing
        return conn.exec_driver_sql(_SQLITE_PUNCH_INSERT, rows).rowcount
    pt = PunchRow.__table__
    rows = [
        {
            "device_serial": serial,
            "pin": p.pin,
            "punched_at": p.timestamp,
            "state": p.state,
            "verify": p.verify,
            "work_code": p.work_code,
            "run_id": run_id,
        }
        for p in punches
    ]
    if conn.dialect.name == "postgresql":
        stmt = postgresql.insert(pt).on_conflict_do_nothing().returning(pt.c.id)
        return len(conn.execute(stmt, rows).all())
    return conn.execute(mysql.insert(pt).prefix_with("IGNORE"), rows).rowcount


def _months_of_run(conn: Connection, run_id: int) -> list[str]:
    """``YYYY-MM`` of the punches a run stored (their new rows carry its id)."""
    pt = PunchRow.__table__
    name = conn.dialect.name
    if name == "sqlite":
        month = func.substr(pt.c.punched_at, 1, 7)
    elif name == "postgresql":
        month = func.to_char(pt.c.punched_at, "YYYY-MM")
    else:
        month = func.date_format(pt.c.punched_at, "%Y-%m")
    return list(conn.scalars(select(month).where(pt.c.run_id == run_id).distinct()))


def _insert_ignore(conn: Connection, table, rows: Sequence[dict]) -> None:
    """Bulk insert that skips rows whose unique key already exists."""
    if not rows:
        return
    name = conn.dialect.name
    if name == "sqlite":
        stmt = sqlite.insert(table).on_conflict_do_nothing()
    elif name == "postgresql":
        stmt = postgresql.insert(table).on_conflict_do_nothing()
    elif name in ("mysql", "mariadb"):
        stmt = mysql.insert(table).prefix_with("IGNORE")
    else:  # pragma: no cover - other dialects are not supported for the store
        raise StoreError(f"unsupported store database: {name}")
    conn.execute(stmt, list(rows))


class Store:
    """The local store behind a SQLAlchemy URL (SQLite by default)."""

    def __init__(self, url: str, *, timezone: str) -> None:
        self.url = url
        self.timezone = timezone
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite and parsed.database and parsed.database != ":memory:":
            try:
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot open the local store: {parsed.database}: {exc.strerror or exc}") from None
        kwargs: dict = {}
        if self.is_sqlite:
            kwargs["connect_args"] = {"timeout": 30}
        self.engine: Engine = create_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        # SQLite takes one writer at a time; parallel syncs queue here rather
        # than fail with "database is locked".
        self._write_lock = threading.Lock() if self.is_sqlite else None

    def close(self) -> None:
        self.engine.dispose()

    # --- schema ----------------------------------------------------------------

    def _alembic(self, conn: Connection) -> AlembicConfig:
        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["connection"] = conn
        return cfg

    def upgrade(self) -> tuple[str | None, str]:
        """Migrate to the newest schema; returns (revision before, revision now)."""
        from ..sqlite_ddl import migration_engine

        # SQLite: one transaction for the whole migration (see daemon/sqlite_ddl.py)
        engine = (
            migration_engine(self.url, _sqlite_pragmas, connect_args={"timeout": 30}) if self.is_sqlite else self.engine
        )
        try:
            with engine.begin() as conn:
                before = self.revision(conn)
                command.upgrade(self._alembic(conn), "head")
                return before, self.revision(conn) or ""
        except OperationalError as exc:
            raise StoreError(f"cannot open the local store: {_reason(exc)}") from None
        finally:
            if engine is not self.engine:
                engine.dispose()

    @staticmethod
    def revision(conn: Connection) -> str | None:
        ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        return ctx.get_current_revision()

    def head(self) -> str:
        return ScriptDirectory(str(MIGRATIONS)).get_current_head() or ""

    def ensure_schema(self) -> None:
        """Create or migrate the store if it is behind: it is ours alone."""
        try:
            with self.engine.connect() as conn:
                current = self.revision(conn)
        except OperationalError as exc:
            raise StoreError(f"cannot open the local store: {_reason(exc)}") from None
        if current != self.head():
            self.upgrade()

    # --- writes ------------------------------------------------------------------

    def _writing(self):
        return self._write_lock or _NullLock()

    def save_punches(
        self,
        *,
        device_name: str,
        device_serial: str,
        source: str,
        punches: Sequence[Punch],
        quarantined: Sequence[Quarantined],
        now_utc: datetime,
        users: Iterable[DeviceUser] | None = None,
        state: dict | None = None,
        run: dict | None = None,
    ) -> SaveResult:
        """Store one batch atomically; returns counts of new and duplicate rows.

        An ingest run row records the batch (``run`` adds to it: status,
        record count, clock offset…) and ``state`` updates the device's sync
        state, both in the same transaction as the punches.
        """
        result = SaveResult(read=len(punches) + len(quarantined))
        qrows = [
            {
                "device_serial": device_serial,
                "device_name": device_name,
                "source": source,
                "raw": q.raw[:255],
                "pin": q.pin,
                "punched_at": q.punched_at,
                "reason": q.reason[:255],
                "first_seen_utc": now_utc,
            }
            for q in quarantined
        ]
        qt, rt = QuarantineRow.__table__, IngestRunRow.__table__
        count_q = select(func.count()).select_from(qt).where(qt.c.device_serial == device_serial)
        run_row = {
            "device_name": device_name,
            "device_serial": device_serial,
            "source": source,
            "tz": self.timezone,
            "started_utc": now_utc,
            "finished_utc": now_utc,
            "status": "ok",
            **(run or {}),
        }
        try:
            with self._writing(), self.engine.begin() as conn:
                run_id = conn.execute(insert(rt), run_row).inserted_primary_key[0]
                before_q = conn.scalar(count_q) or 0
                result.new = _insert_punches(conn, device_serial, punches, run_id)
                if result.new:
                    mark_dirty(conn, _months_of_run(conn, run_id), now_utc)
                _insert_ignore(conn, qt, qrows)
                result.quarantined_new = (conn.scalar(count_q) or 0) - before_q
                result.duplicate = len(punches) - result.new
                result.quarantined = len(qrows)
                conn.execute(
                    rt.update()
                    .where(rt.c.id == run_id)
                    .values(new=result.new, duplicate=result.duplicate, quarantined=result.quarantined_new)
                )
                if users is not None:
                    ut = DeviceUserRow.__table__
                    conn.execute(delete(ut).where(ut.c.device_serial == device_serial))
                    _insert_ignore(
                        conn,
                        ut,
                        [
                            {
                                "device_serial": device_serial,
                                "pin": u.pin,
                                "name": u.name,
                                "uid": u.uid,
                                "seen_utc": now_utc,
                            }
                            for u in users
                        ],
                    )
                if state is not None:
                    self._put_state(conn, device_name, state)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot write to the local store: {_reason(exc)}") from None
        return result

    def record_run(self, device_name: str, state: dict, run: dict) -> None:
        """Record a pull that stored nothing (unchanged or failed)."""
        try:
            with self._writing(), self.engine.begin() as conn:
                self._put_state(conn, device_name, state)
                conn.execute(insert(IngestRunRow.__table__), {"tz": self.timezone, **run})
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot write to the local store: {_reason(exc)}") from None

    @staticmethod
    def _put_state(conn: Connection, device_name: str, state: dict) -> None:
        st = DeviceStateRow.__table__
        exists = conn.scalar(select(st.c.device_name).where(st.c.device_name == device_name))
        if exists is None:
            conn.execute(insert(st), {"device_name": device_name, "consecutive_failures": 0, **state})
        else:
            conn.execute(st.update().where(st.c.device_name == device_name).values(**state))

    # --- reads -------------------------------------------------------------------

    def device_state(self, device_name: str) -> DeviceStateRow | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    select(DeviceStateRow.__table__).where(DeviceStateRow.__table__.c.device_name == device_name)
                )
                .mappings()
                .first()
            )
        return DeviceStateRow(**row) if row else None

    def device_states(self) -> dict[str, DeviceStateRow]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(DeviceStateRow.__table__)).mappings().all()
        return {r["device_name"]: DeviceStateRow(**r) for r in rows}

    def device_users(self, device_serial: str) -> dict[str, str]:
        ut = DeviceUserRow.__table__
        with self.engine.connect() as conn:
            rows = conn.execute(select(ut.c.pin, ut.c.name).where(ut.c.device_serial == device_serial))
            return {pin: name for pin, name in rows}

    def punches(
        self,
        *,
        device: str | None = None,
        staff: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int | None = None,
    ) -> list[dict]:
        """Stored punches with where they came from, oldest first; ``end`` is exclusive."""
        pt, rt = PunchRow.__table__, IngestRunRow.__table__
        q = (
            select(
                pt.c.punched_at,
                pt.c.pin,
                pt.c.device_serial,
                pt.c.state,
                pt.c.verify,
                pt.c.work_code,
                rt.c.device_name,
                rt.c.source,
                rt.c.tz,
                rt.c.started_utc.label("first_seen_utc"),
            )
            .join(rt, rt.c.id == pt.c.run_id)
            .order_by(pt.c.punched_at, pt.c.pin, pt.c.device_serial)
        )
        if device:
            q = q.where((rt.c.device_name == device) | (pt.c.device_serial == device))
        if staff:
            q = q.where(pt.c.pin == staff)
        if start:
            q = q.where(pt.c.punched_at >= start)
        if end:
            q = q.where(pt.c.punched_at < end)
        if limit:
            q = q.limit(limit)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def count_punches(self, device_serial: str | None = None) -> int:
        pt = PunchRow.__table__
        q = select(func.count()).select_from(pt)
        if device_serial:
            q = q.where(pt.c.device_serial == device_serial)
        with self.engine.connect() as conn:
            return conn.scalar(q) or 0

    def quarantine(self, device_serial: str | None = None) -> list[dict]:
        """Quarantined records, oldest first."""
        return self._all(QuarantineRow.__table__, device_serial=device_serial)

    def ingest_runs(self, device_name: str | None = None) -> list[dict]:
        """Ingest runs (pulls, imports), oldest first."""
        return self._all(IngestRunRow.__table__, device_name=device_name)

    def _all(self, table, **equal: object) -> list[dict]:
        q = select(table).order_by(table.c.id)
        for column, value in equal.items():
            if value is not None:
                q = q.where(table.c[column] == value)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]


class _NullLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA cache_size=-16384")  # 16 MiB per connection: a big pull stays in memory
    cur.close()


def _reason(exc: SQLAlchemyError) -> str:
    """The driver's own message, first line only, without SQL or parameters."""
    orig = getattr(exc, "orig", None)
    text = str(orig) if orig is not None else str(exc)
    return text.splitlines()[0] if text else exc.__class__.__name__


def open_store(url: str, *, timezone: str) -> Store:
    """Open the store, creating or migrating its schema when needed."""
    store = Store(url, timezone=timezone)
    store.ensure_schema()
    return store


__all__ = ["Base", "Quarantined", "SaveResult", "Store", "StoreError", "UserError", "open_store"]
