"""Tables of the local store (SQLAlchemy 2 declarative).

Punch times are the terminal's naive local wall-clock time, stored with the
site's timezone name on the ingest run that brought them; our own instants (first seen, last sync)
are instants in columns ending ``_utc`` (:class:`daemon.clock.UtcDateTime`: aware UTC in
Python, naive UTC in the database). The two never meet in a comparison.

Code outside the store names a table by its handle at the end of this module (``punch_table``
…) inside ``with store.transaction() as tx`` / ``store.reading()``, never by ``Model.__table__``.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from drivers import PIN_MAX_LEN

from ..clock import UtcDateTime


class Base(DeclarativeBase):
    pass


class Withdrawable:
    """Columns of a clerk's record that is versioned and withdrawn (撤销), never deleted: every change
    moves ``version`` on; a withdrawal keeps the record, says who, when and why, and stops it counting."""

    version: Mapped[int] = mapped_column(Integer, default=1)
    withdrawn_utc: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    withdrawn_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    withdrawn_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class PunchRow(Base):
    """One stored punch; the natural key (device serial, PIN, time) is unique.

    Where it came from — device name, driver, site timezone, when we first
    saw it — lives on the :class:`IngestRunRow` that first stored it: a
    punch row stays narrow, which keeps a 200,000-record pull fast.
    """

    __tablename__ = "punch"
    # The natural key, time first: a pull inserts in time order, so this
    # index grows at its end (the cheapest insert a B-tree has), and it is
    # the index a period's evaluation reads (a time range over all staff).
    __table_args__ = (UniqueConstraint("punched_at", "pin", "device_serial", name="uq_punch_natural"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    device_serial: Mapped[str] = mapped_column(String(64))
    pin: Mapped[str] = mapped_column(String(PIN_MAX_LEN))  # drivers check records against it
    punched_at: Mapped[datetime] = mapped_column(DateTime)
    state: Mapped[int] = mapped_column(Integer, default=0)
    verify: Mapped[int] = mapped_column(Integer, default=0)
    work_code: Mapped[int] = mapped_column(Integer, default=0)
    run_id: Mapped[int] = mapped_column(ForeignKey("ingest_run.id"))


#: A quarantined record's raw text: any length (MariaDB's plain TEXT stops at 64 KiB).
RAW_TEXT = Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")


class QuarantineRow(Base):
    """A record that cannot be scored: impossible date, reset clock, far future, a PIN
    or field the store cannot hold…

    Kept with its whole raw form so nothing is silently dropped or merged; unique on
    (device serial, source, SHA-256 of raw) so a re-pull does not add it again. The
    digest, not the text, is the key: every backend can index 64 hex characters,
    MariaDB cannot index a text of any length (revision 0005).
    """

    __tablename__ = "quarantine"
    __table_args__ = (UniqueConstraint("device_serial", "source", "raw_sha256", name="uq_quarantine_raw_sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    device_serial: Mapped[str] = mapped_column(String(64))
    device_name: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))
    raw: Mapped[str] = mapped_column(RAW_TEXT)
    raw_sha256: Mapped[str] = mapped_column(String(64))  # hex SHA-256 of raw's UTF-8 bytes
    pin: Mapped[str | None] = mapped_column(String(32), nullable=True)
    punched_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    reason: Mapped[str] = mapped_column(String(255))
    first_seen_utc: Mapped[datetime] = mapped_column(UtcDateTime)


class DeviceStateRow(Base):
    """Per-device sync state: what the last pull saw and how healthy the device is."""

    __tablename__ = "device_state"

    device_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    serial: Mapped[str | None] = mapped_column(String(64), nullable=True)
    firmware: Mapped[str | None] = mapped_column(String(128), nullable=True)
    platform: Mapped[str | None] = mapped_column(String(64), nullable=True)
    record_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    user_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    clock_offset_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    last_attempt_utc: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_success_utc: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    #: what the terminal reports it can hold (records, users); None when it does not say
    record_capacity: Mapped[int | None] = mapped_column(Integer, nullable=True)
    user_capacity: Mapped[int | None] = mapped_column(Integer, nullable=True)


class IngestRunRow(Base):
    """Audit of every input run (a pull, an import, a push batch): when, what
    it found, how it ended. Punches point at the run that first stored them."""

    __tablename__ = "ingest_run"
    __table_args__ = (Index("ix_ingest_run_device", "device_name", "started_utc"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    device_name: Mapped[str] = mapped_column(String(64))
    device_serial: Mapped[str | None] = mapped_column(String(64), nullable=True)
    source: Mapped[str] = mapped_column(String(16))
    tz: Mapped[str] = mapped_column(String(64))
    started_utc: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_utc: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # ok | unchanged | failed
    record_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    new: Mapped[int] = mapped_column(Integer, default=0)
    duplicate: Mapped[int] = mapped_column(Integer, default=0)
    quarantined: Mapped[int] = mapped_column(Integer, default=0)
    clock_offset_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    peer: Mapped[str | None] = mapped_column(String(64), nullable=True)  # a push batch: the address it came from


class DeviceUserRow(Base):
    """A user enrolled on a terminal, as last read from it."""

    __tablename__ = "device_user"

    device_serial: Mapped[str] = mapped_column(String(64), primary_key=True)
    pin: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    uid: Mapped[int] = mapped_column(Integer, default=0)
    seen_utc: Mapped[datetime] = mapped_column(UtcDateTime)


# --- the clerk's records (imported from CSV / XLSX, or entered by tests and the demo) ---


class StaffRow(Base):
    """The roster: who works at which window (staff_no = the PIN on terminals)."""

    __tablename__ = "staff"

    staff_no: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    window_code: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16), default="staff")
    active_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    active_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    exempt: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_utc: Mapped[datetime] = mapped_column(UtcDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)


class LeaveRow(Withdrawable, Base):
    __tablename__ = "leave"
    __table_args__ = (Index("ix_leave_staff", "staff_no", "start"),)

    ref: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_no: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    start: Mapped[datetime] = mapped_column(DateTime)
    end: Mapped[datetime] = mapped_column(DateTime)
    note: Mapped[str] = mapped_column(Text, default="")
    updated_utc: Mapped[datetime] = mapped_column(UtcDateTime)


class ExemptionRow(Withdrawable, Base):
    __tablename__ = "exemption"
    __table_args__ = (Index("ix_exemption_staff", "staff_no", "day"),)

    ref: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_no: Mapped[str] = mapped_column(String(32))
    day: Mapped[date] = mapped_column(Date)
    slot: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text, default="")
    updated_utc: Mapped[datetime] = mapped_column(UtcDateTime)


class InspectionRow(Withdrawable, Base):
    __tablename__ = "inspection"
    __table_args__ = (Index("ix_inspection_staff", "staff_no", "at"),)

    ref: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_no: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(DateTime)
    kind: Mapped[str] = mapped_column(String(32))
    minutes: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str] = mapped_column(Text, default="")
    updated_utc: Mapped[datetime] = mapped_column(UtcDateTime)


class SubstitutionRow(Withdrawable, Base):
    __tablename__ = "substitution"

    ref: Mapped[str] = mapped_column(String(64), primary_key=True)
    substitute_no: Mapped[str] = mapped_column(String(32))
    covered_no: Mapped[str] = mapped_column(String(32))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    updated_utc: Mapped[datetime] = mapped_column(UtcDateTime)


class DutyRow(Withdrawable, Base):
    """值班: a window or one person works ``day`` (a weekend or holiday) on ``timetable``."""

    __tablename__ = "duty"
    __table_args__ = (Index("ix_duty_day", "day"),)

    ref: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    window_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    staff_no: Mapped[str | None] = mapped_column(String(32), nullable=True)
    timetable: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")
    updated_utc: Mapped[datetime] = mapped_column(UtcDateTime)


class DutyRotaRow(Withdrawable, Base):
    """轮值: a standing rota entered by the clerk (the config's ``[[duty_rotas]]`` are the other
    source): a window or a rotation of people work the matching days off on ``timetable``.
    ``weekdays`` and ``day_kinds`` are comma lists (``6,7``; ``rest,holiday``); ``staff`` is one
    staff number or several in rotation order (one per matching week, from ``start``)."""

    __tablename__ = "duty_rota"

    ref: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    staff: Mapped[str] = mapped_column(Text, default="")
    timetable: Mapped[str] = mapped_column(String(64))
    weekdays: Mapped[str] = mapped_column(String(32), default="")
    day_kinds: Mapped[str] = mapped_column(String(32), default="")
    start: Mapped[date | None] = mapped_column(Date, nullable=True)
    end: Mapped[date | None] = mapped_column(Date, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    updated_utc: Mapped[datetime] = mapped_column(UtcDateTime)


class AssessmentRecordRow(Withdrawable, Base):
    """A supervisor's entry in a category other than attendance (issue 18): 每起扣1-5分 against a
    window or a person on a day, a bonus (附加分) or a 倒扣; ``points`` is positive, ``kind`` says
    which way it counts."""

    __tablename__ = "assessment_record"
    __table_args__ = (Index("ix_assessment_record_day", "day"),)

    ref: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    window_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    staff_no: Mapped[str | None] = mapped_column(String(32), nullable=True)
    category: Mapped[str] = mapped_column(String(64))
    item: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(16))  # deduction | bonus | back (倒扣)
    points: Mapped[float] = mapped_column(Float)
    evidence: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(128), default="")
    updated_utc: Mapped[datetime] = mapped_column(UtcDateTime)


class CategoryScoreRow(Withdrawable, Base):
    """A category's score for a period from another scoring system (issue 18), for a window or a person."""

    __tablename__ = "category_score"
    __table_args__ = (Index("ix_category_score_period", "period_key"),)

    ref: Mapped[str] = mapped_column(String(64), primary_key=True)
    period_key: Mapped[str] = mapped_column(String(16))
    window_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    staff_no: Mapped[str | None] = mapped_column(String(32), nullable=True)
    category: Mapped[str] = mapped_column(String(64))
    score: Mapped[float] = mapped_column(Float)
    note: Mapped[str] = mapped_column(Text, default="")
    updated_utc: Mapped[datetime] = mapped_column(UtcDateTime)


class BulletinNumberRow(Base):
    """发文字号: each number issued to a bulletin (``n`` counts per year), never reused."""

    __tablename__ = "bulletin_number"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    period_key: Mapped[str] = mapped_column(String(16))
    number: Mapped[str] = mapped_column(String(128))
    issued_utc: Mapped[datetime] = mapped_column(UtcDateTime)
    by: Mapped[str] = mapped_column(String(128))


# --- the daemon's own bookkeeping ---------------------------------------------------


class JobRunRow(Base):
    """Every scheduled job run: a run missed while the service was down, or one
    that crashed mid-way (status still ``running``), runs again at start-up."""

    __tablename__ = "job_run"
    __table_args__ = (UniqueConstraint("job", "scheduled_for_utc", name="uq_job_run_slot"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job: Mapped[str] = mapped_column(String(64))
    scheduled_for_utc: Mapped[datetime] = mapped_column(UtcDateTime)
    started_utc: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_utc: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # running | ok | failed
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class SnapshotRow(Base):
    """A period's computed results, exactly as they are (to be) pushed.

    The outbox pushes snapshots, so a push after an outage is identical to
    the push that failed; a final month's snapshot changes only on reopen.
    """

    __tablename__ = "period_snapshot"

    period_key: Mapped[str] = mapped_column(String(16), primary_key=True)
    period_kind: Mapped[str] = mapped_column(String(16))
    computed_utc: Mapped[datetime] = mapped_column(UtcDateTime)
    rules_version: Mapped[str] = mapped_column(String(64))
    is_final: Mapped[bool] = mapped_column(Boolean, default=False)
    digest: Mapped[str] = mapped_column(String(64))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    pushed_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    pushed_utc: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_utc: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: In the outbox: only ``attendd push`` and the daemon's own schedule queue a snapshot
    #: (``attendd evaluate`` and ``attendd bulletin`` only look and store nothing).
    queued: Mapped[bool] = mapped_column(Boolean, default=False)
    #: 1 for the first stored result, +1 each time the stored result changes (a reopen too).
    revision: Mapped[int] = mapped_column(Integer, default=1)


class ReopenRow(Base):
    """Who reopened a final month, when and why (the audit the SPEC asks for);
    ``revision`` is the snapshot revision the reopen's re-evaluation wrote (final again)."""

    __tablename__ = "period_reopen"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    period_key: Mapped[str] = mapped_column(String(16))
    by: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text)
    at_utc: Mapped[datetime] = mapped_column(UtcDateTime)
    revision: Mapped[int | None] = mapped_column(Integer, nullable=True)


class PeriodHoldRow(Base):
    """A month the close job held open because its data is incomplete (a silent terminal on a
    workday, no punches at all). ``released_utc`` is set when it closes: once the data is
    complete (``released_by`` is ``(data complete)``), or by a forced close (it names who)."""

    __tablename__ = "period_hold"

    period_key: Mapped[str] = mapped_column(String(16), primary_key=True)
    held_utc: Mapped[datetime] = mapped_column(UtcDateTime)
    checked_utc: Mapped[datetime] = mapped_column(UtcDateTime)
    reasons: Mapped[str] = mapped_column(Text)  # one reason a line
    released_utc: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    released_by: Mapped[str | None] = mapped_column(String(128), nullable=True)


class ForcedCloseRow(Base):
    """Who closed a period deliberately (``evaluate --final --force``), when, why, and what
    was incomplete at the time (empty when nothing was)."""

    __tablename__ = "period_forced_close"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    period_key: Mapped[str] = mapped_column(String(16))
    by: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text)
    at_utc: Mapped[datetime] = mapped_column(UtcDateTime)
    incomplete: Mapped[str] = mapped_column(Text, default="")
    revision: Mapped[int | None] = mapped_column(Integer, nullable=True)


class DirtyMonthRow(Base):
    """Months whose inputs changed since they were last evaluated."""

    __tablename__ = "dirty_month"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    since_utc: Mapped[datetime] = mapped_column(UtcDateTime)


class ClaimRow(Base):
    """A lease on a piece of work shared by several ``attendd run`` on one server store (issue 19):
    ``pull:<device>`` for one slot (kept, ``done_utc`` set, when the pull is recorded), or
    ``job:<job>`` / ``drain`` (deleted when the job ends). A holder that dies leaves its lease to
    expire (``expires_utc``); another instance then takes the work over (``takeovers``)."""

    __tablename__ = "claim"

    name: Mapped[str] = mapped_column(String(191), primary_key=True)
    slot_utc: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    claimed_utc: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_utc: Mapped[datetime] = mapped_column(UtcDateTime)
    done_utc: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    takeovers: Mapped[int] = mapped_column(Integer, default=0)


class InstanceRow(Base):
    """Each ``attendd run`` on this store: where it runs, since when, its last heartbeat."""

    __tablename__ = "daemon_instance"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_utc: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen_utc: Mapped[datetime] = mapped_column(UtcDateTime)
    stopped_utc: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


punch_table = _table(PunchRow)
quarantine_table = _table(QuarantineRow)
device_state_table = _table(DeviceStateRow)
ingest_run_table = _table(IngestRunRow)
device_user_table = _table(DeviceUserRow)
staff_table = _table(StaffRow)
leave_table = _table(LeaveRow)
exemption_table = _table(ExemptionRow)
inspection_table = _table(InspectionRow)
substitution_table = _table(SubstitutionRow)
job_run_table = _table(JobRunRow)
snapshot_table = _table(SnapshotRow)
reopen_table = _table(ReopenRow)
period_hold_table = _table(PeriodHoldRow)
forced_close_table = _table(ForcedCloseRow)
dirty_month_table = _table(DirtyMonthRow)
duty_table = _table(DutyRow)
duty_rota_table = _table(DutyRotaRow)
bulletin_number_table = _table(BulletinNumberRow)
assessment_record_table = _table(AssessmentRecordRow)
category_score_table = _table(CategoryScoreRow)
claim_table = _table(ClaimRow)
instance_table = _table(InstanceRow)
