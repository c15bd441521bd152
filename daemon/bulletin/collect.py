"""Gather a bulletin from the store: the period's snapshot, names and sync health.

The results come from :func:`daemon.outbox.take_snapshot` — the very rows
the scoring DB receives — so a bulletin never says something the scoring DB
does not. A final (closed) month is printed as it was published.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from rules import CalendarUnknown, Period

from ..clock import site_time, utc_of
from ..config import Config
from ..health import problem
from ..period_results import compile_rules, rules_version
from ..store import Store
from ..store.models import device_state_table, ingest_run_table, punch_table, quarantine_table, staff_table
from . import labels
from .model import Bulletin, DeviceHealth, build_bulletin


def _flag_rules(config: Config) -> dict[str, str]:
    """How each group that flags on attendance awards 流动红旗, in the reader's words."""
    from ..period_results import ranking_groups

    policies = compile_rules(config)[1]
    out = {}
    for g in {g.name: g for g in ranking_groups(config, policies).values()}.values():
        if g.flags_on == "attendance":
            ties = "并列者均评" if g.ties == "share" else "并列者超出名额时均不评"
            out[g.name] = f"考勤排名前 {g.red_flags} 名；名额边界{ties}"
    return out


def device_health(store: Store, config: Config, period: Period, *, today: date) -> list[DeviceHealth]:
    """Each enabled device's sync health from ``period.start`` up to ``today`` (exclusive).

    A *silent workday* is a workday on which the device stored no punch at
    all: a terminal unplugged, broken or not synced shows up here before
    anyone is marked absent because of it.
    """
    tz = config.site.tz
    calendar = compile_rules(config)[3] if config.windows else None
    lo_utc, hi_utc = utc_of(period.start, tz), utc_of(period.end, tz)
    lo, hi = datetime.combine(period.start, time()), datetime.combine(period.end, time())
    rt, pt, qt = ingest_run_table, punch_table, quarantine_table
    out = []
    with store.reading() as conn:
        states = {r.device_name: r for r in conn.execute(select(device_state_table)).all()}
        for device in config.devices:
            if not device.enabled:
                continue
            state = states.get(device.name)
            serials = {
                s
                for (s,) in conn.execute(select(rt.c.device_serial).distinct().where(rt.c.device_name == device.name))
                if s
            }
            serials |= {s for s in (device.serial, state.serial if state else None) if s}
            first_run = conn.scalar(select(func.min(rt.c.started_utc)).where(rt.c.device_name == device.name))
            runs = conn.execute(
                select(rt.c.status, rt.c.clock_offset_s).where(
                    rt.c.device_name == device.name, rt.c.started_utc >= lo_utc, rt.c.started_utc < hi_utc
                )
            ).all()
            days_with_punches: dict[str, int] = defaultdict(int)
            if serials:
                for day, n in conn.execute(
                    select(func.date(pt.c.punched_at), func.count())
                    .where(pt.c.device_serial.in_(serials), pt.c.punched_at >= lo, pt.c.punched_at < hi)
                    .group_by(func.date(pt.c.punched_at))
                ):
                    days_with_punches[str(day)[:10]] += n
            reasons: dict[str, int] = defaultdict(int)
            for (reason,) in conn.execute(
                select(qt.c.reason).where(
                    qt.c.device_name == device.name, qt.c.first_seen_utc >= lo_utc, qt.c.first_seen_utc < hi_utc
                )
            ):
                reasons[labels.quarantine(reason)] += 1
            offsets = [o for _, o in runs if o is not None]
            # In service from its first ingest — or from its first punch in the period, if that is
            # earlier (a month that arrived by USB import after it ended is still the terminal's month).
            in_service = site_time(first_run, tz).date() if first_run else None
            if in_service is not None and days_with_punches:
                in_service = min(in_service, date.fromisoformat(min(days_with_punches)))
            start = max(filter(None, (period.start, device.installed, config.site.since, in_service)))
            silent = []
            if calendar is not None and first_run is not None:
                d = start
                while d < min(period.end, today):
                    try:
                        workday = calendar.is_workday(d)
                    except CalendarUnknown:
                        workday = d.weekday() < 5
                    if workday and not days_with_punches.get(d.isoformat()):
                        silent.append(d)
                    d += timedelta(days=1)
            out.append(
                DeviceHealth(
                    name=device.name,
                    driver=device.driver,
                    serial=", ".join(sorted(serials)),
                    punches=sum(days_with_punches.values()),
                    syncs_ok=sum(1 for s, _ in runs if s in ("ok", "unchanged")),
                    syncs_failed=sum(1 for s, _ in runs if s == "failed"),
                    last_success=site_time(state.last_success_utc, tz) if state and state.last_success_utc else None,
                    max_drift_s=max(offsets, key=abs) if offsets else (state.clock_offset_s if state else None),
                    silent_workdays=silent,
                    quarantined=sum(reasons.values()),
                    quarantine_reasons=dict(reasons),
                    last_error=problem(state),
                )
            )
    return out


def collect(store: Store, config: Config, period: Period, *, now: datetime, queue: bool = True) -> Bulletin:
    """The bulletin of ``period`` as of ``now`` (an aware datetime).

    ``queue``: the daemon publishing (the rows go to the outbox, so the scoring DB
    receives what is printed); ``attendd bulletin`` only looks (``queue=False``).
    """
    from ..outbox import take_snapshot

    snap = take_snapshot(store, config, period, now=now, queue=queue)
    today = now.astimezone(config.site.tz).date()
    with store.reading() as conn:
        names = {r.staff_no: r.name for r in conn.execute(select(staff_table.c.staff_no, staff_table.c.name))}
    b = build_bulletin(
        snap.rows,
        centre=config.site.name,
        period=period,
        issued=today,
        names=names,
        windows=[(w.code, w.name) for w in config.windows],
        devices=device_health(store, config, period, today=today),
        final=snap.is_final,
        rules_version=rules_version(config),
        flag_rules=_flag_rules(config),
        group_titles={name: g.title or name for name, g in config.ranking_groups.items()},
    )
    _mark_appeals(store, b)
    return b


#: How the annex marks a deduction someone appealed against (an upheld appeal's deduction is gone:
#: its exemption excuses the slot, and the appeal lists it).
APPEAL_NOTES = {"open": "申诉中（第{id}号）", "rejected": "申诉已驳回（第{id}号）"}


def _mark_appeals(store: Store, b: Bulletin) -> None:
    """Note each annex line under an open appeal, or whose appeal was rejected (issue 15)."""
    from ..store import appeals

    first, after = b.period.start.isoformat()[:7], b.period.end.isoformat()[:7]
    marks: dict[tuple[str, str], str] = {}
    for a in appeals(store):
        if a["status"] in APPEAL_NOTES and first <= a["period_key"] < after:
            marks.setdefault((a["staff_no"], a["deduction_ref"]), APPEAL_NOTES[a["status"]].format(id=a["id"]))
    for line in b.annex:
        mark = marks.get((line.staff_no, line.ref))
        if mark:
            line.note = f"{line.note}；{mark}" if line.note else mark
