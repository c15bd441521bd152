"""Quarantine review: release a quarantined record once its cause is known, or dismiss it.

A quarantined row itself is never altered (its raw form is the evidence). A decision is a row
of ``quarantine_review`` beside it: who, when, why, and for a release the time the punch was
stored at and the offset applied. The typical case: a terminal whose clock battery died
restarted at 2000-01-01; its records of the days that followed are quarantined as "reset
clock". The admin reads one known punch (the terminal said 2000-01-03 08:01, the person
punched on 2026-03-04 at 08:02) and enters the offset; the run is re-dated by it, previewed
(:func:`preview_release`) and then released (:func:`release`).

A release stores the punches through :meth:`Store.save_punches` (source ``release``: an ingest
run of its own, with the terminal's serial, so their origin is kept and the natural key dedupes
them) and then records the reviews. A crash between the two leaves the records pending, and a
rerun stores nothing twice (the punches are already there) and records the reviews: nothing
lost, nothing doubled.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, Float, Integer, String, Text, func, insert, select
from sqlalchemy.orm import Mapped, mapped_column

from drivers import Punch

from ..clock import UtcDateTime
from ..errors import UserError
from .changes import Actor
from .models import Base, _table, quarantine_table

SOURCE = "release"


class QuarantineReviewRow(Base):
    """The decision on one quarantined record (see the module's docstring)."""

    __tablename__ = "quarantine_review"

    quarantine_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    decision: Mapped[str] = mapped_column(String(16))  # released | dismissed
    by: Mapped[str] = mapped_column(String(128))
    at_utc: Mapped[datetime] = mapped_column(UtcDateTime)
    reason: Mapped[str] = mapped_column(Text)
    punched_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)  # a release: the time stored
    offset_s: Mapped[float | None] = mapped_column(Float, nullable=True)


review_table = _table(QuarantineReviewRow)


@dataclass
class ReleaseLine:
    """One record of a release, as the preview shows it."""

    quarantine_id: int
    device_name: str
    pin: str | None
    was: datetime | None
    becomes: datetime | None
    problem: str | None  # why it cannot be released (then nothing of the batch is)


def pending(store, *, staff_no: str | None = None) -> list[dict[str, Any]]:
    """Quarantined records nobody has decided on yet, newest first."""
    return find(store, staff_no=staff_no)


def find(
    store,
    *,
    undecided: bool = True,
    staff_no: str | None = None,
    device: str | None = None,
    reason: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[dict[str, Any]]:
    """Quarantined records, newest first: nobody has decided on them yet (``undecided=False``:
    every one); of ``device`` (its name or serial); whose reason contains ``reason`` (any case:
    ``reset clock``, ``invalid timestamp``, ``future``…); the terminal recorded them at ``start``
    ≤ time < ``end`` (its own clock's time, naive). ``attendd quarantine list`` filters with it
    and ``quarantine redate`` picks a reset clock's run with it."""
    q, r = quarantine_table, review_table
    sel = select(q).order_by(q.c.first_seen_utc.desc(), q.c.id.desc())
    if undecided:
        sel = sel.where(~q.c.id.in_(select(r.c.quarantine_id)))
    if staff_no:
        sel = sel.where(q.c.pin == staff_no)
    if device:
        sel = sel.where((q.c.device_name == device) | (q.c.device_serial == device))
    if reason:
        sel = sel.where(func.lower(q.c.reason).contains(reason.lower(), autoescape=True))
    if start is not None:
        sel = sel.where(q.c.punched_at >= start)
    if end is not None:
        sel = sel.where(q.c.punched_at < end)
    with store.reading() as conn:
        return [dict(x) for x in conn.execute(sel).mappings()]


def reviews(store) -> dict[int, dict[str, Any]]:
    with store.reading() as conn:
        return {x["quarantine_id"]: dict(x) for x in conn.execute(select(review_table)).mappings()}


def _rows(conn, ids: list[int]) -> dict[int, dict[str, Any]]:
    q = quarantine_table
    out: dict[int, dict[str, Any]] = {}
    for i in range(0, len(ids), 500):
        for row in conn.execute(select(q).where(q.c.id.in_(ids[i : i + 500]))).mappings():
            out[row["id"]] = dict(row)
    return out


def preview_release(
    store, ids: list[int], *, offset: timedelta, now_local: datetime, installed: dict[str, date | None] | None = None
) -> list[ReleaseLine]:
    """What releasing ``ids`` with ``offset`` would store; each line says why it cannot be, if so."""
    from ..ingest import implausible

    if not ids:
        raise UserError("choose the quarantined records to release")
    with store.reading() as conn:
        rows = _rows(conn, ids)
        decided = set(conn.scalars(select(review_table.c.quarantine_id).where(review_table.c.quarantine_id.in_(ids))))
    lines = []
    for i in ids:
        row = rows.get(i)
        if row is None:
            lines.append(ReleaseLine(i, "", None, None, None, "no such quarantined record"))
            continue
        was = row["punched_at"]
        becomes = was + offset if was is not None else None
        problem = None
        if i in decided:
            problem = "already decided"
        elif not row["pin"] or was is None or becomes is None:
            problem = "the record has no readable PIN and time: it can only be dismissed"
        else:
            from drivers import pin_problem

            problem = pin_problem(row["pin"], letters=True) or implausible(
                becomes, now_local=now_local, installed=(installed or {}).get(row["device_name"])
            )
        lines.append(ReleaseLine(i, row["device_name"], row["pin"], was, becomes, problem))
    return lines


def release(
    store,
    ids: list[int],
    *,
    offset: timedelta = timedelta(0),
    reason: str,
    by: str,
    via: str,
    now_utc: datetime,
    now_local: datetime,
    installed: dict[str, date | None] | None = None,
    selection: dict[str, Any] | None = None,
) -> int:
    """Release ``ids`` as punches re-dated by ``offset``; all or none (UserError naming the first
    that cannot be). Returns how many punches were new. ``selection``: how the records were
    chosen (``quarantine redate``'s device and range), kept in the change log's entry."""
    reason, by = reason.strip(), by.strip()
    if not reason:
        raise UserError("a release needs its reason (what the cause was)")
    if not by:
        raise UserError("a release needs the name of who releases (--by)")
    lines = preview_release(store, ids, offset=offset, now_local=now_local, installed=installed)
    bad = next((x for x in lines if x.problem), None)
    if bad is not None:
        raise UserError(f"quarantined record {bad.quarantine_id}: {bad.problem}; nothing released")
    with store.reading() as conn:
        rows = _rows(conn, ids)
    by_device: dict[tuple[str, str], list[Punch]] = defaultdict(list)
    for line in lines:
        row = rows[line.quarantine_id]
        assert line.pin is not None and line.becomes is not None
        by_device[(row["device_name"], row["device_serial"])].append(Punch(line.pin, line.becomes))
    new = 0
    for (name, serial), punches in by_device.items():
        saved = store.save_punches(
            device_name=name,
            device_serial=serial,
            source=SOURCE,
            punches=punches,
            quarantined=[],
            now_utc=now_utc,
            run={"record_count": len(punches), "error": None},
        )
        new += saved.new
    with store.transaction() as conn:
        decided = {x.quarantine_id: x.becomes for x in lines}
        more = {"selection": selection} if selection else {}
        _record(conn, decided, "released", Actor(by, via, now_utc), reason, offset, new_punches=new, **more)
    return new


def dismiss(store, ids: list[int], *, reason: str, by: str, via: str, now_utc: datetime) -> None:
    """Dismiss ``ids`` with a reason: they stay quarantined, decided, and never count."""
    reason, by = reason.strip(), by.strip()
    if not ids:
        raise UserError("choose the quarantined records to dismiss")
    if not reason:
        raise UserError("a dismissal needs its reason")
    if not by:
        raise UserError("a dismissal needs the name of who dismisses (--by)")
    with store.transaction() as conn:
        rows = _rows(conn, ids)
        missing = [i for i in ids if i not in rows]
        if missing:
            raise UserError(f"quarantined record {missing[0]}: no such record; nothing dismissed")
        decided = set(conn.scalars(select(review_table.c.quarantine_id).where(review_table.c.quarantine_id.in_(ids))))
        if decided:
            raise UserError(f"quarantined record {min(decided)}: already decided; nothing dismissed")
        _record(conn, dict.fromkeys(ids), "dismissed", Actor(by, via, now_utc), reason, None)


def _record(conn, decided: dict, decision: str, actor: Actor, reason: str, offset: timedelta | None, **more) -> None:
    """The reviews of ``decided`` (id → the time a release stores), and the change's entry."""
    for qid, punched_at in decided.items():
        conn.execute(
            insert(review_table),
            {
                "quarantine_id": qid,
                "decision": decision,
                "by": actor.by[:128],
                "at_utc": actor.at,
                "reason": reason,
                "punched_at": punched_at,
                "offset_s": None if offset is None else offset.total_seconds(),
            },
        )
    ids = sorted(decided)
    shown = ",".join(str(i) for i in ids)[:64]
    after = {"ids": ids, **({"offset_s": offset.total_seconds()} if offset is not None else {}), **more}
    actor.log(
        conn,
        f"quarantine_{'release' if decision == 'released' else 'dismiss'}",
        "quarantine",
        shown,
        reason=reason,
        after=after,
    )


def offset_from(terminal_said: datetime, real: datetime) -> timedelta:
    """The offset that re-dates a reset clock's records, from one known punch."""
    return real - terminal_said
