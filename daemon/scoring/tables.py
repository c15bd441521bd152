"""The scoring database's tables (SPEC §4.4) as SQLAlchemy Core.

Other systems read these tables, so their names, natural keys and columns
are a contract. Each table's natural key is its primary key, except
``att_push_run``, whose key ``(site_code, run_id)`` is unique beside a
surrogate ``id`` that orders runs the way they were committed.

Every table carries ``site_code`` (``[site] code``), first in its natural
key: several centres push into one scoring DB (a city's or a province's), and
staff 1001 of one is not staff 1001 of another. A push replaces only its own
site's slice. The column came with revision 0003, so it sits after the
columns of 0001 and 0002, as ``ALTER TABLE … ADD`` appends it.

The tables are declared without a schema; :class:`~daemon.scoring.ScoringDB`
places them in the configured PostgreSQL schema with SQLAlchemy's
``schema_translate_map`` (``{None: schema}``), so one ``MetaData`` serves
every deployment.

Types, the same on every database so that a value reads back as written:

* times (``computed_at``, ``started_at``, ``finished_at``) are **naive UTC**
  in ``TIMESTAMP WITHOUT TIME ZONE`` / ``DATETIME(6)`` columns: MySQL has no
  zone-aware type, and one convention everywhere beats two;
* ``first_punch`` / ``last_punch`` are the site's local wall-clock times,
  as the terminal reported them (naive), like the punches in the local store;
* numbers that can be fractional (days, points, scores) are ``DOUBLE``
  (MySQL's ``FLOAT`` is single precision);
* ``detail`` is JSON: ``JSONB`` on PostgreSQL, ``JSON`` on MySQL/MariaDB
  (MariaDB's JSON is ``LONGTEXT`` with a ``JSON_VALID`` check), text on
  SQLite; ``disqualify_reasons`` is text holding a JSON list of strings.
  attendd writes both as already-encoded JSON text; reading through these
  tables decodes them again;
* MySQL tables are InnoDB, ``utf8mb4`` with the binary collation, so keys
  compare exactly as on PostgreSQL and SQLite and Chinese names fit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Double,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import mysql, postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

PREFIX = "att_"
VERSION_TABLE = "att_alembic_version"

MYSQL_OPTIONS: dict[str, Any] = {  # Any: Table() types its keywords one by one
    f"{dialect}_{option}": value
    for dialect in ("mysql", "mariadb")  # a mariadb+pymysql URL reads only mariadb_* options
    for option, value in (("engine", "InnoDB"), ("charset", "utf8mb4"), ("collate", "utf8mb4_bin"))
}

_JSON_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str)
encode_json = _JSON_ENCODER.encode
"""Compact JSON, keys in the order given, Chinese kept readable: the encoding attendd writes."""


def _decode(value: Any) -> Any:
    if isinstance(value, (str, bytes)):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


class _EncodedJSON(TypeDecorator[Any]):
    """A JSON value that attendd encodes itself (text in, decoded value out).

    Binds accept already-encoded text (what the bulk writers send) or a
    Python value (encoded with :data:`encode_json`); results come back
    decoded whether the driver returns text (MySQL, SQLite) or a parsed
    value (psycopg's JSONB loader).
    """

    impl: TypeEngine[Any] | type[TypeEngine[Any]] = Text  # as TypeDecorator declares it: subclasses differ
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any]:
        def process(value: Any) -> Any:
            return value if value is None or isinstance(value, str) else encode_json(value)

        return process

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any]:
        return _decode


class JSONDocument(_EncodedJSON):
    """``detail``: JSONB on PostgreSQL, JSON on MySQL/MariaDB, text on SQLite."""

    impl = JSON

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.JSONB())
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Text())
        return dialect.type_descriptor(JSON())


class JSONText(_EncodedJSON):
    """``disqualify_reasons``: a JSON list of strings kept as plain text."""

    impl = Text


def UTCDateTime() -> DateTime:  # noqa: N802 - reads like a type
    """Naive UTC; microseconds kept on MySQL (its ``DATETIME`` drops them)."""
    return DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def LocalDateTime() -> DateTime:  # noqa: N802
    """The site's local wall-clock time (naive), microseconds kept on MySQL."""
    return DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


SITE_CODE_LENGTH = 32
SITE_CODE = re.compile(rf"[A-Za-z0-9_-]{{1,{SITE_CODE_LENGTH}}}")
DEFAULT_SITE_CODE = "default"
"""``[site] code`` of a centre that never set one (a lone centre's own scoring DB)."""


def check_site_code(code: str) -> str | None:
    """What is wrong with ``code`` as a ``site_code`` (None: nothing): ASCII, so every reader's
    collation and every lock name agree on it."""
    if SITE_CODE.fullmatch(code):
        return None
    return f'expected 1 to {SITE_CODE_LENGTH} ASCII letters, digits, "_" or "-", got {code!r}'


def _site() -> Column[Any]:
    """``site_code``: whose rows these are (revision 0003; first in every natural key)."""
    return Column("site_code", String(SITE_CODE_LENGTH), nullable=False)


def _stamp() -> list[Column[Any]]:
    """``computed_at`` and ``rules_version``: every table carries them (SPEC §4.4)."""
    return [
        Column("computed_at", UTCDateTime(), nullable=False),
        Column("rules_version", String(64), nullable=False),
    ]


metadata = MetaData()

staff_day = Table(
    "att_staff_day",
    metadata,
    Column("staff_no", String(32), nullable=False),
    Column("work_date", Date, nullable=False),
    Column("window_code", String(64), nullable=False),
    Column("day_kind", String(16), nullable=False),
    Column("status", String(32), nullable=False),
    Column("late_count", Integer, nullable=False),
    Column("late_minutes", Integer, nullable=False),
    Column("early_count", Integer, nullable=False),
    Column("early_minutes", Integer, nullable=False),
    Column("missing_punches", Integer, nullable=False),
    Column("excused_punches", Integer, nullable=False),
    Column("absent_days", Double, nullable=False),
    Column("leave_kind", String(32)),
    Column("leave_days", Double, nullable=False),
    Column("off_post_count", Integer, nullable=False),
    Column("deduction_points", Double, nullable=False),
    Column("first_punch", LocalDateTime()),
    Column("last_punch", LocalDateTime()),
    Column("detail", JSONDocument()),
    *_stamp(),
    _site(),
    PrimaryKeyConstraint("site_code", "staff_no", "work_date", name="pk_att_staff_day"),
    Index("ix_att_staff_day_work_date", "site_code", "work_date"),
    **MYSQL_OPTIONS,
)

staff_period = Table(
    "att_staff_period",
    metadata,
    Column("period_kind", String(16), nullable=False),
    Column("period_key", String(16), nullable=False),
    Column("staff_no", String(32), nullable=False),
    Column("window_code", String(64), nullable=False),
    Column("policy", String(64)),
    Column("scheduled_days", Integer, nullable=False),
    Column("present_days", Integer, nullable=False),
    Column("late_count", Integer, nullable=False),
    Column("early_count", Integer, nullable=False),
    Column("missing_punches", Integer, nullable=False),
    Column("absent_days", Double, nullable=False),
    Column("personal_leave_days", Double, nullable=False),
    Column("sick_leave_days", Double, nullable=False),
    Column("other_leave_days", Double, nullable=False),
    Column("midday_leave_count", Integer, nullable=False),
    Column("off_post_count", Integer, nullable=False),
    Column("deduction_points", Double, nullable=False),
    Column("max_points", Double, nullable=False),
    Column("attendance_score", Double, nullable=False),
    Column("grade", String(32)),
    Column("disqualified", Boolean, nullable=False),
    Column("disqualify_reasons", JSONText()),
    Column("is_final", Boolean, nullable=False),
    *_stamp(),
    # added by revision 0002, after the stamp as the migration appends them
    Column("excused_punches", Integer, nullable=False, server_default="0"),  # 补卡次数 (revision 0002)
    Column("grade_note", Text),  # e.g. the 优秀 quota being full: a note, not a finding (0002)
    _site(),
    PrimaryKeyConstraint("site_code", "period_kind", "period_key", "staff_no", name="pk_att_staff_period"),
    Index("ix_att_staff_period_staff", "site_code", "staff_no", "period_kind", "period_key"),
    Index("ix_att_staff_period_window", "site_code", "period_kind", "period_key", "window_code"),
    **MYSQL_OPTIONS,
)

window_period = Table(
    "att_window_period",
    metadata,
    Column("period_kind", String(16), nullable=False),
    Column("period_key", String(16), nullable=False),
    Column("window_code", String(64), nullable=False),
    Column("window_name", String(128)),
    Column("staff_count", Integer, nullable=False),
    Column("attendance_score", Double, nullable=False),
    Column("max_points", Double, nullable=False),
    Column("rank", Integer),
    Column("red_flag", Boolean, nullable=False),
    Column("chief_onsite_ratio", Double),
    Column("is_final", Boolean, nullable=False),
    *_stamp(),
    # added by revision 0002
    Column("ranking_group", String(64), nullable=False, server_default=""),  # ranked within it (0002)
    Column("score_percent", Double),  # attendance_score as % of max_points: what is ranked (0002)
    _site(),
    PrimaryKeyConstraint("site_code", "period_kind", "period_key", "window_code", name="pk_att_window_period"),
    Index("ix_att_window_period_window", "site_code", "window_code", "period_kind", "period_key"),
    **MYSQL_OPTIONS,
)

deduction = Table(
    "att_deduction",
    metadata,
    Column("period_kind", String(16), nullable=False),
    Column("period_key", String(16), nullable=False),
    Column("staff_no", String(32), nullable=False),
    Column("rule", String(64), nullable=False),
    Column("ref", String(128), nullable=False),
    Column("work_date", Date),
    Column("slot", String(32)),
    Column("points", Double, nullable=False),
    Column("evidence", Text),
    Column("note", Text),
    *_stamp(),
    _site(),
    PrimaryKeyConstraint("site_code", "period_kind", "period_key", "staff_no", "rule", "ref", name="pk_att_deduction"),
    Index("ix_att_deduction_staff", "site_code", "staff_no", "period_kind", "period_key"),
    Index("ix_att_deduction_work_date", "site_code", "work_date"),
    **MYSQL_OPTIONS,
)

push_run = Table(
    "att_push_run",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), nullable=False, autoincrement=True),
    Column("run_id", String(64), nullable=False),
    Column("period_kind", String(16), nullable=False),
    Column("period_key", String(16), nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),  # exclusive
    Column("include_days", Boolean, nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime()),
    Column("rows", Integer, nullable=False),
    Column("status", String(16), nullable=False),  # ok | unchanged | failed
    Column("content_hash", String(64)),
    Column("error", Text),
    *_stamp(),
    _site(),
    PrimaryKeyConstraint("id", name="pk_att_push_run"),
    UniqueConstraint("site_code", "run_id", name="uq_att_push_run_run_id"),
    Index("ix_att_push_run_period", "site_code", "period_kind", "period_key"),
    **MYSQL_OPTIONS,
)


def _subject() -> list[Column[Any]]:
    """The site, the period and the subject (a window or a person): where the assessment tables'
    natural keys start (revision 0004; these tables were born with ``site_code``, so it is first)."""
    return [
        _site(),
        Column("period_kind", String(16), nullable=False),
        Column("period_key", String(16), nullable=False),
        Column("subject_kind", String(8), nullable=False),  # window | staff
        Column("subject", String(64), nullable=False),  # a window code or a staff number
    ]


_SUBJECT_KEY = ("site_code", "period_kind", "period_key", "subject_kind", "subject")

category_score = Table(
    "att_category_score",
    metadata,
    *_subject(),
    Column("category", String(64), nullable=False),  # as the document writes it (办件管理)
    Column("window_code", String(64), nullable=False),
    Column("max_points", Double, nullable=False),
    Column("score", Double),  # NULL: not assessed (never full marks)
    Column("deducted", Double, nullable=False),
    Column("lost", Double, nullable=False),  # what the cap dropped (扣完为止)
    Column("records", Integer, nullable=False),
    Column("source", String(16)),  # attendance | records | score | complete
    Column("is_final", Boolean, nullable=False),
    *_stamp(),
    PrimaryKeyConstraint(*_SUBJECT_KEY, "category", name="pk_att_category_score"),
    **MYSQL_OPTIONS,
)

assessment_total = Table(
    "att_assessment_total",
    metadata,
    *_subject(),
    Column("window_code", String(64), nullable=False),
    Column("ranking_group", String(64), nullable=False),
    Column("total", Double),  # NULL: no category assessed yet
    Column("max_total", Double, nullable=False),
    Column("bonus", Double, nullable=False),
    Column("back", Double, nullable=False),  # 倒扣
    Column("provisional", Boolean, nullable=False),  # a category not assessed: not ranked or flagged
    Column("missing", JSONText()),  # the categories not assessed
    Column("rank", Integer),
    Column("last_place", Boolean, nullable=False),
    Column("red_flag", Boolean, nullable=False),  # 流动红旗 on the total
    Column("grade", String(32)),
    Column("grade_note", Text),
    Column("disqualified", Boolean, nullable=False),
    Column("year_disqualified", Boolean, nullable=False),
    Column("disqualify_reasons", JSONText()),
    Column("is_final", Boolean, nullable=False),
    *_stamp(),
    PrimaryKeyConstraint(*_SUBJECT_KEY, name="pk_att_assessment_total"),
    **MYSQL_OPTIONS,
)

notice = Table(
    "att_notice",
    metadata,
    *_subject(),
    Column("kind", String(64), nullable=False),  # the document's word: 中心内部通报, 服务标兵 …
    Column("rule", String(64), nullable=False),  # which rule fired: last_consecutive/2, honour …
    Column("notice_period", String(16), nullable=False),  # the period it is issued for (a quarter's honour)
    Column("effect", String(32), nullable=False),  # notice | not_eligible_annual | annual_red_flag | …
    Column("reason", Text, nullable=False),
    Column("periods", JSONText()),  # the periods behind it
    Column("is_final", Boolean, nullable=False),
    *_stamp(),
    PrimaryKeyConstraint(*_SUBJECT_KEY, "kind", "rule", "notice_period", name="pk_att_notice"),
    **MYSQL_OPTIONS,
)

SLICE_TABLES = (staff_day, staff_period, window_period, deduction, category_score, assessment_total, notice)
"""The tables a push replaces, in the order it writes them (the assessment's three only when the
push carries them: a centre without ``[assessment] enabled`` never touches them)."""

ASSESSMENT_TABLES = {"category_scores": category_score, "assessment_totals": assessment_total, "notices": notice}
"""The snapshot's names of the assessment's rows → their tables."""

TABLES = {t.name: t for t in (*SLICE_TABLES, push_run)}

__all__ = [
    "DEFAULT_SITE_CODE",
    "PREFIX",
    "SITE_CODE_LENGTH",
    "ASSESSMENT_TABLES",
    "SLICE_TABLES",
    "TABLES",
    "VERSION_TABLE",
    "JSONDocument",
    "check_site_code",
    "JSONText",
    "deduction",
    "encode_json",
    "metadata",
    "push_run",
    "staff_day",
    "staff_period",
    "window_period",
]
