"""Bulk inserts of prepared columns, the fastest way each database offers.

Rows arrive column by column (:mod:`.rows`) and are rendered to text a
column at a time, with C-level ``map`` calls chosen by the types a column
holds: ``repr`` for numbers, ``isoformat`` for dates and times, a
``str.replace`` pass per special character actually present for text. A
column with few distinct values (dates, staff numbers, windows, statuses) is
rendered once per value; a constant one (``computed_at``) once. Only columns
mixing types (``NULL`` among times) take a per-value Python path. Rows are
then joined with ``map(",".join, zip(…))``. Rendering goes a chunk of rows
at a time, so the server works on one chunk while the next is rendered.

* PostgreSQL: ``COPY … FROM STDIN`` in text format through psycopg, on the
  transaction's own connection.
* MySQL/MariaDB (PyMySQL): multi-row ``INSERT … VALUES (…),(…)`` statements
  kept under ``max_allowed_packet``, rendered by a helper thread while the
  server runs the previous one. PyMySQL's ``executemany`` builds the same
  statements but escapes value by value through a generic dispatch (14 s of
  client time for a year of 1,000 staff on the benchmark machine). The
  escaping is PyMySQL's (``pymysql.converters``), and follows the session's
  ``NO_BACKSLASH_ESCAPES`` mode. Other MySQL drivers (mysqlclient escapes in
  C) get their own ``executemany``.
* SQLite: ``executemany`` with dates and times already in SQLAlchemy's SQLite
  text format (``YYYY-MM-DD``, ``YYYY-MM-DD HH:MM:SS.ffffff``), so they read
  back through the tables as ``date`` / ``datetime`` and no deprecated
  default adapter is involved.

All of them run on the caller's connection inside its transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from decimal import Decimal
from itertools import repeat
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Connection

from .rows import Columns, for_writing

_CHUNK_ROWS = 10_000  # rows rendered at a time
_CHUNK_CHARS = 4 * 1024 * 1024  # INSERT statements of at most this many characters
_EXECUTEMANY_BATCH = 50_000


def insert_columns(conn: Connection, table: Table, columns: Columns, *, schema: str | None) -> None:
    """Insert rows given column by column (in ``table``'s column order) into ``table``.

    ``columns`` are as :func:`.rows.prepare` makes them; JSON values are
    encoded here, a chunk at a time.
    """
    if not columns or not columns[0]:
        return
    name = conn.dialect.name
    if name == "postgresql":
        _copy_postgresql(conn, table, columns, schema)
    elif name in ("mysql", "mariadb") and conn.dialect.driver == "pymysql":
        _insert_mysql(conn, table, columns)
    elif name in ("mysql", "mariadb"):
        _executemany(conn, table, list(zip(*for_writing(table, columns), strict=True)), "%s")
    else:
        _executemany(conn, table, list(zip(*_sqlite_columns(for_writing(table, columns)), strict=True)), "?")


def _names(table: Table) -> list[str]:
    return [c.name for c in table.columns if c.name != "id"]


# --- rendering a column as text ----------------------------------------------------------------


class _Style:
    """How one database's text format spells NULL, booleans, text and dates.

    ``escape`` is a list of (character, replacement) pairs applied in order
    (the backslash first). A column is scanned once, joined, for each
    character; only the characters it contains cost a pass of
    ``str.replace`` over it, so the usual column (no quote, no backslash,
    no newline) is copied as is, however long its strings (``detail``).
    """

    def __init__(self, null: str, true: str, false: str, escape: list[tuple[str, str]], quote: bool) -> None:
        self.null = null
        self.bools = {True: true, False: false}
        self.escape = escape
        self.quote = quote

    def escaped(self, s: str) -> str:
        for old, new in self.escape:
            if old in s:
                s = s.replace(old, new)
        return s

    def text(self, column: list) -> list[str]:
        joined = "".join(column)
        values: Any = column
        for old, new in self.escape:
            if old in joined:
                values = map(str.replace, values, repeat(old), repeat(new))
        return list(map("'{}'".format, values)) if self.quote else list(values)

    def dates(self, column: list, kind: type) -> list[str]:
        """Dates ``YYYY-MM-DD``, times ``YYYY-MM-DD HH:MM:SS[.ffffff]``."""
        iso = map(date.isoformat, column) if kind is date else map(datetime.isoformat, column, repeat(" "))
        return list(map("'{}'".format, iso)) if self.quote else list(iso)

    def value(self, v: Any) -> str:
        """One value of any type (the slow path)."""
        if v is None:
            return self.null
        if isinstance(v, bool):
            return self.bools[v]
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, Decimal):
            return str(v)
        if isinstance(v, datetime):
            return f"'{v.isoformat(' ')}'" if self.quote else v.isoformat(" ")
        if isinstance(v, date):
            return f"'{v.isoformat()}'" if self.quote else v.isoformat()
        s = self.escaped(str(v))
        return f"'{s}'" if self.quote else s

    def render(self, column: list) -> list[str]:
        n = len(column)
        if n > 1 and column[0] is column[-1] and column.count(column[0]) == n:
            return self.render(column[:1]) * n  # a constant (computed_at, rules_version)
        types = set(map(type, column))
        if n > 64 and types <= _HASHABLE and not (bool in types and len(types) > 1):  # True == 1
            sample = column[:2048]
            if len(set(sample)) * 4 < len(sample):  # few distinct values (dates, staff, windows…)
                distinct = list(set(column))
                spelled = dict(zip(distinct, self.render(distinct), strict=True))
                return list(map(spelled.__getitem__, column))
        if types <= {int, float}:
            return list(map(repr, column))
        if types == {str}:
            return self.text(column)
        if types == {date} or types == {datetime}:
            return self.dates(column, types.pop())
        if types == {bool}:
            return list(map(self.bools.__getitem__, column))
        if types == {type(None)}:
            return [self.null] * len(column)
        return list(map(self.value, column))


_HASHABLE = {str, int, float, bool, date, datetime, type(None)}

# pymysql.converters' escapes (a double quote needs none inside single quotes),
# and the NO_BACKSLASH_ESCAPES variant where only the quote is doubled
MYSQL = _Style(
    "NULL",
    "1",
    "0",
    [("\\", "\\\\"), ("'", "\\'"), ("\0", "\\0"), ("\n", "\\n"), ("\r", "\\r"), ("\x1a", "\\Z")],
    quote=True,
)
MYSQL_NO_BACKSLASH = _Style("NULL", "1", "0", [("'", "''")], quote=True)
# PostgreSQL COPY text format: backslash escapes, \N for NULL
PG_COPY = _Style("\\N", "t", "f", [("\\", "\\\\"), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")], quote=False)


def render_rows(style: _Style, columns: Columns, sep: str) -> list[str]:
    """Each row as its rendered values joined by ``sep``."""
    return list(map(sep.join, zip(*(style.render(c) for c in columns), strict=True)))


def _chunks(rows: list[str], limit: int) -> list[tuple[int, int]]:
    """(start, stop) ranges of ``rows`` whose joined length stays under ``limit``."""
    out, start, size = [], 0, 0
    for i, n in enumerate(map(len, rows)):
        if size and size + n + 1 > limit:
            out.append((start, i))
            start, size = i, 0
        size += n + 1
    out.append((start, len(rows)))
    return out


# --- the writers -------------------------------------------------------------------------------


def _row_chunks(table: Table, columns: Columns) -> Iterator[Columns]:
    """The columns in slices of ``_CHUNK_ROWS`` rows, JSON columns encoded."""
    for start in range(0, len(columns[0]), _CHUNK_ROWS):
        yield for_writing(table, [c[start : start + _CHUNK_ROWS] for c in columns])


def _copy_postgresql(conn: Connection, table: Table, columns: Columns, schema: str | None) -> None:
    """COPY in chunks: the server takes in one chunk while the next is rendered."""
    from psycopg import sql

    target = sql.Identifier(schema, table.name) if schema else sql.Identifier(table.name)
    stmt = sql.SQL("COPY {} ({}) FROM STDIN").format(
        target, sql.SQL(", ").join(sql.Identifier(c) for c in _names(table))
    )
    with _driver_connection(conn).cursor() as cur, cur.copy(stmt) as copy:
        for chunk in _row_chunks(table, columns):
            copy.write(("\n".join(render_rows(PG_COPY, chunk, "\t")) + "\n").encode())


def _driver_connection(conn: Connection) -> Any:
    """The driver's own connection under ``conn`` (psycopg's, PyMySQL's: no common type)."""
    # SQLAlchemy types it Optional: None only once the connection is invalidated, which a
    # connection inside its transaction is not
    return conn.connection.driver_connection


def _insert_mysql(conn: Connection, table: Table, columns: Columns) -> None:
    """Multi-row INSERTs; a helper thread renders the next while the server runs one.

    (Waiting on the socket releases the GIL, so rendering and the server's
    work overlap: about a third off a year's push.)
    """
    # PyMySQL ships no type information (and types-PyMySQL is not a dependency)
    from pymysql.constants import SERVER_STATUS  # type: ignore[import-untyped]

    dbapi = _driver_connection(conn)
    no_backslash = getattr(dbapi, "server_status", 0) & SERVER_STATUS.SERVER_STATUS_NO_BACKSLASH_ESCAPES
    style = MYSQL_NO_BACKSLASH if no_backslash else MYSQL
    packet = conn.exec_driver_sql("SELECT @@max_allowed_packet").scalar() or 4 * 1024 * 1024
    limit = max(64 * 1024, min(_CHUNK_CHARS, int(packet) // 4))  # characters; utf8mb4 is up to 4 bytes each
    prep = conn.dialect.identifier_preparer
    head = f"INSERT INTO {prep.format_table(table)} ({', '.join(prep.quote(c) for c in _names(table))}) VALUES ("

    def statements() -> Iterator[str]:
        for chunk in _row_chunks(table, columns):
            rows = render_rows(style, chunk, ",")
            for start, stop in _chunks(rows, limit - len(head)):
                yield head + "),(".join(rows[start:stop]) + ")"

    produce = statements()
    with ThreadPoolExecutor(1, thread_name_prefix="attendd-render") as pool, dbapi.cursor() as cur:
        pending = pool.submit(next, produce, None)
        while (stmt := pending.result()) is not None:
            pending = pool.submit(next, produce, None)
            cur.execute(stmt)  # no parameters: PyMySQL does no %-formatting of the statement


def _executemany(conn: Connection, table: Table, rows: list[tuple], mark: str) -> None:
    prep = conn.dialect.identifier_preparer
    cols = _names(table)
    stmt = (
        f"INSERT INTO {prep.format_table(table)} ({', '.join(prep.quote(c) for c in cols)}) "
        f"VALUES ({', '.join([mark] * len(cols))})"
    )
    for i in range(0, len(rows), _EXECUTEMANY_BATCH):
        conn.exec_driver_sql(stmt, rows[i : i + _EXECUTEMANY_BATCH])


def _sqlite_columns(columns: Columns) -> Columns:
    def convert(column: list) -> list:
        types = set(map(type, column))
        if types == {date}:
            return list(map(date.isoformat, column))
        if datetime in types or date in types:
            return [
                v.isoformat(" ", "microseconds")
                if isinstance(v, datetime)
                else v.isoformat()
                if isinstance(v, date)
                else v
                for v in column
            ]
        return column

    return [convert(c) for c in columns]


__all__ = ["MYSQL", "MYSQL_NO_BACKSLASH", "PG_COPY", "insert_columns", "render_rows"]
