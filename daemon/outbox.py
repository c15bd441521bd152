"""Snapshots and the outbox: results reach the scoring DB even after an outage.

Evaluating a period stores a *snapshot* of its rows in the local store
(compressed JSON with a digest). Draining the outbox pushes every snapshot
whose digest differs from what was last pushed, each in one scoring-DB
transaction; a failure leaves the snapshot waiting with a growing back-off
(30 s, 1 min, 2 min … at most an hour). What is pushed after an outage is
byte for byte what would have been pushed before it. A final month's
snapshot is not recomputed until the month is reopened.

Only ``attendd push`` and the daemon's own schedule *queue* a snapshot
(``queue=True``); ``attendd evaluate`` and ``attendd bulletin`` look
(``queue=False``): their results are computed and shown, never stored,
so nothing they compute reaches the shared scoring DB. Nothing before the
go-live month (``[site] since``) is evaluated, pushed or closed, and a
month whose data is incomplete is not closed (:func:`close_period`).
"""

from __future__ import annotations

import hashlib
import json
import uuid
import zlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import structlog
from sqlalchemy import func, insert, select, update
from structlog.contextvars import bound_contextvars

from rules import Period, parse_period

from .assessment import assess_period
from .assessment import scoring_rows as assessment_rows
from .config import Config
from .errors import AttenddError, UserError
from .health import report_failure, report_recovery
from .period_results import evaluate, rules_version, scoring_rows
from .store import Store
from .store.models import forced_close_table, period_hold_table, punch_table, reopen_table, snapshot_table

#: The snapshot's names of the whole assessment's rows (:func:`daemon.assessment.scoring_rows`).
ASSESSMENT_ROWS = ("category_scores", "assessment_totals", "notices")

log = structlog.get_logger("attendd.outbox")

BACKOFF_START = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)


def _encode(rows: dict[str, list[dict]]) -> bytes:
    def default(v: Any) -> str:
        if isinstance(v, (date, datetime)):
            return v.isoformat(sep=" ") if isinstance(v, datetime) else v.isoformat()
        raise TypeError(type(v).__name__)

    return zlib.compress(json.dumps(rows, default=default, ensure_ascii=False, sort_keys=True).encode(), 6)


_DATES = ("work_date",)
_TIMES = ("first_punch", "last_punch")


def decode(payload: bytes) -> dict[str, list[dict]]:
    rows = json.loads(zlib.decompress(payload))
    for table in rows.values():
        for r in table:
            for k in _DATES:
                if r.get(k):
                    r[k] = date.fromisoformat(r[k])
            for k in _TIMES:
                if r.get(k):
                    r[k] = datetime.fromisoformat(r[k])
    return rows


@dataclass
class Snapshot:
    period: Period
    changed: bool
    is_final: bool
    digest: str
    rows: dict[str, list[dict]]
    revision: int | None = None  # the stored revision (None: looked at, not stored)


# --- go-live ---------------------------------------------------------------------------


def go_live_month(since: date | None) -> date | None:
    """The first day of the go-live month (``[site] since``), or None."""
    return since.replace(day=1) if since else None


def before_go_live(config: Config, period: Period) -> bool:
    """True when ``period`` ends before the go-live month starts (one that overlaps it is fine)."""
    start = go_live_month(config.site.since)
    return start is not None and period.end <= start


def check_go_live(config: Config, period: Period) -> None:
    """UserError (exit 2) for a period wholly before the go-live month."""
    since = config.site.since
    if since is not None and before_go_live(config, period):
        raise UserError(
            f"--period {period.key}: before go-live ([site] since = {since.isoformat()}): "
            f"nothing before {since:%Y-%m} is evaluated, pushed, closed or published"
        )


# --- snapshots -------------------------------------------------------------------------


def take_snapshot(
    store: Store,
    config: Config,
    period: Period,
    *,
    now: datetime,
    final: bool = False,
    queue: bool = True,
    reopen_by: str | None = None,
    reopen_reason: str | None = None,
) -> Snapshot:
    """Evaluate ``period``; with ``queue`` keep its rows in the outbox for the scoring DB.

    ``queue=False`` (``attendd evaluate`` and ``attendd bulletin``: looking) stores
    nothing and returns the rows. A final snapshot is always stored and queued, and
    is kept as it is — late punches and records do not move a published month —
    unless ``reopen_by`` and ``reopen_reason`` say who reopens it and why: its
    re-evaluation is final again, a new revision, and the reopen is recorded.
    """
    check_go_live(config, period)
    t = snapshot_table
    with store.reading() as conn:
        old = conn.execute(select(t).where(t.c.period_key == period.key)).mappings().first()
    if reopen_by:
        if old is None or not old["is_final"]:
            raise UserError(f"--reopen: {period.key} is not final: there is nothing to reopen")
        final = True  # a reopened final month returns to final (a new revision)
    if old is not None and old["is_final"] and not reopen_by:
        if queue and not old["queued"]:
            with store.transaction() as conn:
                conn.execute(update(t).where(t.c.period_key == period.key).values(queued=True))
        log.info("period is final: kept as published", period=period.key)
        return Snapshot(period, False, True, old["digest"], decode(old["payload"]), old["revision"])
    ev = evaluate(store, config, period, as_of=now)
    rows = scoring_rows(ev, is_final=final)
    outcome = assess_period(store, config, period, evaluation=ev)
    if outcome is not None:  # the whole assessment, where the centre computes it (issue 18)
        rows.update(assessment_rows(outcome, is_final=final))
    payload = _encode(rows)
    digest = hashlib.sha256(payload).hexdigest()
    changed = old is None or old["digest"] != digest or bool(old["is_final"]) != final
    if not (queue or final):
        return Snapshot(period, changed, False, digest, rows, None)
    revision = 1 if old is None else old["revision"] + (1 if changed else 0)
    values = {
        "period_kind": period.kind,
        "computed_utc": now,
        "rules_version": rules_version(config),
        "is_final": final,
        "digest": digest,
        "payload": payload,
        "attempts": 0,
        "next_attempt_utc": now,
        "last_error": None,
        "queued": True,
        "revision": revision,
    }
    with store.transaction() as conn:
        if reopen_by:
            _record_decision(conn, reopen_table, period, reopen_by, reopen_reason, now, revision=revision)
            log.warning(
                "final period reopened", period=period.key, by=reopen_by, reason=reopen_reason, revision=revision
            )
        if old is None:
            conn.execute(insert(t), {"period_key": period.key, **values})
        elif changed or not old["queued"]:
            conn.execute(update(t).where(t.c.period_key == period.key).values(**values))
    return Snapshot(period, changed, final, digest, rows, revision)


# --- closing a period ------------------------------------------------------------------


class PeriodIncomplete(UserError):
    """A period whose data is incomplete is not closed (unless forced); ``reasons`` says why."""

    def __init__(self, period: Period, reasons: list[str]) -> None:
        self.period, self.reasons = period, reasons
        super().__init__(
            f"{period.key}: data incomplete, not closed: {'; '.join(reasons)} "
            f"(close it anyway: attendd evaluate --period {period.key} --final --force "
            "--by NAME --reason TEXT)"
        )


def _record_decision(conn, table, period: Period, by: str, reason: str | None, now: datetime, **more) -> None:
    """Record who reopened or force-closed ``period``, when and why (the record stays for good)."""
    conn.execute(insert(table), {"period_key": period.key, "by": by, "reason": reason or "", "at_utc": now, **more})


def incomplete(store: Store, config: Config, period: Period, *, now: datetime) -> list[str]:
    """Why ``period``'s data is too incomplete to close (empty: complete).

    * no punch at all stored for the period (from the go-live date on);
    * a terminal with *silent workdays* — the bulletin's sync-health measure
      (:func:`daemon.bulletin.collect.device_health`): a site-calendar workday, from the
      later of the period start, the device's ``installed``, ``[site] since`` and its
      first ingest, on which that enabled terminal stored no punch at all.
    """
    from .bulletin.collect import device_health

    today = now.astimezone(config.site.tz).date()
    since = config.site.since
    lo = datetime.combine(max(period.start, since) if since else period.start, time())
    hi = datetime.combine(period.end, time())
    pt = punch_table
    reasons = []
    with store.reading() as conn:
        if not conn.scalar(select(func.count()).select_from(pt).where(pt.c.punched_at >= lo, pt.c.punched_at < hi)):
            reasons.append(f"no punches stored for {period.key}")
    for h in device_health(store, config, period, today=today):
        if h.silent_workdays:
            days = ", ".join(d.isoformat() for d in h.silent_workdays[:5]) + (
                " …" if len(h.silent_workdays) > 5 else ""
            )
            reasons.append(f"terminal {h.name} stored nothing on {len(h.silent_workdays)} workday(s): {days}")
    return reasons


def close_period(
    store: Store,
    config: Config,
    period: Period,
    *,
    now: datetime,
    force_by: str | None = None,
    force_reason: str | None = None,
) -> Snapshot:
    """Make ``period`` final (the month close, ``attendd evaluate --final``) and queue it.

    Raises :class:`PeriodIncomplete` when its data is incomplete (see :func:`incomplete`),
    unless ``force_by`` and ``force_reason`` close it deliberately: who, when, why and what
    was incomplete are recorded (``attendd list closes``). A final period is kept as it is.
    """
    check_go_live(config, period)
    t = snapshot_table
    with store.reading() as conn:
        old = conn.execute(select(t.c.is_final).where(t.c.period_key == period.key)).first()
    if old is not None and old[0]:
        return take_snapshot(store, config, period, now=now, final=True)
    reasons = incomplete(store, config, period, now=now)
    if reasons and not force_by:
        raise PeriodIncomplete(period, reasons)
    snap = take_snapshot(store, config, period, now=now, final=True)
    with store.transaction() as conn:
        if force_by:
            _record_decision(
                conn,
                forced_close_table,
                period,
                force_by,
                force_reason,
                now,
                revision=snap.revision,
                incomplete="\n".join(reasons),
            )
            log.warning(
                "period closed by force", period=period.key, by=force_by, reason=force_reason, incomplete=reasons
            )
        h = period_hold_table
        conn.execute(
            update(h)
            .where(h.c.period_key == period.key, h.c.released_utc.is_(None))
            .values(released_utc=now, released_by=force_by or "(data complete)")
        )
    return snap


def hold(store: Store, period: Period, reasons: list[str], *, now: datetime) -> None:
    """Record that the close job holds ``period`` open, and why (``attendd status``)."""
    h = period_hold_table
    with store.transaction() as conn:
        row = conn.execute(select(h).where(h.c.period_key == period.key)).mappings().first()
        values = {"checked_utc": now, "reasons": "\n".join(reasons), "released_utc": None, "released_by": None}
        if row is None:
            conn.execute(insert(h), {"period_key": period.key, "held_utc": now, **values})
        else:
            if row["released_utc"] is not None:
                values["held_utc"] = now
            conn.execute(update(h).where(h.c.period_key == period.key).values(**values))


def held_periods(store: Store) -> list[dict]:
    """Periods held open (not closed since), oldest first."""
    h = period_hold_table
    with store.reading() as conn:
        return [
            dict(r)
            for r in conn.execute(select(h).where(h.c.released_utc.is_(None)).order_by(h.c.period_key)).mappings()
        ]


def backoff(attempts: int) -> timedelta:
    return min(BACKOFF_START * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


@dataclass
class PushOutcome:
    period_key: str
    status: str  # ok | failed | unchanged
    rows: int = 0
    error: str | None = None


def _target(scoring) -> str:
    """A short name for the scoring DB a snapshot went to (its URL and schema)."""
    return hashlib.sha256(str(getattr(scoring, "display", "")).encode()).hexdigest()[:12]


def pending(store: Store, scoring=None, *, since: date | None = None) -> list[dict]:
    """Queued snapshots not yet pushed, as they are now, to ``scoring`` (or to the DB they
    last went to); none of a period before the go-live month of ``since``."""
    t = snapshot_table
    with store.reading() as conn:
        rows = (
            conn.execute(
                select(
                    t.c.period_key,
                    t.c.period_kind,
                    t.c.attempts,
                    t.c.next_attempt_utc,
                    t.c.last_error,
                    t.c.digest,
                    t.c.pushed_digest,
                )
                .where(t.c.queued.is_(True))
                .order_by(t.c.period_key)
            )
            .mappings()
            .all()
        )
    go_live = go_live_month(since)
    out = []
    for r in rows:
        if go_live is not None and parse_period(r["period_key"]).end <= go_live:
            continue
        pushed = (r["pushed_digest"] or "").split("@")
        if pushed[0] != r["digest"] or (scoring is not None and pushed[-1] != _target(scoring)):
            out.append(dict(r))
    return out


def drain(
    store: Store,
    scoring,
    *,
    now: datetime,
    only: list[str] | None = None,
    force: bool = False,
    since: date | None = None,
) -> list[PushOutcome]:
    """Push queued snapshots (those due, or all of ``only`` when ``force``); never a
    period before the go-live month of ``since`` (``[site] since``)."""
    t = snapshot_table
    out: list[PushOutcome] = []
    for item in pending(store, scoring, since=since):
        key = item["period_key"]
        if only is not None and key not in only:
            continue
        due = item["next_attempt_utc"] is None or item["next_attempt_utc"] <= now
        if not (due or force):
            continue
        with store.reading() as conn:
            snap = conn.execute(select(t).where(t.c.period_key == key)).mappings().one()
        period = parse_period(key)
        rows = decode(snap["payload"])
        with bound_contextvars(job="push", period=key):
            try:
                written = scoring.push_period(  # period.key: canonical, whatever the stored key
                    period_kind=period.kind,
                    period_key=period.key,
                    start=period.start,
                    end=period.end,
                    staff_days=rows["staff_days"],
                    staff_periods=rows["staff_periods"],
                    window_periods=rows["window_periods"],
                    deductions=rows["deductions"],
                    rules_version=snap["rules_version"],
                    computed_at=snap["computed_utc"],
                    run_id=uuid.uuid4().hex,
                    content_hash=snap["digest"],
                    # the whole assessment's rows, when the centre computes it (issue 18)
                    assessment={k: rows[k] for k in ASSESSMENT_ROWS} if "assessment_totals" in rows else None,
                )
            except AttenddError as exc:
                attempts = snap["attempts"] + 1
                with store.transaction() as conn:
                    conn.execute(
                        update(t)
                        .where(t.c.period_key == key)
                        .values(attempts=attempts, next_attempt_utc=now + backoff(attempts), last_error=str(exc))
                    )
                report_failure(log, "push failed; will retry", "push still failing", failures=attempts, error=str(exc))
                out.append(PushOutcome(key, "failed", error=str(exc)))
                continue
            with store.transaction() as conn:
                conn.execute(
                    update(t)
                    .where(t.c.period_key == key, t.c.digest == snap["digest"])
                    .values(
                        pushed_digest=f"{snap['digest']}@{_target(scoring)}",
                        pushed_utc=now,
                        attempts=0,
                        last_error=None,
                    )
                )
            report_recovery(log, "push recovered", failures=snap["attempts"])
            log.info("pushed" if written else "scoring DB already had these results", rows=written)
            out.append(PushOutcome(key, "ok" if written else "unchanged", written))
    return out
