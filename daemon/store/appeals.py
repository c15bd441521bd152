"""Appeals (申诉): a staff member contests a deduction; the clerk records it and decides it.

An appeal names the deduction by its stable ``ref`` (``2026-03-03/am_in``, an inspection's id),
says what the person says and when it was received, and gets a deadline for the decision (the
``[appeals] decide_by_day`` of the month after the deduction's, e.g. the 15th). Deciding it:

- **upheld**: the remedy that removes the deduction is recorded with it, linked both ways. For a
  punch's deduction (a slot of a day) the remedy made here is an exemption (补卡/说明) whose ref is
  ``appeal-ID``; a leave or a correction made by the clerk can be linked instead (``remedy``).
- **rejected**, with the reason.

Every filing and decision is a ``change_log`` entry in the same transaction, and marks the
deduction's month for re-evaluation. A decision names the version it saw: a second clerk's
decision on the same appeal is refused (:class:`StaleEdit`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Index, Integer, String, Text, insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import UtcDateTime
from ..errors import UserError
from .changes import Actor, StaleEdit, matching, required, row_to_change
from .dirty import mark_dirty
from .models import Base, _table, exemption_table, staff_table
from .store import StoreError

STATUSES = ("open", "upheld", "rejected")


class AppealRow(Base):
    """One appeal against one deduction (see the module's docstring)."""

    __tablename__ = "appeal"
    __table_args__ = (Index("ix_appeal_staff", "staff_no", "period_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    staff_no: Mapped[str] = mapped_column(String(32))
    period_key: Mapped[str] = mapped_column(String(16))  # the month of the deduction
    deduction_ref: Mapped[str] = mapped_column(String(64))
    statement: Mapped[str] = mapped_column(Text)
    received: Mapped[date] = mapped_column(Date)
    deadline: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")
    filed_by: Mapped[str] = mapped_column(String(128))
    filed_utc: Mapped[datetime] = mapped_column(UtcDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    decided_utc: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    decision_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    remedy: Mapped[str | None] = mapped_column(String(96), nullable=True)  # "exemption:appeal-7", "leave:L12" …
    version: Mapped[int] = mapped_column(Integer, default=1)


appeal_table = _table(AppealRow)


def deadline_for(month: str, day: int) -> date:
    """The decision deadline of an appeal against a deduction of ``month``: ``day`` of the next month."""
    y, m = (int(x) for x in month.split("-"))
    y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return date(y, m, day)


def _month_of_ref(ref: str) -> str | None:
    """``2026-03`` of a day's ref (``2026-03-03/am_in``); None for refs without a date."""
    head = ref.split("/", 1)[0]
    try:
        return date.fromisoformat(head).strftime("%Y-%m")
    except ValueError:
        return None


def file_appeal(
    store,
    *,
    staff_no: str,
    deduction_ref: str,
    statement: str,
    received: date,
    period_key: str | None = None,
    decide_by_day: int = 15,
    by: str,
    via: str,
    now_utc: datetime,
) -> int:
    """Record an appeal; returns its id. The month is the ref's (a day's ref) or ``period_key``."""
    statement, by = statement.strip(), by.strip()
    if not statement:
        raise UserError("an appeal needs what the person says (--says)")
    if not by:
        raise UserError("an appeal needs the name of who records it (--by)")
    month = _month_of_ref(deduction_ref) or period_key
    if not month:
        raise UserError(f"deduction {deduction_ref!r}: give the month (--period YYYY-MM) for a ref without a date")
    row: dict[str, Any] = {
        "staff_no": staff_no,
        "period_key": month,
        "deduction_ref": deduction_ref.strip()[:64],
        "statement": statement,
        "received": received,
        "deadline": deadline_for(month, decide_by_day),
        "status": "open",
        "filed_by": by[:128],
        "filed_utc": now_utc,
        "version": 1,
    }
    try:
        with store.transaction() as conn:
            if conn.scalar(select(staff_table.c.staff_no).where(staff_table.c.staff_no == staff_no)) is None:
                raise UserError(f"staff {staff_no!r}: not in the roster")
            t = appeal_table
            open_one = conn.scalar(
                select(t.c.id).where(
                    t.c.staff_no == staff_no, t.c.deduction_ref == row["deduction_ref"], t.c.status == "open"
                )
            )
            if open_one is not None:
                raise UserError(f"deduction {deduction_ref!r} of {staff_no}: appeal {open_one} is already open")
            new_id = int(conn.execute(insert(t), row).inserted_primary_key[0])
            after = {k: row[k] for k in ("deduction_ref", "period_key", "received", "deadline")}
            Actor(by, via, now_utc).log(
                conn, "appeal_file", "appeal", new_id, staff_no=staff_no, reason=statement, after=after
            )
            mark_dirty(conn, [month], now_utc)  # the bulletin marks the deduction as under appeal
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot record the appeal: {type(exc).__name__}") from None
    return new_id


def decide_appeal(store, appeal_id: int, actor: Actor, *, upheld: bool, reason: str, remedy=None, version=None):
    """Uphold or reject an open appeal as ``actor``; returns the remedy recorded (``exemption:appeal-ID`` …).

    Upheld without ``remedy``: for a day's slot (``2026-03-03/am_in``) an exemption is made for
    that slot, ref ``appeal-ID``; any other deduction needs the remedy the clerk recorded
    (``leave:REF``, ``correction:ID``, ``exemption:REF``).
    """
    reason = required(reason, "a decision needs its reason (--reason)")
    by = required(actor.by, "a decision needs the name of who decides (--by)")
    via, now_utc = actor.via, actor.at
    t = appeal_table
    try:
        with store.transaction() as conn:
            row = row_to_change(conn, t, appeal_id, "appeal")
            if row["status"] != "open":
                raise UserError(f"appeal {appeal_id}: already {row['status']} by {row['decided_by']}")
            if version is not None and version != row["version"]:
                raise StaleEdit(
                    f"appeal {appeal_id}: decided or changed by someone else since you opened it; nothing was "
                    "saved — reload and look again"
                )
            made = None
            if upheld and remedy is None:
                day_text, _, slot = row["deduction_ref"].partition("/")
                try:
                    day = date.fromisoformat(day_text)
                except ValueError:
                    day = None
                if day is None or not slot or slot.startswith("absence"):
                    raise UserError(
                        f"appeal {appeal_id}: deduction {row['deduction_ref']!r} is not one punch's; record the "
                        "leave or correction that answers it and give it as --remedy leave:REF / correction:ID"
                    )
                ref = f"appeal-{appeal_id}"
                conn.execute(
                    insert(exemption_table),
                    {
                        "ref": ref,
                        "staff_no": row["staff_no"],
                        "day": day,
                        "slot": slot,
                        "reason": f"申诉 {appeal_id} 成立：{reason}",
                        "updated_utc": now_utc,
                    },
                )
                made = remedy = f"exemption:{ref}"
            status = "upheld" if upheld else "rejected"
            done = conn.execute(
                update(t)
                .where(t.c.id == appeal_id, t.c.version == row["version"])
                .values(
                    status=status,
                    decided_by=by[:128],
                    decided_utc=now_utc,
                    decision_reason=reason,
                    remedy=remedy if upheld else None,
                    version=row["version"] + 1,
                )
            ).rowcount
            if done != 1:
                raise StaleEdit(f"appeal {appeal_id}: decided by someone else meanwhile; nothing was saved")
            Actor(by, via, now_utc).log(
                conn,
                "appeal_uphold" if upheld else "appeal_reject",
                "appeal",
                appeal_id,
                staff_no=row["staff_no"],
                reason=reason,
                before={"status": "open"},
                after={"status": status, "remedy": remedy if upheld else None, "made": made},
            )
            mark_dirty(conn, [row["period_key"]], now_utc)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot record the decision: {type(exc).__name__}") from None
    return remedy if upheld else None


def appeals(store, *, status: str | None = None, staff_no: str | None = None, period_key: str | None = None):
    """Appeals, open ones first, then newest."""
    q = matching(appeal_table, status=status, staff_no=staff_no, period_key=period_key)
    with store.reading() as conn:
        rows = [dict(r) for r in conn.execute(q).mappings()]
    return sorted(rows, key=lambda r: (r["status"] != "open", -r["id"]))
