"""The shared scoring DB (SPEC §4.4): migrate, check, push period slices, lock jobs.

One push is one transaction that replaces a period's slice exactly: the
period's ``att_staff_period``, ``att_window_period`` and ``att_deduction``
rows, and (``include_days``) the ``att_staff_day`` rows of its dates, are
deleted and the new rows inserted, together with an ``att_push_run`` row. A
push that fails at any point leaves the previous slice as it was.

A slice is one *site's*: every row carries ``site_code`` (``[site] code``), and
a push deletes, counts and compares only rows of its own site, so centres
sharing one scoring DB never touch each other's rows. Job locks are per site
too (two centres pull at the same times); the push lock stays one per
database: pushes of every site take turns, which costs a wait of seconds and
spares MySQL's gap locks between two sites' key ranges any chance of a
deadlock.

A re-push of identical content skips the rewrite: every push stores the
digest of what it wrote (:mod:`.rows`) in ``att_push_run.content_hash``;
when the last push that touched the slice's rows carried the same digest and
the slice still has as many rows as that push wrote, the tables already hold
exactly what the push would write, so only an ``unchanged`` run row is added.
"The last push that touched the slice" includes pushes of overlapping
periods that rewrote some of its days (a quarter pushed after its month), so
a slice is never skipped while another push's rows are in it. ``force=True``
rewrites regardless.

Where the tables live:

* PostgreSQL: in ``schema`` (created by :meth:`ScoringDB.upgrade` if
  missing), else in ``public``; the version table ``att_alembic_version``
  beside them.
* MySQL/MariaDB: ``schema`` is ignored; the tables go into the URL's
  database. A MySQL "schema" *is* a database, and creating or switching
  databases needs privileges and a connection other than the one configured;
  naming the database in the URL says the same thing once.
* SQLite: one file, no schemas; ``schema`` is ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import structlog
from alembic.config import Config as AlembicConfig
from sqlalchemy import and_, create_engine, delete, event, func, insert, or_, select, text, true
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from ..clock import naive_utc, system_clock
from ..dbkit import SQLITE_TIMEOUT_S, Migrations, sqlite_pragmas
from ..errors import UserError
from ..logging import mask_url_password
from .bulk import insert_columns
from .errors import RowError, ScoringError
from .locks import file_lock, lock_file, lock_name, pg_key
from .rows import Columns, Slice, digest, make_slice, prepare
from .tables import DEFAULT_SITE_CODE, TABLES, VERSION_TABLE, check_site_code, push_run, staff_day

log = structlog.get_logger("attendd.scoring")

MIGRATIONS = Path(__file__).with_name("migrations")
PUSH_LOCK_TIMEOUT_S = 60
CONNECT_TIMEOUT_S = 10
_BACKENDS = {"postgresql": "postgresql", "mysql": "mysql", "mariadb": "mysql", "sqlite": "sqlite"}
_TIME_COLUMNS = ("computed_at", "started_at", "finished_at")
_SQLITE_PRAGMAS = sqlite_pragmas()  # WAL, synchronous=NORMAL; the att_* tables have no foreign keys


def _utc_naive(t: datetime) -> datetime:
    """The scoring DB's columns hold naive UTC (SPEC §4.4): an aware instant, converted."""
    if t.tzinfo is None:
        raise ValueError("computed_at must be timezone-aware (UTC)")
    return naive_utc(t)


def _utc_now() -> datetime:
    return naive_utc(system_clock())


@dataclass(frozen=True)
class _SiteMigrations(Migrations):
    """The scoring DB's migrations, told the site code: revision 0003 gives existing rows it."""

    site: str = DEFAULT_SITE_CODE

    def config(self, conn: Connection) -> AlembicConfig:
        cfg = super().config(conn)
        cfg.attributes["site_code"] = self.site
        return cfg


class ScoringDB:
    """The scoring DB behind a SQLAlchemy URL; ``schema`` where the database has schemas.

    ``site`` is this centre's ``site_code`` (``[site] code``): pushes write and
    replace only its rows, :meth:`rows` reads them. ``display`` names the
    database for messages (password hidden). Creating the object does not
    connect; :meth:`check` does.
    """

    def __init__(self, url: str, *, schema: str | None = None, site: str = DEFAULT_SITE_CODE) -> None:
        problem = check_site_code(site)
        if problem:
            raise UserError(f"site.code: {problem}")
        self.site = site
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise UserError("scoring.url is not a database URL (dialect+driver://user@host/database)") from None
        backend = _BACKENDS.get(parsed.get_backend_name())
        if backend is None:
            raise UserError(
                f"scoring.url: unsupported database {parsed.get_backend_name()!r}: "
                "use PostgreSQL, MySQL/MariaDB or SQLite"
            )
        self.backend = backend
        self.schema = schema if backend == "postgresql" and schema else None
        self._password = parsed.password
        # SQLAlchemy hides the userinfo password only; ``?password=`` is masked too
        shown = mask_url_password(parsed.render_as_string(hide_password=True))
        self.display = shown + (f" (schema {self.schema})" if self.schema else "")
        kwargs: dict[str, Any] = {"pool_pre_ping": True}
        if backend == "sqlite":
            db = parsed.database
            if db and db != ":memory:" and not db.startswith("file:"):
                try:
                    Path(db).parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise ScoringError(f"cannot open the scoring DB {self.display}: {exc.strerror or exc}") from None
            kwargs["connect_args"] = {"timeout": SQLITE_TIMEOUT_S}
        elif backend == "postgresql" and "connect_timeout" not in parsed.query:
            kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_S}
        elif backend == "mysql" and "connect_timeout" not in parsed.query:
            kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_S}
        try:
            self._raw: Engine = create_engine(parsed, **kwargs)
        except (NoSuchModuleError, ImportError, ArgumentError) as exc:
            raise UserError(f"scoring.url: {exc.__class__.__name__}: {self._scrub(str(exc).splitlines()[0])}") from None
        if backend == "sqlite":
            event.listen(self._raw, "connect", _SQLITE_PRAGMAS)
        # Core statements name tables without a schema; this puts them in ours.
        self.engine: Engine = (
            self._raw.execution_options(schema_translate_map={None: self.schema}) if self.schema else self._raw
        )
        if backend == "postgresql":
            self._namespace = self.schema or "public"
        else:
            self._namespace = parsed.database or ""
        self._dbapi_error: type[BaseException] = getattr(self._raw.dialect.loaded_dbapi, "Error", SQLAlchemyError)
        self._migrations = _SiteMigrations(MIGRATIONS, VERSION_TABLE, self.schema, site=site)

    # --- lifecycle ---------------------------------------------------------------

    def close(self) -> None:
        self._raw.dispose()

    def __enter__(self) -> ScoringDB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- schema --------------------------------------------------------------------

    def head(self) -> str:
        """The newest migration attendd knows."""
        return self._migrations.head()

    def revision(self, conn: Connection) -> str | None:
        """The revision the scoring DB is at (None: attendd's tables were never created)."""
        return self._migrations.current(conn)

    def upgrade(self) -> tuple[str | None, str]:
        """Create or migrate the ``att_*`` tables; returns (revision before, revision now).

        Touches nothing but ``att_*`` tables (and, on PostgreSQL, creates the
        schema if it is missing). Rows written before revision 0003 get this
        object's ``site`` as their ``site_code``. Running it again is a no-op; on SQLite the
        whole migration is one transaction (see :mod:`daemon.dbkit`).
        """
        try:
            return self._migrations.upgrade(self._raw, sqlite_connect=_SQLITE_PRAGMAS)
        except (SQLAlchemyError, self._dbapi_error) as exc:
            raise ScoringError(f"cannot upgrade the scoring DB {self.display}: {self._reason(exc)}") from None

    def check(self) -> None:
        """Raise :class:`ScoringError` unless the DB is reachable and migrated to attendd's head."""
        try:
            with self._raw.connect() as conn:
                current = self.revision(conn)
        except (SQLAlchemyError, self._dbapi_error) as exc:
            raise ScoringError(f"cannot reach the scoring DB {self.display}: {self._reason(exc)}") from None
        head = self.head()
        if current == head:
            return
        if current is None:
            raise ScoringError(f"the scoring DB {self.display} has no attendd tables: run `attendd db upgrade`")
        if current not in self._migrations.revisions():
            raise ScoringError(
                f"the scoring DB {self.display} is at revision {current}, which this attendd does not know "
                "(migrated by a newer attendd?): upgrade attendd"
            )
        raise ScoringError(
            f"the scoring DB {self.display} is at revision {current}, attendd needs {head}: run `attendd db upgrade`"
        )

    # --- push ------------------------------------------------------------------------

    def push_period(
        self,
        *,
        period_kind: str,
        period_key: str,
        start: date,
        end: date,
        staff_days: list[dict],
        staff_periods: list[dict],
        window_periods: list[dict],
        deductions: list[dict],
        rules_version: str,
        computed_at: datetime,
        run_id: str,
        include_days: bool = True,
        force: bool = False,
        content_hash: str | None = None,
        assessment: Mapping[str, Sequence[dict]] | None = None,
    ) -> int:
        """Replace the period's slice with these rows in one transaction; returns rows written.

        ``assessment``: the whole assessment's rows (issue 18) — their three tables are part of the
        slice when given, untouched when None.

        ``end`` is exclusive. With ``include_days`` the ``att_staff_day``
        rows of ``start <= work_date < end`` are replaced too (``staff_days``
        is ignored without it). ``computed_at`` must be timezone-aware; it is
        stored as naive UTC. Rows are dicts keyed by the SPEC's column names
        (``period_kind`` / ``period_key`` may be left out); ``detail`` and
        ``disqualify_reasons`` may be Python values or JSON text.

        Returns 0 when the slice already holds exactly this content (an
        ``unchanged`` run is recorded); ``force`` rewrites it anyway.
        ``content_hash``, if given, is the caller's digest of the rows (equal
        digests must mean equal rows): it replaces serialising them to find
        out whether they changed.
        """
        started = _utc_now()
        sl = make_slice(
            site=self.site,
            period_kind=period_kind,
            period_key=period_key,
            start=start,
            end=end,
            staff_days=staff_days,
            staff_periods=staff_periods,
            window_periods=window_periods,
            deductions=deductions,
            rules_version=rules_version,
            computed_at=_utc_naive(computed_at),
            include_days=include_days,
            assessment=assessment,
        )
        # without the caller's digest, the rows are checked and laid out before connecting
        prepared = prepare(sl) if content_hash is None else None
        content = digest(sl, self.head(), prepared, content_hash)
        run = {
            "site_code": self.site,
            "run_id": run_id,
            "period_kind": period_kind,
            "period_key": period_key,
            "period_start": start,
            "period_end": end,
            "include_days": include_days,
            "started_at": started,
            "content_hash": content,
            "computed_at": sl.computed_at,
            "rules_version": rules_version,
            "error": None,
        }
        connected = False
        try:
            with self._push_connection() as conn:
                connected = True
                with conn.begin():
                    self._lock_push(conn)
                    if not force and self._unchanged(conn, sl, content):
                        status, written = "unchanged", 0
                    else:
                        self._replace(conn, sl, prepared if prepared is not None else prepare(sl))
                        status, written = "ok", sl.count()
                    pr = push_run
                    conn.execute(
                        delete(pr).where(pr.c.site_code == self.site, pr.c.run_id == run_id, pr.c.status == "failed")
                    )
                    conn.execute(insert(pr), {**run, "status": status, "rows": written, "finished_at": _utc_now()})
        except RowError as exc:
            if connected:
                self._record_failure(run, str(exc))
            raise
        except (SQLAlchemyError, self._dbapi_error) as exc:
            reason = self._reason(exc)
            if connected:
                self._record_failure(run, reason)
            raise ScoringError(f"cannot push {period_key} to the scoring DB {self.display}: {reason}") from None
        log.debug("slice pushed", period=period_key, status=status, rows=written)
        return written

    @contextmanager
    def _push_connection(self) -> Iterator[Connection]:
        """A connection holding the push lock where it is a session lock (MySQL)."""
        with self.engine.connect() as conn:
            if self.backend != "mysql":
                yield conn
                return
            name = lock_name("push", self._namespace, "slices")
            got = conn.scalar(text("SELECT GET_LOCK(:n, :t)"), {"n": name, "t": PUSH_LOCK_TIMEOUT_S})
            conn.commit()
            if got != 1:
                raise ScoringError(
                    f"cannot push to the scoring DB {self.display}: another push held the lock for "
                    f"{PUSH_LOCK_TIMEOUT_S} s"
                )
            try:
                yield conn
            finally:
                try:
                    conn.rollback()
                    conn.scalar(text("SELECT RELEASE_LOCK(:n)"), {"n": name})
                    conn.commit()
                except SQLAlchemyError:
                    conn.invalidate()  # the lock went with the session

    def _lock_push(self, conn: Connection) -> None:
        """Inside the push transaction: wait for other pushes (PostgreSQL)."""
        if self.backend == "postgresql":
            conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{PUSH_LOCK_TIMEOUT_S}s'")
            conn.execute(
                text("SELECT pg_advisory_xact_lock(CAST(:k AS BIGINT))"),
                {"k": pg_key(lock_name("push", self._namespace, "slices"))},
            )

    def _slice_where(self, table, sl: Slice):
        """The rows of ``table`` the slice replaces: its site's, of its period (or dates)."""
        mine = table.c.site_code == sl.site
        if table is staff_day:
            return and_(mine, staff_day.c.work_date >= sl.start, staff_day.c.work_date < sl.end)
        return and_(mine, table.c.period_kind == sl.period_kind, table.c.period_key == sl.period_key)

    def _unchanged(self, conn: Connection, sl: Slice, content: str) -> bool:
        """True if the tables already hold exactly this slice (see the module docstring)."""
        pr = push_run
        same = and_(pr.c.period_kind == sl.period_kind, pr.c.period_key == sl.period_key)
        if sl.include_days:
            same = or_(same, and_(pr.c.include_days == true(), pr.c.period_start < sl.end, pr.c.period_end > sl.start))
        last = conn.execute(
            select(pr.c.period_kind, pr.c.period_key, pr.c.content_hash)
            .where(pr.c.site_code == sl.site, pr.c.status.in_(("ok", "unchanged")), same)
            .order_by(pr.c.id.desc())
            .limit(1)
        ).first()
        if last is None or (last.period_kind, last.period_key, last.content_hash) != (
            sl.period_kind,
            sl.period_key,
            content,
        ):
            return False
        for table in sl.tables():
            n = conn.scalar(select(func.count()).select_from(table).where(self._slice_where(table, sl)))
            if n != sl.count(table.name):
                return False
        return True

    def _replace(self, conn: Connection, sl: Slice, prepared: dict[str, Columns]) -> None:
        for table in sl.tables():
            conn.execute(delete(table).where(self._slice_where(table, sl)))
        for table in sl.tables():
            insert_columns(conn, table, prepared[table.name], schema=self.schema)

    def _record_failure(self, run: dict, reason: str) -> None:
        """Best effort: leave a ``failed`` run row for whoever watches ``att_push_run``."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(push_run),
                    {**run, "status": "failed", "rows": 0, "error": reason[:2000], "finished_at": _utc_now()},
                )
        except Exception:  # noqa: BLE001 - the push's own error is the one to report
            pass

    # --- job locks ----------------------------------------------------------------------

    @contextmanager
    def job_lock(self, name: str) -> Iterator[bool]:
        """Hold the cross-daemon lock ``name`` while the block runs; yields whether it was granted.

        Never blocks: another holder means False at once. If the scoring DB
        cannot be reached the lock is *granted* (with a warning): the jobs it
        guards — pulls above all — must not stop because the shared DB is
        down, and a second daemon pulling the same terminals is harmless.
        The lock is this site's: another centre's daemon on the same scoring
        DB runs its own jobs meanwhile. See :mod:`.locks` for how each
        database does it.
        """
        got, release = self._acquire(name)
        try:
            yield got
        finally:
            release()

    def _acquire(self, name: str) -> tuple[bool, Callable[[], None]]:
        def nothing() -> None:
            return None

        if self.backend == "sqlite":
            db = self._raw.url.database
            if not db or db == ":memory:" or db.startswith("file:"):
                return True, nothing
            cm = file_lock(lock_file(db, f"{self.site}.{name}"))
            try:
                got = cm.__enter__()
            except OSError as exc:
                log.warning("cannot take the job lock file; running without it", lock=name, error=str(exc))
                return True, nothing

            def release_file() -> None:
                cm.__exit__(None, None, None)

            return got, release_file

        key = lock_name("job", self._namespace, f"{self.site}:{name}")
        conn = None
        try:
            conn = self._raw.connect().execution_options(isolation_level="AUTOCOMMIT")
            if self.backend == "postgresql":
                got = bool(conn.scalar(text("SELECT pg_try_advisory_lock(CAST(:k AS BIGINT))"), {"k": pg_key(key)}))
            else:
                got = conn.scalar(text("SELECT GET_LOCK(:n, 0)"), {"n": key}) == 1
        except (SQLAlchemyError, self._dbapi_error) as exc:
            if conn is not None:
                conn.close()
            log.warning(
                "scoring DB unreachable: job runs without the cross-daemon lock", lock=name, error=self._reason(exc)
            )
            return True, nothing
        if not got:
            conn.close()
            return False, nothing

        def release() -> None:
            try:
                if self.backend == "postgresql":
                    conn.scalar(text("SELECT pg_advisory_unlock(CAST(:k AS BIGINT))"), {"k": pg_key(key)})
                else:
                    conn.scalar(text("SELECT RELEASE_LOCK(:n)"), {"n": key})
            except (SQLAlchemyError, self._dbapi_error):
                conn.invalidate()  # a lost session took its locks with it
            finally:
                conn.close()

        return True, release

    # --- reads -----------------------------------------------------------------------

    def push_runs(self, period_key: str | None = None) -> list[dict]:
        """``att_push_run`` rows, oldest first (times as aware UTC)."""
        where: dict[str, Any] = {"period_key": period_key} if period_key is not None else {}
        return self.rows("att_push_run", **where)

    def rows(self, table: str, *, all_sites: bool = False, **where: Any) -> list[dict]:
        """Rows of an ``att_*`` table (``"att_staff_day"`` or ``"staff_day"``) equal to ``where``.

        This site's rows unless ``where`` names a ``site_code`` or ``all_sites``
        is set. Ordered by the natural key (``att_push_run``: as committed). JSON
        columns come back decoded, ``computed_at`` / ``started_at`` /
        ``finished_at`` as aware UTC; everything else as stored.
        """
        t = TABLES.get(table) if table in TABLES else TABLES.get(f"att_{table}")
        if t is None:
            raise ValueError(f"no such scoring table: {table}")
        unknown = set(where) - set(t.c.keys())
        if unknown:
            raise ValueError(f"{t.name} has no column(s) {', '.join(sorted(unknown))}")
        if not all_sites:
            where = {"site_code": self.site, **where}
        q = select(t).where(*(t.c[k] == v for k, v in where.items())).order_by(*t.primary_key.columns)
        try:
            with self.engine.connect() as conn:
                result = [dict(r) for r in conn.execute(q).mappings()]
        except (SQLAlchemyError, self._dbapi_error) as exc:
            raise ScoringError(f"cannot read the scoring DB {self.display}: {self._reason(exc)}") from None
        for r in result:
            for k in _TIME_COLUMNS:
                if r.get(k) is not None:
                    r[k] = r[k].replace(tzinfo=UTC)
            for k in ("is_final", "disqualified", "red_flag", "include_days"):
                if k in r and r[k] is not None:
                    r[k] = bool(r[k])
        return result

    # --- messages ------------------------------------------------------------------------

    def _scrub(self, text_: str) -> str:
        return text_.replace(self._password, "***") if self._password else text_

    def _reason(self, exc: BaseException) -> str:
        """The driver's own message, first line only, without SQL, parameters or password."""
        orig = getattr(exc, "orig", None)
        msg = str(orig) if orig is not None else str(exc)
        line = next((ln.strip() for ln in msg.splitlines() if ln.strip()), exc.__class__.__name__)
        return self._scrub(line)


__all__ = ["MIGRATIONS", "ScoringDB", "ScoringError"]
