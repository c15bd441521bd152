"""The change log: every change a person makes to what the results are computed from, on the record.

One row per change — who (``by``: the clerk's account, or the ``--by`` name on the command
line), when, through which door (``via``: ``web`` or ``cli``), what (``action`` on ``subject`` /
``subject_id``), whose (``staff_no``), why (``reason``), and the record before and after as JSON.
A change and its row are written in one transaction (:func:`record_change` takes the caller's
connection), so there is never a change without its entry or an entry without its change.
Rows are never updated or deleted. Logins and account changes are in ``auth_event``
(:mod:`.accounts`); closes and reopens also keep their own tables (``period_forced_close``,
``period_reopen``); the console's ``/audit`` shows them all together.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Index, Integer, String, Text, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import UtcDateTime
from ..errors import UserError
from .models import Base, _table

VIA = ("web", "cli", "daemon")


class ChangeRow(Base):
    """One change a person made (see the module's docstring)."""

    __tablename__ = "change_log"
    __table_args__ = (Index("ix_change_log_at", "at_utc"), Index("ix_change_log_staff", "staff_no"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at_utc: Mapped[datetime] = mapped_column(UtcDateTime)
    by: Mapped[str] = mapped_column(String(128))
    via: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(64))
    staff_no: Mapped[str | None] = mapped_column(String(32), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    before: Mapped[str | None] = mapped_column(Text, nullable=True)
    after: Mapped[str | None] = mapped_column(Text, nullable=True)


change_table = _table(ChangeRow)


def _json(value: Any) -> str | None:
    if value is None:
        return None

    def default(v: Any) -> str:
        if isinstance(v, (datetime, date)):
            return v.isoformat()
        return str(v)

    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=default)


def record_change(
    conn: Connection,
    *,
    at: datetime,
    by: str,
    via: str,
    action: str,
    subject: str,
    subject_id: str | int,
    staff_no: str | None = None,
    reason: str = "",
    before: Any = None,
    after: Any = None,
) -> None:
    """Write one change's entry on ``conn`` (the transaction that makes the change)."""
    if via not in VIA:
        raise ValueError(via)
    conn.execute(
        insert(change_table),
        {
            "at_utc": at,
            "by": by[:128],
            "via": via,
            "action": action,
            "subject": subject,
            "subject_id": str(subject_id)[:64],
            "staff_no": staff_no,
            "reason": reason,
            "before": _json(before),
            "after": _json(after),
        },
    )


@dataclass(frozen=True)
class Actor:
    """Who makes a change, through which door, when: ``Actor(by, via, at).log(conn, …)`` writes
    the change's entry in the caller's transaction."""

    by: str
    via: str
    at: datetime

    def log(self, conn: Connection, action: str, subject: str, subject_id: str | int, **what: Any) -> None:
        """``what``: ``staff_no``, ``reason``, ``before``, ``after`` (see :func:`record_change`)."""
        record_change(
            conn, at=self.at, by=self.by, via=self.via, action=action, subject=subject, subject_id=subject_id, **what
        )


class StaleEdit(UserError):
    """Another person changed the record since it was read (its version moved): nothing was saved."""


def required(text: str, message: str) -> str:
    """``text`` stripped; UserError ``message`` when nothing is left (a reason, a name)."""
    text = text.strip()
    if not text:
        raise UserError(message)
    return text


def row_to_change(conn: Connection, table, row_id: int, what: str) -> dict[str, Any]:
    """The row ``row_id`` of ``table`` read in the changing transaction; UserError naming ``what``."""
    row = conn.execute(select(table).where(table.c.id == row_id)).mappings().first()
    if row is None:
        raise UserError(f"{what} {row_id}: no such {what}")
    return dict(row)


def withdraw_row(
    conn: Connection,
    table,
    key_column: str,
    key: Any,
    *,
    what: str,
    actor: Actor,
    reason: str,
    action: str,
    version: int | None = None,
    shown: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Withdraw (撤销) the row of ``table`` whose ``key_column`` is ``key``, in the caller's transaction:
    it stays, with who, when and why, and stops counting; the change log gets ``action`` with the
    columns ``shown`` before and after. Returns the row as it was.

    ``version``: the version the person saw; another change since then refuses this one
    (:class:`StaleEdit`), as does a concurrent withdrawal. UserError for an unknown key or a row
    already withdrawn. ``what`` names the record in messages (``correction 12``, ``leave L-3``).
    """
    col = table.c[key_column]
    row = conn.execute(select(table).where(col == key)).mappings().first()
    if row is None:
        raise UserError(f"{what} {key}: no such {what}")
    # the version first: a second clerk who saw it active is told it changed meanwhile
    if version is not None and row["version"] != version:
        raise StaleEdit(
            f"{what} {key}: changed by someone else since you opened it (version "
            f"{row['version']}, you saw {version}); nothing was saved — reload and try again"
        )
    if row["withdrawn_utc"] is not None:
        raise UserError(f"{what} {key}: already withdrawn by {row['withdrawn_by']}")
    done = conn.execute(
        update(table)
        .where(col == key, table.c.version == row["version"])
        .values(
            withdrawn_utc=actor.at, withdrawn_by=actor.by[:128], withdrawn_reason=reason, version=row["version"] + 1
        )
    ).rowcount
    if done != 1:
        raise StaleEdit(f"{what} {key}: changed by someone else meanwhile; nothing was saved")
    view = {c: row[c] for c in shown}
    actor.log(
        conn,
        action,
        table.name,
        key,
        staff_no=row.get("staff_no"),
        reason=reason,
        before={"withdrawn": False, **view},
        after={"withdrawn": True, **view},
    )
    return dict(row)


def final_state(store, period_key: str) -> dict[str, Any] | None:
    """A period's stored state as the change log records it before and after a close or reopen:
    ``{"is_final", "revision"}``, or None when it was never evaluated."""
    from .models import snapshot_table

    t = snapshot_table
    with store.reading() as conn:
        row = conn.execute(select(t.c.is_final, t.c.revision).where(t.c.period_key == period_key)).first()
    return None if row is None else {"is_final": bool(row.is_final), "revision": row.revision}


def log_period(store, actor: Actor, action: str, period_key: str, *, reason: str, before: Any, after: Any) -> None:
    """A period's close, reopen or publication on the record, through whichever door (web, cli)."""
    with store.transaction() as conn:
        actor.log(conn, action, "period", period_key, reason=reason, before=before, after=after)


def matching(table, **equal: Any):
    """``select(table)`` where each column named in ``equal`` equals its value (None or "": any)."""
    q = select(table)
    for name, value in equal.items():
        if value not in (None, ""):
            q = q.where(table.c[name] == value)
    return q


def changes(
    store, *, since: datetime | None = None, until: datetime | None = None, limit: int = 1000, **equal: str | None
) -> list[dict[str, Any]]:
    """The change log, newest first; ``equal``: ``by``, ``action``, ``staff_no`` filters. ``before`` and
    ``after`` decoded."""
    t = change_table
    q = matching(t, **equal).order_by(t.c.id.desc()).limit(limit)
    if since is not None:
        q = q.where(t.c.at_utc >= since)
    if until is not None:
        q = q.where(t.c.at_utc < until)
    with store.reading() as conn:
        rows = [dict(r) for r in conn.execute(q).mappings()]
    for r in rows:
        for k in ("before", "after"):
            r[k] = json.loads(r[k]) if r[k] else None
    return rows
