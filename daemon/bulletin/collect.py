"""Gather a bulletin from the store: the period's snapshot, names and sync health.

The results come from :func:`daemon.outbox.take_snapshot` — the very rows
the scoring DB receives — so a bulletin never says something the scoring DB
does not. A final (closed) month is printed as it was published.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from rules import CalendarUnknown, Period, period_of

from ..clock import site_time, utc_of
from ..config import Config
from ..health import problem
from ..period_results import compile_rules, rules_version
from ..store import Store
from ..store.models import device_state_table, ingest_run_table, punch_table, quarantine_table, staff_table
from . import labels
from .model import Bulletin, DeviceHealth, build_bulletin, natural_key


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


#: ingest-run sources that are no sync of the terminal: a clerk's 补录, a quarantine release
NOT_A_SYNC = ("manual", "release")


def _period_runs(conn, name: str, serials: set[str], lo, hi, lo_utc, hi_utc) -> list[tuple[str, float | None, str]]:
    """(status, clock offset, source) of the device's runs for the period, every way in (pulls,
    pushes, USB imports, the serial line): those started in it, and those after it that stored
    its punches — a month's records fetched on the 2nd of the next are that month's sync."""
    rt, pt = ingest_run_table, punch_table
    in_period = (rt.c.started_utc >= lo_utc) & (rt.c.started_utc < hi_utc)
    if serials:
        delivered = (
            select(pt.c.run_id)
            .where(pt.c.device_serial.in_(serials), pt.c.punched_at >= lo, pt.c.punched_at < hi)
            .distinct()
        )
        in_period = in_period | rt.c.id.in_(delivered)
    rows = conn.execute(
        select(rt.c.status, rt.c.clock_offset_s, rt.c.source).where(
            rt.c.device_name == name, rt.c.source.not_in(NOT_A_SYNC), in_period
        )
    ).all()
    return [(r.status, r.clock_offset_s, r.source) for r in rows]


def _by_way(runs: list[tuple[str, float | None, str]]) -> dict[str, int]:
    """The good runs by way in, in the reader's words (拉取 3, 推送 12, U盘导入 1)."""
    out: dict[str, int] = defaultdict(int)
    for status, _, source in runs:
        if status in ("ok", "unchanged"):
            out[labels.way_in(source)] += 1
    return {k: out[k] for k in sorted(out, key=labels.way_order)}


def slot_labels(config: Config) -> dict[str, dict[str, str]]:
    """Per window code, each slot name's label (上午签到 …): its own timetable's first, then any
    other's (a duty day's timetable, say)."""
    timetables = compile_rules(config)[0] if config.windows else {}
    every: dict[str, str] = {}
    for tt in timetables.values():
        for slots in (tt.slots, *(v.slots for v in tt.variants)):
            for s in slots:
                every.setdefault(s.name, s.word)
    out = {}
    for w in config.windows:
        own: dict[str, str] = {}
        tt = timetables.get(w.timetable)
        for slots in (tt.slots, *(v.slots for v in tt.variants)) if tt else ():
            for s in slots:
                own.setdefault(s.name, s.word)
        out[w.code] = {**every, **own}
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
            runs = _period_runs(conn, device.name, serials, lo, hi, lo_utc, hi_utc)
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
            offsets = [o for _, o, _ in runs if o is not None]
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
                    syncs_ok=sum(1 for s, _, _ in runs if s in ("ok", "unchanged")),
                    syncs_failed=sum(1 for s, _, _ in runs if s == "failed"),
                    runs_by_way=_by_way(runs),
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
        slot_labels=slot_labels(config),
    )
    _mark_appeals(store, b)
    _assessed(snap.rows, b, names, {w.code: w.name for w in config.windows})
    return b


def previous_figures(store: Store, config: Config, period: Period, *, now: datetime) -> dict[str, float] | None:
    """The :meth:`Bulletin.totals` of the period before ``period`` (the month before a month, the
    quarter before a quarter …), for the DOCX bulletin's comparison; None when there is no data:
    the period is before go-live, or the store holds no punch in it.
    """
    from ..outbox import before_go_live

    before = period_of(period.kind, period.start - timedelta(days=1))
    if before_go_live(config, before):
        return None
    lo, hi = datetime.combine(before.start, time()), datetime.combine(before.end, time())
    with store.reading() as conn:
        punched = conn.scalar(
            select(punch_table.c.id).where(punch_table.c.punched_at >= lo, punch_table.c.punched_at < hi).limit(1)
        )
    if punched is None:
        return None
    b = collect(store, config, before, now=now, queue=False)
    return b.totals() if b.staff else None


def _assessed(rows: dict, b: Bulletin, names: dict[str, str], windows: dict[str, str]) -> None:
    """The whole assessment's windows, people and notices from the snapshot's rows (issue 18)."""
    from .model import NoticeLine

    b.assessed, b.assessed_categories = _assessed_lines(rows, "window", windows)
    b.assessed_staff, b.assessed_staff_categories = _assessed_lines(rows, "staff", names, windows)
    b.notices = [
        NoticeLine(
            n["subject_kind"],
            n["subject"],
            (windows if n["subject_kind"] == "window" else names).get(n["subject"], n["subject"]),
            n["kind"],
            n["notice_period"],
            n["reason"],
        )
        for n in rows.get("notices", ())
    ]


def _assessed_lines(
    rows: dict, kind: str, names: dict[str, str], windows: dict[str, str] | None = None
) -> tuple[list, list[str]]:
    """The ``kind`` subjects' lines (by group, rank, number) and the categories in the scheme's order."""
    from .model import AssessedLine

    scores: dict[str, dict[str, float | None]] = {}
    order: list[str] = []
    for r in rows.get("category_scores", ()):
        if r["subject_kind"] == kind:
            scores.setdefault(r["subject"], {})[r["category"]] = r["score"]
            if r["category"] not in order:
                order.append(r["category"])
    lines = [
        AssessedLine(
            code=r["subject"],
            name=names.get(r["subject"], r["subject"]),
            group=r["ranking_group"],
            rank=r["rank"],
            categories=scores.get(r["subject"], {}),
            bonus=r["bonus"],
            back=r["back"],
            total=r["total"],
            max_total=r["max_total"],
            provisional=r["provisional"],
            missing=list(r["missing"] or ()),
            red_flag=r["red_flag"],
            grade=r["grade"],
            disqualified=r["disqualified"],
            reasons=list(r["disqualify_reasons"] or ()),
            window=(windows or {}).get(r["window_code"], r["window_code"]),
        )
        for r in rows.get("assessment_totals", ())
        if r["subject_kind"] == kind
    ]
    lines.sort(key=lambda a: (a.group, a.rank or 10**6, natural_key(a.code)))
    return lines, order


#: How the annex marks a deduction someone appealed against (an upheld appeal's deduction is gone:
#: its exemption excuses the slot, and :attr:`Bulletin.appeals` lists it).
APPEAL_NOTES = {"open": "申诉中（第{id}号）", "rejected": "申诉已驳回（第{id}号）"}


def _mark_appeals(store: Store, b: Bulletin) -> None:
    """List the period's appeals (:attr:`Bulletin.appeals`) and note each annex line under an open
    appeal, or whose appeal was rejected (issue 15)."""
    from ..store import appeals
    from .model import AppealLine

    first, after = b.period.start.isoformat()[:7], b.period.end.isoformat()[:7]
    window_of = {s.staff_no: s.window for s in b.staff}
    names = {s.staff_no: s.name for s in b.staff}
    marks: dict[tuple[str, str], str] = {}
    for a in appeals(store):
        if not first <= a["period_key"] < after:
            continue
        if a["status"] in APPEAL_NOTES:
            marks.setdefault((a["staff_no"], a["deduction_ref"]), APPEAL_NOTES[a["status"]].format(id=a["id"]))
        decided = a["decided_utc"]
        b.appeals.append(
            AppealLine(
                id=a["id"],
                staff_no=a["staff_no"],
                name=names.get(a["staff_no"], ""),
                window=window_of.get(a["staff_no"], ""),
                ref=a["deduction_ref"],
                statement=a["statement"],
                status=a["status"],
                decided_by=a["decided_by"] or "",
                decided=decided.date() if decided is not None else None,
                decision_reason=a["decision_reason"] or "",
                remedy=a["remedy"] or "",
            )
        )
    b.appeals.sort(key=lambda x: x.id)
    for line in b.annex:
        mark = marks.get((line.staff_no, line.ref))
        if mark:
            line.note = f"{line.note}；{mark}" if line.note else mark
