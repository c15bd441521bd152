"""What the console's pages show, gathered from the store and the rules (no HTML here).

Each function returns plain rows for one page, so the pages stay templates and the same data can
be shown by the CLI or served as JSON.
"""

from __future__ import annotations

import threading
import time as _time
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import select

from ..errors import UserError
from ..health import health, problem, usage_text
from ..store.models import ingest_run_table

HEALTH_WORDS = {"ok": "正常", "failing": "故障", "never synced": "从未同步", "clock off": "时钟偏差"}


def device_rows(console, *, today: date) -> list[dict[str, Any]]:
    """Each configured terminal's health for the dashboard and ``/devices``: the bulletin's
    sync health for this month (silent workdays, quarantined records — one definition, in
    :func:`daemon.bulletin.device_health`) beside its state now (reachable, record count, drift).
    """
    from rules import parse_period

    from ..bulletin import device_health

    store, config = console.store, console.config
    limit = config.daemon.max_clock_drift  # a clock beyond it, a log 90 % full: flagged (issue 16)
    states = store.device_states()
    month = {h.name: h for h in device_health(store, config, parse_period(today.strftime("%Y-%m")), today=today)}
    rows = []
    for d in config.devices:
        st = states.get(d.name)
        h = month.get(d.name)
        word = health(st, max_drift_s=limit)
        rows.append(
            {
                "name": d.name,
                "driver": d.driver,
                "enabled": d.enabled,
                "serial": (st.serial if st else None) or (h.serial if h else ""),
                "health": word,
                "health_word": HEALTH_WORDS.get(word, word) if d.enabled else "已停用",
                "problem": problem(st, max_drift_s=limit) or "",
                "last_success": console.local(st.last_success_utc) if st else "",
                "record_count": st.record_count if st else None,
                "record_capacity": st.record_capacity if st else None,
                "record_usage": usage_text(st.record_count, st.record_capacity) if st else "",
                "user_usage": usage_text(st.user_count, st.user_capacity) if st else "",
                "clock_offset_s": st.clock_offset_s if st else None,
                "silent_workdays": len(h.silent_workdays) if h else None,
                "silent_days": [x.isoformat() for x in h.silent_workdays] if h else [],
                "quarantined": h.quarantined if h else None,
            }
        )
    return rows


def device_runs(console, name: str, *, limit: int = 100) -> list[dict[str, Any]]:
    t = ingest_run_table
    with console.store.reading() as conn:
        rows = conn.execute(
            select(t).where(t.c.device_name == name).order_by(t.c.started_utc.desc()).limit(limit)
        ).mappings()
        return [{**r, "started": console.local(r["started_utc"], "%Y-%m-%d %H:%M:%S")} for r in rows]


def job_rows(console) -> list[dict[str, Any]]:
    """Each scheduled job: its last run (status, error) and when it runs next."""
    from ..scheduler import job_runs, job_triggers

    now = console.clock()
    last = {j["job"]: j for j in job_runs(console.store)}
    rows = []
    for job, trigger in job_triggers(console.config, console.tz).items():
        j = last.get(job, {})
        upcoming = trigger.get_next_fire_time(None, now)  # type: ignore[attr-defined]
        rows.append(
            {
                "job": job,
                "scheduled": console.local(j.get("scheduled_for_utc")),
                "finished": console.local(j.get("finished_utc")),
                "status": j.get("status") or "",
                "error": j.get("error") or "",
                "next": console.local(upcoming),
            }
        )
    return rows


def outbox_rows(console) -> list[dict[str, Any]]:
    from ..outbox import pending

    return [
        {**b, "next": console.local(b["next_attempt_utc"])}
        for b in pending(console.store, None, since=console.config.site.since)
    ]


class TtlCache:
    """Values computed at most once per ``ttl_s`` seconds per key (monotonic time: a change of
    the wall clock neither empties nor freezes it).

    The console's dashboard and result pages evaluate whole periods, which read every punch of
    them; they are opened often and the numbers move only with a pull (four times a day) or a
    clerk's import, so a minute's staleness costs nothing. Bounded: at most ``max_keys`` periods.
    """

    def __init__(self, ttl_s: float = 60.0, max_keys: int = 64) -> None:
        self.ttl_s = ttl_s
        self._max_keys = max_keys
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, Any]] = {}

    def get(self, key: str, compute: Callable[[], Any]) -> Any:
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and _time.monotonic() - hit[0] < self.ttl_s:
                return hit[1]
        value = compute()
        with self._lock:
            if len(self._cache) >= self._max_keys:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = (_time.monotonic(), value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()


#: The years the console shows: terminals began keeping time in 2000 (their reset date).
YEARS = range(2000, 2100)


def console_period(text: str):
    """The period a page or API path names (``2026-03``, ``2026-Q1``, ``2026-H1``, ``2026``,
    ``2026-W12``); UserError for anything else or a year outside :data:`YEARS`."""
    import rules

    try:
        p = rules.parse_period(text)
    except rules.RulesError:
        p = None
    if p is None or p.start.year not in YEARS:
        raise UserError(f"期间 {text[:20]!r} 无法识别（例：2026-03、2026-Q1、2026-H1、2026、2026-W12）")
    return p


def month_glance(console, month: str) -> list[dict[str, Any]]:
    """This month's lates, earlies and missing punches by window (for the dashboard)."""
    return console.cache.get(f"glance:{month}", lambda: _month_glance(console, month))


def period_rows(console, period) -> dict[str, list[dict]]:
    """A period's results as ``attendd evaluate`` shows them and the scoring DB receives them."""
    from ..outbox import take_snapshot

    def compute() -> dict[str, list[dict]]:
        return take_snapshot(console.store, console.config, period, now=console.clock(), queue=False).rows

    return console.cache.get(f"rows:{period.key}", compute)


def _month_glance(console, month: str) -> list[dict[str, Any]]:
    from rules import parse_period

    from ..period_results import evaluate

    try:
        ev = evaluate(console.store, console.config, parse_period(month), as_of=console.clock())
    except UserError:
        return []  # no roster yet: nothing to show (the page says so)
    names = {w.code: w.name for w in console.config.windows}
    by_window: dict[str, dict[str, Any]] = {}
    for s in ev.staff:
        row = by_window.setdefault(
            s.window,
            {"code": s.window, "name": names.get(s.window, s.window), "staff": 0, "late": 0, "early": 0, "missing": 0},
        )
        row["staff"] += 1
        row["late"] += s.late_count
        row["early"] += s.early_count
        row["missing"] += s.missing_punches
    return sorted(by_window.values(), key=lambda r: r["code"])
