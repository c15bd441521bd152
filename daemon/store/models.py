"""Tables of the local store (SQLAlchemy 2 declarative).

Punch times are the terminal's naive local wall-clock time, stored with the
site's timezone name beside them; our own instants (first seen, last sync)
are naive UTC in columns ending ``_utc``. The two never meet in a comparison.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class PunchRow(Base):
    """One stored punch; the natural key (device serial, PIN, time) is unique."""

    __tablename__ = "punch"
    __table_args__ = (
        UniqueConstraint("device_serial", "pin", "punched_at", name="uq_punch_natural"),
        Index("ix_punch_pin_time", "pin", "punched_at"),
        Index("ix_punch_time", "punched_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    device_serial: Mapped[str] = mapped_column(String(64))
    pin: Mapped[str] = mapped_column(String(32))
    punched_at: Mapped[datetime] = mapped_column(DateTime)
    tz: Mapped[str] = mapped_column(String(64))
    state: Mapped[int] = mapped_column(Integer, default=0)
    verify: Mapped[int] = mapped_column(Integer, default=0)
    work_code: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[str] = mapped_column(String(16))
    device_name: Mapped[str] = mapped_column(String(64))
    first_seen_utc: Mapped[datetime] = mapped_column(DateTime)


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


class SyncRunRow(Base):
    """Audit of every pull attempt: when, what it found, how it ended."""

    __tablename__ = "sync_run"
    __table_args__ = (Index("ix_sync_run_device", "device_name", "started_utc"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    device_name: Mapped[str] = mapped_column(String(64))
    device_serial: Mapped[str | None] = mapped_column(String(64), nullable=True)
    source: Mapped[str] = mapped_column(String(16))
    started_utc: Mapped[datetime] = mapped_column(DateTime)
    finished_utc: Mapped[datetime] = mapped_column(DateTime)
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
