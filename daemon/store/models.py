"""Tables of the local store (SQLAlchemy 2 declarative).

Punch times are the terminal's naive local wall-clock time, stored with the
site's timezone name on the ingest run that brought them; our own instants (first seen, last sync)
are naive UTC in columns ending ``_utc``. The two never meet in a comparison.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


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
    pin: Mapped[str] = mapped_column(String(32))
    punched_at: Mapped[datetime] = mapped_column(DateTime)
    state: Mapped[int] = mapped_column(Integer, default=0)
    verify: Mapped[int] = mapped_column(Integer, default=0)
    work_code: Mapped[int] = mapped_column(Integer, default=0)
    run_id: Mapped[int] = mapped_column(ForeignKey("ingest_run.id"))


class QuarantineRow(Base):
    """A record that cannot be scored: impossible date, reset clock, far future…

    Kept with its raw form so nothing is silently dropped; unique on
    (device serial, source, raw) so a re-pull does not add it again.
    """

    __tablename__ = "quarantine"
    __table_args__ = (UniqueConstraint("device_serial", "source", "raw", name="uq_quarantine_raw"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    device_serial: Mapped[str] = mapped_column(String(64))
    device_name: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))
    raw: Mapped[str] = mapped_column(String(255))
    pin: Mapped[str | None] = mapped_column(String(32), nullable=True)
    punched_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    reason: Mapped[str] = mapped_column(String(255))
    first_seen_utc: Mapped[datetime] = mapped_column(DateTime)


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
    last_attempt_utc: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    last_success_utc: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)


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
    started_utc: Mapped[datetime] = mapped_column(DateTime)
    finished_utc: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # ok | unchanged | failed
    record_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    new: Mapped[int] = mapped_column(Integer, default=0)
    duplicate: Mapped[int] = mapped_column(Integer, default=0)
    quarantined: Mapped[int] = mapped_column(Integer, default=0)
    clock_offset_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class DeviceUserRow(Base):
    """A user enrolled on a terminal, as last read from it."""

    __tablename__ = "device_user"

    device_serial: Mapped[str] = mapped_column(String(64), primary_key=True)
    pin: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    uid: Mapped[int] = mapped_column(Integer, default=0)
    seen_utc: Mapped[datetime] = mapped_column(DateTime)
