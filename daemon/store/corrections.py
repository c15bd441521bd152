"""Corrections (补签): punches a clerk records for a staff member, kept apart from the terminals'.

A manual punch has its own table, never the terminals' ``punch`` table: raw terminal punches are
never altered, and a report can always tell a terminal's record from a clerk's. It carries who
recorded it, when, why and the evidence (设备故障，值班室登记). It is never deleted: a withdrawal
records who, when and why, and the punch stops counting. Every add and withdrawal is a
``change_log`` entry in the same transaction, and marks its month for re-evaluation.

``version`` counts the row's changes: a withdrawal names the version it saw, and is refused when
another clerk changed the row meanwhile (optimistic versioning: the second save says so).
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import DateTime, Index, Integer, String, Text, insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import UtcDateTime
from ..errors import UserError
from .changes import Actor, required, withdraw_row
from .dirty import mark_dirty
from .models import Base, _table, staff_table
from .store import StoreError

SOURCE = "manual"


class ManualPunchRow(Base):
    """A punch a clerk recorded (补签); ``punched_at`` is the site's wall-clock time, like a terminal's."""

    __tablename__ = "manual_punch"
    __table_args__ = (Index("ix_manual_punch_staff", "staff_no", "punched_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    staff_no: Mapped[str] = mapped_column(String(32))
    punched_at: Mapped[datetime] = mapped_column(DateTime)
    reason: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text, default="")
    by: Mapped[str] = mapped_column(String(128))
    created_utc: Mapped[datetime] = mapped_column(UtcDateTime)
    withdrawn_utc: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    withdrawn_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    withdrawn_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)


manual_punch_table = _table(ManualPunchRow)


def _month(t: datetime) -> str:
    return f"{t.year:04d}-{t.month:02d}"


def add_manual_punch(
    store,
    *,
    staff_no: str,
    at: datetime,
    reason: str,
    evidence: str = "",
    by: str,
    via: str,
    now_utc: datetime,
) -> int:
    """Record a 补签 for ``staff_no`` at ``at`` (naive local time); returns its id.

    UserError when the person is not in the roster, the reason or the name is empty, or ``at``
    is aware (a punch is the site's wall-clock time).
    """
    if at.tzinfo is not None:
        raise ValueError("a punch time is the site's wall-clock time (naive)")
    if not reason.strip():
        raise UserError("a correction needs a reason (e.g. 设备故障，值班室登记)")
    if not by.strip():
        raise UserError("a correction needs the name of who records it (--by)")
    who, why = by.strip()[:128], reason.strip()
    row: dict[str, Any] = {
        "staff_no": staff_no,
        "punched_at": at.replace(microsecond=0),
        "reason": why,
        "evidence": evidence.strip(),
        "by": who,
        "created_utc": now_utc,
        "version": 1,
    }
    try:
        with store.transaction() as conn:
            known = conn.scalar(select(staff_table.c.staff_no).where(staff_table.c.staff_no == staff_no))
            if known is None:
                raise UserError(f"staff {staff_no!r}: not in the roster")
            new_id = conn.execute(insert(manual_punch_table), row).inserted_primary_key[0]
            after = {k: row[k] for k in ("staff_no", "punched_at", "reason", "evidence")}
            Actor(who, via, now_utc).log(
                conn, "punch_add", "manual_punch", new_id, staff_no=staff_no, reason=why, after=after
            )
            mark_dirty(conn, [_month(at)], now_utc)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot record the correction: {type(exc).__name__}") from None
    return int(new_id)


def withdraw_manual_punch(
    store,
    punch_id: int,
    *,
    reason: str,
    by: str,
    via: str,
    now_utc: datetime,
    version: int | None = None,
) -> None:
    """Withdraw a 补签: it stops counting, and stays on the record with who, when and why.

    ``version``: the version the person saw; another change since then refuses this one
    (:class:`StaleEdit`). UserError for an unknown id or one already withdrawn.
    """
    reason = required(reason, "a withdrawal needs a reason")
    by = required(by, "a withdrawal needs the name of who withdraws it (--by)")
    try:
        with store.transaction() as conn:
            row = withdraw_row(
                conn,
                manual_punch_table,
                "id",
                punch_id,
                what="correction",
                actor=Actor(by, via, now_utc),
                reason=reason,
                action="punch_withdraw",
                version=version,
                shown=("punched_at",),
            )
            mark_dirty(conn, [_month(row["punched_at"])], now_utc)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot withdraw the correction: {type(exc).__name__}") from None


def manual_punches(
    store,
    *,
    staff_no: str | None = None,
    start: date | datetime | None = None,
    end: date | datetime | None = None,
    active_only: bool = False,
) -> list[dict[str, Any]]:
    """Manual punches, oldest first; ``start`` / ``end`` bound ``punched_at`` (end exclusive)."""
    t = manual_punch_table
    q = select(t).order_by(t.c.punched_at, t.c.id)
    if staff_no is not None:
        q = q.where(t.c.staff_no == staff_no)
    if start is not None:
        q = q.where(t.c.punched_at >= (start if isinstance(start, datetime) else datetime.combine(start, time())))
    if end is not None:
        q = q.where(t.c.punched_at < (end if isinstance(end, datetime) else datetime.combine(end, time())))
    if active_only:
        q = q.where(t.c.withdrawn_utc.is_(None))
    with store.reading() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def manual_punch(store, punch_id: int) -> dict[str, Any] | None:
    """One manual punch by its id (withdrawn or not), or None."""
    t = manual_punch_table
    with store.reading() as conn:
        row = conn.execute(select(t).where(t.c.id == punch_id)).mappings().first()
    return dict(row) if row is not None else None
