"""Snapshots and the outbox: results reach the scoring DB even after an outage.

Evaluating a period stores a *snapshot* of its rows in the local store
(compressed JSON with a digest). Draining the outbox pushes every snapshot
whose digest differs from what was last pushed, each in one scoring-DB
transaction; a failure leaves the snapshot waiting with a growing back-off
(30 s, 1 min, 2 min … at most an hour). What is pushed after an outage is
byte for byte what would have been pushed before it. A final month's
snapshot is not recomputed until the month is reopened.
"""

from __future__ import annotations

import hashlib
import json
import uuid
import zlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

import structlog
from sqlalchemy import insert, select, update
from structlog.contextvars import bound_contextvars

from rules import Period, parse_period

from .config import Config
from .errors import AttenddError
from .evaluate import evaluate, rules_version, scoring_rows
from .store import Store
from .store.models import ReopenRow, SnapshotRow

log = structlog.get_logger("attendd.outbox")

BACKOFF_START = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)


def _naive(t: datetime) -> datetime:
    return t.astimezone(timezone.utc).replace(tzinfo=None)


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


def take_snapshot(
    store: Store, config: Config, period: Period, *, now: datetime, final: bool = False,
    reopen_by: str | None = None, reopen_reason: str | None = None,
) -> Snapshot:
    """Evaluate ``period`` and keep its rows for the outbox.

    A final snapshot is kept as it is — late punches and records do not move
    a published month — unless ``reopen_by`` and ``reopen_reason`` say who
    reopens it and why (recorded).
    """
    t = SnapshotRow.__table__
    with store.engine.connect() as conn:
        old = conn.execute(select(t).where(t.c.period_key == period.key)).mappings().first()
    if old is not None and old["is_final"] and not reopen_by:
        log.info("period is final: kept as published", period=period.key)
        return Snapshot(period, False, True, old["digest"], decode(old["payload"]))
    ev = evaluate(store, config, period, as_of=now)
    rows = scoring_rows(ev, is_final=final)
    payload = _encode(rows)
    digest = hashlib.sha256(payload).hexdigest()
    values = {
        "period_kind": period.kind, "computed_utc": _naive(now), "rules_version": rules_version(config),
        "is_final": final, "digest": digest, "payload": payload, "attempts": 0,
        "next_attempt_utc": _naive(now), "last_error": None,
    }
    with store._writing(), store.engine.begin() as conn:
        if reopen_by:
            conn.execute(insert(ReopenRow.__table__), {"period_key": period.key, "by": reopen_by,
                                                       "reason": reopen_reason or "", "at_utc": _naive(now)})
            log.warning("final period reopened", period=period.key, by=reopen_by, reason=reopen_reason)
        if old is None:
            conn.execute(insert(t), {"period_key": period.key, **values})
        elif old["digest"] != digest or old["is_final"] != final:
            conn.execute(update(t).where(t.c.period_key == period.key).values(**values))
    return Snapshot(period, old is None or old["digest"] != digest, final, digest, rows)


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


def pending(store: Store, scoring=None) -> list[dict]:
    """Snapshots not yet pushed, as they are now, to ``scoring`` (or to the DB they last went to)."""
    t = SnapshotRow.__table__
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(t.c.period_key, t.c.period_kind, t.c.attempts, t.c.next_attempt_utc, t.c.last_error,
                   t.c.digest, t.c.pushed_digest).order_by(t.c.period_key)
        ).mappings().all()
    out = []
    for r in rows:
        pushed = (r["pushed_digest"] or "").split("@")
        if pushed[0] != r["digest"] or (scoring is not None and pushed[-1] != _target(scoring)):
            out.append(dict(r))
    return out


def drain(store: Store, scoring, *, now: datetime, only: list[str] | None = None, force: bool = False) -> list[PushOutcome]:
    """Push waiting snapshots (those due, or all of ``only`` when ``force``)."""
    t = SnapshotRow.__table__
    out: list[PushOutcome] = []
    for item in pending(store, scoring):
        key = item["period_key"]
        if only is not None and key not in only:
            continue
        due = item["next_attempt_utc"] is None or item["next_attempt_utc"] <= _naive(now)
        if not (due or force):
            continue
        with store.engine.connect() as conn:
            snap = conn.execute(select(t).where(t.c.period_key == key)).mappings().one()
        period = parse_period(key)
        rows = decode(snap["payload"])
        with bound_contextvars(job="push", period=key):
            try:
                written = scoring.push_period(
                    period_kind=period.kind, period_key=key, start=period.start, end=period.end,
                    staff_days=rows["staff_days"], staff_periods=rows["staff_periods"],
                    window_periods=rows["window_periods"], deductions=rows["deductions"],
                    rules_version=snap["rules_version"],
                    computed_at=snap["computed_utc"].replace(tzinfo=timezone.utc),
                    run_id=uuid.uuid4().hex,
                    content_hash=snap["digest"],
                )
            except AttenddError as exc:
                attempts = snap["attempts"] + 1
                with store._writing(), store.engine.begin() as conn:
                    conn.execute(update(t).where(t.c.period_key == key).values(
                        attempts=attempts, next_attempt_utc=_naive(now + backoff(attempts)), last_error=str(exc)))
                if attempts == 1:
                    log.error("push failed; will retry", error=str(exc))
                else:
                    log.debug("push still failing", error=str(exc), attempts=attempts)
                out.append(PushOutcome(key, "failed", error=str(exc)))
                continue
            with store._writing(), store.engine.begin() as conn:
                conn.execute(update(t).where(t.c.period_key == key, t.c.digest == snap["digest"]).values(
                    pushed_digest=f"{snap['digest']}@{_target(scoring)}", pushed_utc=_naive(now), attempts=0,
                    last_error=None))
            if snap["attempts"]:
                log.info("push recovered", attempts=snap["attempts"])
            log.info("pushed" if written else "scoring DB already had these results", rows=written)
            out.append(PushOutcome(key, "ok" if written else "unchanged", written))
    return out
