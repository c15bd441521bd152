"""The local store: engine, migrations, and the few operations sync needs.

Every write that belongs together is one transaction: a pull's punches, its
quarantined records, the device's users, its sync state and the audit row
commit together or not at all, so a pull that dies half-way leaves nothing
half-written and the next pull simply does the work again.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, Executable, Table, create_engine, delete, event, func, insert, select
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from drivers import PIN_MAX_LEN, DeviceUser, Punch

from ..dbkit import SQLITE_TIMEOUT_S, Migrations, sqlite_pragmas
from ..errors import AttenddError, UserError
from .dirty import mark_dirty
from .models import (
    DeviceStateRow,
    device_state_table,
    device_user_table,
    ingest_run_table,
    punch_table,
    quarantine_table,
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

    def counts(self) -> dict[str, int]:
        """What a log line says of the batch: new, duplicate and newly quarantined records."""
        return {"new": self.new, "duplicate": self.duplicate, "quarantined": self.quarantined_new}


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
        raw = [
            (serial, p.pin, p.timestamp.isoformat(" ", "microseconds"), p.state, p.verify, p.work_code, run_id)
            for p in punches
        ]
        # sqlite3 sums executemany's row counts; ignored rows count nothing
        return conn.exec_driver_sql(_SQLITE_PUNCH_INSERT, raw).rowcount  # DB-API tuples
    pt = punch_table
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
    pt = punch_table
    name = conn.dialect.name
    if name == "sqlite":
        month = func.substr(pt.c.punched_at, 1, 7)
    elif name == "postgresql":
        month = func.to_char(pt.c.punched_at, "YYYY-MM")
    else:
        month = func.date_format(pt.c.punched_at, "%Y-%m")
    return list(conn.scalars(select(month).where(pt.c.run_id == run_id).distinct()))


def _insert_ignore(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Bulk insert that skips rows whose unique key already exists."""
    if not rows:
        return
    name = conn.dialect.name
    stmt: Executable
    if name == "sqlite":
        stmt = sqlite.insert(table).on_conflict_do_nothing()
    elif name == "postgresql":
        stmt = postgresql.insert(table).on_conflict_do_nothing()
    elif name in ("mysql", "mariadb"):
        stmt = mysql.insert(table).prefix_with("IGNORE")
    else:  # pragma: no cover - other dialects are not supported for the store
        raise StoreError(f"unsupported store database: {name}")
    conn.execute(stmt, list(rows))


def _storable(text: str) -> str:
    """``text`` as every backend stores it: PostgreSQL refuses NUL in text and no driver
    encodes a lone surrogate, so those are written as backslash escapes; all else is kept."""
    if "\x00" in text:
        text = text.replace("\x00", "\\x00")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def _quarantine_row(q: Quarantined, serial: str, name: str, source: str, now_utc: datetime) -> dict[str, Any]:
    """The quarantine row of ``q``: its whole raw text and that text's digest (the row's key).

    The ``pin`` column (for looking rows up) holds the PIN only when it fits the column
    as it is; a longer or unprintable one is in the raw text and the reason, never cut.
    """
    raw = _storable(q.raw)
    pin = q.pin if q.pin is not None and len(q.pin) <= PIN_MAX_LEN and q.pin.isprintable() else None
    return {
        "device_serial": serial,
        "device_name": name,
        "source": source,
        "raw": raw,
        "raw_sha256": hashlib.sha256(raw.encode("utf-8")).hexdigest(),
        "pin": pin,
        "punched_at": q.punched_at,
        "reason": _storable(q.reason)[:255],
        "first_seen_utc": now_utc,
    }


class Store:
    """The local store behind a SQLAlchemy URL (SQLite by default; PostgreSQL for central deployments).

    On PostgreSQL ``schema`` is where the store's tables and its version table
    live (created by :meth:`upgrade` if missing): every connection gets
    ``search_path`` set to it alone, so the store's Core statements and its
    few raw SQL ones alike find their tables there and nothing lands in
    ``public``. Elsewhere ``schema`` is ignored (a MariaDB "schema" is the
    URL's database). Connections to a server are checked before use
    (``pool_pre_ping``: a PostgreSQL restart must not fail the next pull) and
    time out after :data:`CONNECT_TIMEOUT_S`.
    """

    def __init__(self, url: str, *, timezone: str, schema: str | None = None) -> None:
        self.url = url
        self.timezone = timezone
        parsed = make_url(url)
        self.backend = parsed.get_backend_name()
        self.is_sqlite = self.backend == "sqlite"
        self.schema = schema if self.backend == "postgresql" and schema else None
        if self.is_sqlite and parsed.database and parsed.database != ":memory:":
            try:
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot open the local store: {parsed.database}: {exc.strerror or exc}") from None
        self._engine: Engine = create_engine(url, **_engine_options(parsed, self.schema))
        if self.is_sqlite:
            event.listen(self._engine, "connect", _sqlite_pragmas)
        # SQLite takes one writer at a time; parallel syncs queue here rather
        # than fail with "database is locked".
        self._write_lock: AbstractContextManager[object] = threading.Lock() if self.is_sqlite else nullcontext()
        self._migrations = Migrations(MIGRATIONS, VERSION_TABLE, self.schema)

    def close(self) -> None:
        self._engine.dispose()

    # --- schema ----------------------------------------------------------------

    def _alembic(self, conn: Connection) -> AlembicConfig:
        return self._migrations.config(conn)

    def upgrade(self) -> tuple[str | None, str]:
        """Migrate to the newest schema; returns (revision before, revision now).

        On SQLite the whole migration is one transaction (see :mod:`daemon.dbkit`).
        """
        try:
            return self._migrations.upgrade(self._engine, sqlite_connect=_sqlite_pragmas)
        except OperationalError as exc:
            raise StoreError(f"cannot open the local store: {_reason(exc)}") from None

    def revision(self, conn: Connection) -> str | None:
        return self._migrations.current(conn)

    def head(self) -> str:
        return self._migrations.head()

    def ensure_schema(self) -> None:
        """Create or migrate the store if it is behind: it is ours alone."""
        try:
            with self._engine.connect() as conn:
                current = self.revision(conn)
        except OperationalError as exc:
            raise StoreError(f"cannot open the local store: {_reason(exc)}") from None
        if current != self.head():
            self.upgrade()

    # --- the unit of work -----------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One write transaction: commits when the block ends, rolls back if it raises.

        Every write outside this class goes through here, so none can forget SQLite's
        single writer: on SQLite the process-wide write lock is held for the whole
        transaction (parallel syncs queue here rather than fail with "database is locked");
        on PostgreSQL and MariaDB the database's own locking is enough. Tables are named
        by their handles in :mod:`daemon.store.models` (``snapshot_table`` …).
        """
        with self._write_lock, self._engine.begin() as conn:
            yield conn

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection for reads: no lock (SQLite's WAL lets readers run beside the writer)."""
        with self._engine.connect() as conn:
            yield conn

    # --- writes ------------------------------------------------------------------

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
        if users is not None:
            users = list(users)
            enrolled = {u.pin for u in users}
            result.unknown_pins = sorted({p.pin for p in punches} - enrolled, key=lambda s: (len(s), s))
        qrows = [_quarantine_row(q, device_serial, device_name, source, now_utc) for q in quarantined]
        qt, rt = quarantine_table, ingest_run_table
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
            with self.transaction() as conn:
                run_id = conn.execute(insert(rt), run_row).inserted_primary_key[0]  # type: ignore[index]
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
                    ut = device_user_table
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
            with self.transaction() as conn:
                self._put_state(conn, device_name, state)
                conn.execute(insert(ingest_run_table), {"tz": self.timezone, **run})
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot write to the local store: {_reason(exc)}") from None

    @staticmethod
    def _put_state(conn: Connection, device_name: str, state: dict) -> None:
        st = device_state_table
        exists = conn.scalar(select(st.c.device_name).where(st.c.device_name == device_name))
        if exists is None:
            conn.execute(insert(st), {"device_name": device_name, "consecutive_failures": 0, **state})
        else:
            conn.execute(st.update().where(st.c.device_name == device_name).values(**state))

    # --- reads -------------------------------------------------------------------

    def device_state(self, device_name: str) -> DeviceStateRow | None:
        with self.reading() as conn:
            row = (
                conn.execute(select(device_state_table).where(device_state_table.c.device_name == device_name))
                .mappings()
                .first()
            )
        return DeviceStateRow(**row) if row else None

    def device_states(self) -> dict[str, DeviceStateRow]:
        with self.reading() as conn:
            rows = conn.execute(select(device_state_table)).mappings().all()
        return {r["device_name"]: DeviceStateRow(**r) for r in rows}

    def device_users(self, device_serial: str) -> dict[str, str]:
        ut = device_user_table
        with self.reading() as conn:
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
        pt, rt = punch_table, ingest_run_table
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
        with self.reading() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def count_punches(self, device_serial: str | None = None) -> int:
        pt = punch_table
        q = select(func.count()).select_from(pt)
        if device_serial:
            q = q.where(pt.c.device_serial == device_serial)
        with self.reading() as conn:
            return conn.scalar(q) or 0

    def count_quarantined(self, device_serial: str, *, since: datetime | None = None) -> int:
        """How many records of ``device_serial`` are quarantined (first seen at or after ``since``)."""
        qt = quarantine_table
        q = select(func.count()).select_from(qt).where(qt.c.device_serial == device_serial)
        if since is not None:
            q = q.where(qt.c.first_seen_utc >= since)
        with self.reading() as conn:
            return conn.scalar(q) or 0

    def quarantine(self, device_serial: str | None = None) -> list[dict]:
        """Quarantined records, oldest first."""
        return self._all(quarantine_table, device_serial=device_serial)

    def ingest_runs(self, device_name: str | None = None) -> list[dict]:
        """Ingest runs (pulls, imports), oldest first."""
        return self._all(ingest_run_table, device_name=device_name)

    def _all(self, table, **equal: object) -> list[dict]:
        q = select(table).order_by(table.c.id)
        for column, value in equal.items():
            if value is not None:
                q = q.where(table.c[column] == value)
        with self.reading() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]


# foreign keys on; 16 MiB of page cache per connection: a big pull stays in memory
_sqlite_pragmas = sqlite_pragmas(foreign_keys=True, cache_kib=16384)

CONNECT_TIMEOUT_S = 10
"""How long connecting to a PostgreSQL / MariaDB store may take before the job fails."""


def _engine_options(url: URL, schema: str | None) -> dict[str, Any]:
    """``create_engine`` options for the store at ``url``: SQLite's lock wait; a server's
    pre-ping and connect timeout, and on PostgreSQL the ``search_path`` of ``schema``.

    The search path goes in libpq's startup ``options``, so it holds from the session's
    first statement and no rollback can undo it (a ``SET`` in a connect hook would be
    undone by the pool's reset unless committed). ``connect_args`` win over the URL's
    query, so an ``options`` the URL gives is kept after ours.
    """
    if url.get_backend_name() == "sqlite":
        return {"connect_args": {"timeout": SQLITE_TIMEOUT_S}}
    args: dict[str, Any] = {}
    if "connect_timeout" not in url.query:
        args["connect_timeout"] = CONNECT_TIMEOUT_S
    if schema and url.get_backend_name() == "postgresql":
        given = url.query.get("options")
        given = " ".join(given) if isinstance(given, tuple) else given
        quoted = schema.replace('"', '""')
        args["options"] = f'-csearch_path="{quoted}"' + (f" {given}" if given else "")
    return {"pool_pre_ping": True, "connect_args": args}


def _reason(exc: SQLAlchemyError) -> str:
    """The driver's own message, first line only, without SQL or parameters."""
    orig = getattr(exc, "orig", None)
    text = str(orig) if orig is not None else str(exc)
    return text.splitlines()[0] if text else exc.__class__.__name__


def open_store(url: str, *, timezone: str, schema: str | None = None) -> Store:
    """Open the store, creating or migrating its schema when needed."""
    store = Store(url, timezone=timezone, schema=schema)
    store.ensure_schema()
    return store


__all__ = ["Quarantined", "SaveResult", "Store", "StoreError", "UserError", "open_store"]
