"""From the store and the config to the rules, and from results to scoring-DB rows.

:func:`build_inputs` reads the punches and the clerk's records a period
needs; :func:`evaluate` runs the rules; :func:`scoring_rows` shapes the
results as the SPEC §4.4 tables. The rules stay pure: everything that
touches the database or the config happens here.
"""

from __future__ import annotations

import gc
import hashlib
import json
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

import rules
from rules import Inputs, Period

from . import __version__
from .config import Config
from .errors import UserError
from .store import Store
from .store.corrections import manual_punch_table
from .store.models import (
    device_state_table,
    duty_rota_table,
    duty_table,
    exemption_table,
    inspection_table,
    leave_table,
    punch_table,
    staff_table,
    substitution_table,
)


def _timetable_table(tt) -> dict:
    def slots(items):
        return [
            {"name": s.name, "kind": s.kind, "at": s.at, "accept": list(s.accept), "grace": s.grace, "label": s.label}
            for s in items
        ]

    return {
        "slots": slots(tt.slots),
        "variants": [{"name": v.name or "", "from": v.from_, "to": v.to, "slots": slots(v.slots)} for v in tt.variants],
    }


def compile_rules(config: Config) -> tuple[dict, dict, dict, rules.WorkCalendar]:
    """(timetables by name, policy by window code, window names, calendar) from the config."""
    if not config.windows:
        raise UserError("the config has no [[windows]]: add the service windows to evaluate")
    timetables = {name: rules.build_timetable(name, _timetable_table(tt)) for name, tt in config.timetables.items()}
    by_name = {name: rules.resolve_policy(name, p.preset, p.overrides) for name, p in config.policies.items()}
    policies = {w.code: by_name[w.policy] for w in config.windows}
    names = {w.code: w.name for w in config.windows}
    cal = config.calendar
    calendar = rules.WorkCalendar(frozenset(cal.closures), frozenset(cal.workdays), frozenset(cal.years))
    return timetables, policies, names, calendar


def ranking_groups(config: Config, policies: dict) -> dict[str, rules.RankingGroup]:
    """Each window's ranking group (window code → group) from ``[[windows]] ranking_group``.

    A group that flags on attendance without its own ``red_flags`` takes the
    count its windows' policy gives; windows whose policies disagree must say
    it in the group's table.
    """
    out: dict[str, rules.RankingGroup] = {}
    members: dict[str, list[str]] = defaultdict(list)
    for w in config.windows:
        members[w.ranking_group or ""].append(w.code)
    for name, codes in members.items():
        section = config.ranking_groups.get(name) if name else None
        count = section.red_flags if section else None
        if section is not None and section.flags_on == "attendance" and count is None:
            counts = sorted({policies[c].window.red_flags for c in codes})
            if len(counts) > 1:
                raise UserError(
                    f"ranking_groups.{name}.red_flags: the windows of this group have policies with "
                    f"different red flag counts ({', '.join(map(str, counts))}); say how many here"
                )
            count = counts[0]
        group = rules.RankingGroup(
            name=name,
            title=(section.title if section and section.title else name),
            flags_on=section.flags_on if section else "none",
            red_flags=count,
            ties=section.ties if section else "exclude",
        )
        for c in codes:
            out[c] = group
    return out


def rules_version(config: Config) -> str:
    """attendd's version and a digest of the rules in force (timetables, policies, calendar)."""
    blob = json.dumps(
        {
            "timetables": {k: v.model_dump(mode="json") for k, v in config.timetables.items()},
            "policies": {k: {"preset": v.preset, **v.overrides} for k, v in config.policies.items()},
            "windows": [w.model_dump(mode="json") for w in config.windows],
            "ranking_groups": {k: v.model_dump(mode="json") for k, v in config.ranking_groups.items()},
            "calendar": config.calendar.model_dump(mode="json"),
            **({"duty_rotas": [r.model_dump(mode="json") for r in config.duty_rotas]} if config.duty_rotas else {}),
        },
        sort_keys=True,
        default=str,
    )
    return f"{__version__}+{hashlib.sha256(blob.encode()).hexdigest()[:10]}"


def last_day_due(config: Config, as_of: datetime) -> date:
    """The last day whose results are due at ``as_of`` (an aware datetime).

    Days after it have not happened: scheduling them would turn a month in
    progress into a month of absences. Today counts once its last
    acceptance window has closed (until then a punch may still come), so a
    provisional result shows today's lates from that evening on.
    """
    local = as_of.astimezone(config.site.tz)
    ends = [
        s.accept[1]
        for tt in config.timetables.values()
        for slots in [tt.slots, *(v.slots for v in tt.variants)]
        for s in slots
    ]
    done_today = bool(ends) and local.time().replace(tzinfo=None) >= max(ends)
    return local.date() if done_today else local.date() - timedelta(days=1)


def build_inputs(
    store: Store,
    config: Config,
    start: date,
    end: date,
    *,
    until: date | None = None,
    only: Collection[str] | None = None,
) -> Inputs:
    """Everything the rules need for days ``start`` to ``end`` (exclusive).

    ``until``: the last day to schedule (see :func:`last_day_due`); staff are
    inactive after it, as they are before ``[site] since``. ``only``: just these staff
    numbers and those they substitute for or who substitute for them (one person's month in
    the console: their results do not depend on anyone else's, ranks aside).
    """
    timetables, policies, names, calendar = compile_rules(config)
    lo, hi = datetime.combine(start, datetime.min.time()), datetime.combine(end, datetime.min.time())
    with store.reading() as conn:
        st = substitution_table
        subst_rows = (
            conn.execute(select(st).where(st.c.end_date >= start, st.c.start_date < end, st.c.withdrawn_utc.is_(None)))
            .mappings()
            .all()
        )
        if only is None:
            staff_rows = conn.execute(select(staff_table)).mappings().all()
        else:
            wanted = set(only)
            for r in subst_rows:
                if r["substitute_no"] in wanted or r["covered_no"] in wanted:
                    wanted |= {r["substitute_no"], r["covered_no"]}
            staff_rows = _rows_of_staff(conn, staff_table, staff_table.c.staff_no, wanted)
        if not staff_rows:
            raise UserError("the roster is empty: import it with `attendd import roster FILE` first")
        unknown = sorted({r["window_code"] for r in staff_rows} - set(names))
        if unknown:
            raise UserError(
                f"the roster names windows the config lacks: {', '.join(unknown)} (add them under [[windows]])"
            )
        since = config.site.since
        staff = [
            rules.Staff(
                r["staff_no"],
                r["name"],
                r["window_code"],
                r["role"] if r["role"] in ("chief", "staff") else "staff",
                max(filter(None, (r["active_from"], since)), default=None),
                min(filter(None, (r["active_to"], until)), default=None),
                bool(r["exempt"]),
            )
            for r in staff_rows
        ]
        lt, et, it = leave_table, exemption_table, inspection_table
        nos = None if only is None else {r["staff_no"] for r in staff_rows}

        def of_staff(column):
            return [] if nos is None else [column.in_(sorted(nos))]

        leaves = [
            rules.Leave(r["staff_no"], r["kind"], r["start"], r["end"], r["ref"], r["note"] or "")
            for r in conn.execute(
                select(lt).where(
                    lt.c.end >= lo, lt.c.start < hi, lt.c.withdrawn_utc.is_(None), *of_staff(lt.c.staff_no)
                )
            ).mappings()
        ]
        exemptions = [
            rules.Exemption(r["staff_no"], r["day"], r["slot"], r["reason"] or "", r["ref"])
            for r in conn.execute(
                select(et).where(
                    et.c.day >= start, et.c.day < end, et.c.withdrawn_utc.is_(None), *of_staff(et.c.staff_no)
                )
            ).mappings()
        ]
        inspections = [
            rules.Inspection(r["staff_no"], r["at"], r["kind"], r["minutes"] or 0, r["note"] or "", r["ref"])
            for r in conn.execute(
                select(it).where(it.c.at >= lo, it.c.at < hi, it.c.withdrawn_utc.is_(None), *of_staff(it.c.staff_no))
            ).mappings()
        ]
        substitutions = [
            rules.Substitution(r["substitute_no"], r["covered_no"], r["start_date"], r["end_date"], r["ref"])
            for r in subst_rows
            if nos is None or (r["substitute_no"] in nos and r["covered_no"] in nos)
        ]
        duty, duty_rules = _duty_of(conn, config, start, end)
        serial_of = {r.device_name: r.serial for r in conn.execute(select(device_state_table)).all() if r.serial}
        pt = punch_table
        rows = conn.execute(
            select(pt.c.pin, pt.c.punched_at, pt.c.device_serial).where(
                pt.c.punched_at >= lo, pt.c.punched_at < hi, *of_staff(pt.c.pin)
            )
        ).all()
        mt = manual_punch_table  # 补签: a clerk's correction counts like a punch, whatever the window's devices
        manual = conn.execute(
            select(mt.c.staff_no, mt.c.punched_at).where(
                mt.c.punched_at >= lo, mt.c.punched_at < hi, mt.c.withdrawn_utc.is_(None), *of_staff(mt.c.staff_no)
            )
        ).all()
    # A window that names its devices counts only their punches.
    allowed: dict[str, set[str] | None] = {}
    for w in config.windows:
        if w.devices:
            allowed[w.code] = {
                serial_of.get(d) or next((x.serial for x in config.devices if x.name == d and x.serial), d)
                for d in w.devices
            }
        else:
            allowed[w.code] = None
    window_of = {s.staff_no: s.window for s in staff}
    by_pin: dict[str, list[datetime]] = defaultdict(list)
    for pin, at, serial in rows:
        code = window_of.get(pin)
        ok = allowed.get(code) if code else None
        if ok is None or serial in ok:
            by_pin[pin].append(at)
    for pin, at in manual:
        by_pin[pin].append(at)
    for pin in {pin for pin, _ in manual}:
        by_pin[pin].sort()
    return Inputs(
        staff=staff,
        punches=dict(by_pin),
        windows=names,
        policies=policies,
        timetables=timetables,
        window_timetable={w.code: w.timetable for w in config.windows},
        calendar=calendar,
        leaves=leaves,
        exemptions=exemptions,
        inspections=inspections,
        substitutions=substitutions,
        duty=duty,
        duty_rules=duty_rules,
        ranking_groups=ranking_groups(config, policies),
    )


def _csv_set(text: str | None) -> list[str]:
    return [p for p in (text or "").split(",") if p]


def rota_rules(
    timetable: str,
    *,
    window: str | None,
    staff: Sequence[str],
    weekdays: Iterable[int],
    days: Iterable[str],
    start: date | None,
    end: date | None,
) -> list[rules.DutyRule]:
    """One rota (the config's ``[[duty_rotas]]`` or the clerk's ``/records/rotas``) as the rules'
    :class:`~rules.DutyRule`s: a window's, one person's, or a rotation — N people, one rule each,
    every N-th week, each starting a week after the one before. ``weekdays`` 1 (Monday) … 7;
    ``days`` empty means every day off (rest and holiday)."""
    common: dict[str, Any] = {
        "day_kinds": frozenset(days) or frozenset({"rest", "holiday"}),
        "weekdays": frozenset(d - 1 for d in weekdays),
        "end": end,
    }
    if not staff:
        return [rules.DutyRule(timetable, window=window, start=start, **common)]
    if len(staff) == 1 or start is None:
        return [rules.DutyRule(timetable, staff_no=no, start=start, **common) for no in staff]
    return [
        rules.DutyRule(timetable, staff_no=no, start=start + timedelta(weeks=i), every_weeks=len(staff), **common)
        for i, no in enumerate(staff)
    ]


def _duty_of(conn, config: Config, start: date, end: date) -> tuple[list, list]:
    """The duty assignments (值班) of days ``start`` to ``end`` and every rota in force: the config's
    ``[[duty_rotas]]`` and the clerk's, withdrawn ones left out."""
    dt, rt = duty_table, duty_rota_table
    duty = [
        rules.DutyAssignment(r["day"], r["timetable"], window=r["window_code"], staff_no=r["staff_no"])
        for r in conn.execute(
            select(dt).where(dt.c.day >= start, dt.c.day < end, dt.c.withdrawn_utc.is_(None)).order_by(dt.c.ref)
        ).mappings()
    ]
    # the config's rotas as the store keeps the clerk's: one reading of both
    rows: list[Any] = [
        {
            "timetable": c.timetable,
            "window_code": c.window,
            "staff": ",".join(c.staff),
            "weekdays": ",".join(map(str, c.weekdays)),
            "day_kinds": ",".join(c.days),
            "start": c.start,
            "end": c.end,
        }
        for c in config.duty_rotas
    ]
    rows += conn.execute(select(rt).where(rt.c.withdrawn_utc.is_(None)).order_by(rt.c.ref)).mappings().all()
    found: list[rules.DutyRule] = []
    for r in rows:
        found += rota_rules(
            r["timetable"],
            window=r["window_code"],
            staff=_csv_set(r["staff"]),
            weekdays=[int(d) for d in _csv_set(r["weekdays"])],
            days=_csv_set(r["day_kinds"]),
            start=r["start"],
            end=r["end"],
        )
    return duty, found


def _rows_of_staff(conn, table, column, nos: Collection[str]) -> list:
    """The rows of ``table`` whose ``column`` is one of ``nos``, read in chunks (a bound parameter
    per number: SQLite and PostgreSQL cap them)."""
    wanted = sorted(nos)
    out: list = []
    for i in range(0, len(wanted), 500):
        out += conn.execute(select(table).where(column.in_(wanted[i : i + 500]))).mappings().all()
    return out


@contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a period is evaluated.

    Evaluation allocates millions of small objects and no reference cycles; the collector's
    passes over the growing heap made a year of 1,000 staff 40% slower and superlinear in
    staff. Reference counting still frees everything; the collector's previous state is
    restored. Process-wide state: it lives here, not in the pure ``rules``.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def evaluate(
    store: Store,
    config: Config,
    period: Period,
    *,
    as_of: datetime | None = None,
    only: Collection[str] | None = None,
) -> rules.Evaluation:
    """The rules' results for ``period`` (reads what the counting rules look back on).

    ``as_of`` (aware): days not yet due then are not scheduled, so a period
    in progress is scored on the days that have happened. ``only``: just these staff (see
    :func:`build_inputs`); their own results are exact, the window results and ranks are not.
    """
    _, policies, _, _ = compile_rules(config)
    start = min((rules.period.lookback_start(p, period) for p in policies.values()), default=period.start)
    until = last_day_due(config, as_of) if as_of is not None else None
    try:
        inputs = build_inputs(store, config, start, period.end, until=until, only=only)
        with no_cyclic_gc():
            return rules.evaluate_period(inputs, period)
    except rules.RulesError as exc:
        raise UserError(str(exc)) from None


# --- scoring-DB rows -----------------------------------------------------------------------

_LATE = ("late", "serious_late")


def _day_status(d: rules.DayResult) -> str:
    if not d.scheduled:
        return "not_scheduled"
    kinds = {e.kind for e in d.events}
    if d.absent_days >= 1:
        return "absent"
    if d.absent_days > 0:
        return "half_absent"
    if "missing_punch" in kinds:
        return "missing"
    late, early = bool(kinds & set(_LATE)), "early" in kinds
    if late and early:
        return "late_early"
    if late:
        return "late"
    if early:
        return "early"
    if d.leave_days > 0:
        return "leave"
    return "ok"


def _iso(t: datetime | None) -> str | None:
    return t.isoformat(sep=" ") if t else None


def scoring_rows(ev: rules.Evaluation, is_final: bool = False) -> dict[str, list[dict[str, Any]]]:
    """The SPEC §4.4 rows for an evaluation (computed_at and rules_version are added on push)."""
    period = ev.period
    points_by_day: dict[tuple[str, date], float] = defaultdict(float)
    deductions = []
    assessed = [r for r in ev.staff if r.in_assessment]
    for r in assessed:
        for x in r.deductions:
            if x.day is not None:
                points_by_day[(r.staff_no, x.day)] += x.points
            deductions.append(_deduction_row(period, x))
    for w in ev.windows:
        deductions += [_deduction_row(period, x) for x in w.deductions if x.rule == "chief_offsite"]
    staff_days = []
    for no, days in sorted(ev.days.items()):
        for d in days:
            late = [e for e in d.events if e.kind in _LATE]
            early = [e for e in d.events if e.kind == "early"]
            staff_days.append(
                {
                    "staff_no": no,
                    "work_date": d.day,
                    "window_code": d.window,
                    "day_kind": d.day_kind,
                    "status": _day_status(d),
                    "late_count": len(late),
                    "late_minutes": sum(e.minutes for e in late),
                    "early_count": len(early),
                    "early_minutes": sum(e.minutes for e in early),
                    # 缺卡: a missing punch priced on its own, or one that made its session 旷工 (罗山 视同旷工)
                    "missing_punches": sum(
                        1
                        for e in d.events
                        if e.kind == "missing_punch" or (e.kind == "punch_absence" and e.tag == "missing_punch")
                    ),
                    "excused_punches": sum(1 for e in d.events if e.kind == "excused_punch"),
                    "absent_days": d.absent_days,
                    "leave_kind": d.leave_kind,
                    "leave_days": d.leave_days,
                    "off_post_count": sum(1 for e in d.events if e.kind == "off_post"),
                    "deduction_points": round(points_by_day.get((no, d.day), 0.0), 4),
                    "first_punch": d.first_punch,
                    "last_punch": d.last_punch,
                    "detail": [
                        {"slot": s.slot, "status": s.status, "punch": _iso(s.punch), "minutes": s.minutes}
                        for s in d.slots
                    ],
                }
            )
    staff_periods = [
        {
            "period_kind": period.kind,
            "period_key": period.key,
            "staff_no": r.staff_no,
            "window_code": r.window,
            "policy": r.policy,
            "scheduled_days": r.scheduled_days,
            "present_days": r.present_days,
            "late_count": r.late_count,
            "early_count": r.early_count,
            "missing_punches": r.missing_punches,
            "absent_days": r.absent_days,
            "personal_leave_days": r.personal_leave_days,
            "sick_leave_days": r.sick_leave_days,
            "other_leave_days": r.other_leave_days,
            "midday_leave_count": r.midday_leave_count,
            "off_post_count": r.off_post_count,
            "deduction_points": r.deduction_points,
            "max_points": r.max_points,
            "attendance_score": r.attendance_score,
            "grade": r.grade,
            "disqualified": r.disqualified,
            "disqualify_reasons": r.disqualify_reasons + r.no_excellent_reasons,
            "is_final": is_final,
            "excused_punches": r.excused_punches,
            "grade_note": r.grade_note,
        }
        for r in assessed
    ]
    # Not a scoring-DB table: who is not assessed and why, for the bulletin's list apart.
    not_assessed = [
        {"staff_no": r.staff_no, "window_code": r.window, "reason": r.not_assessed}
        for r in ev.staff
        if not r.in_assessment
    ]
    window_periods = [
        {
            "period_kind": period.kind,
            "period_key": period.key,
            "window_code": w.window,
            "window_name": w.window_name,
            "staff_count": w.staff_count,
            "attendance_score": w.attendance_score,
            "max_points": w.max_points,
            "rank": w.rank,
            "red_flag": w.red_flag,
            "chief_onsite_ratio": w.chief_onsite_ratio,
            "is_final": is_final,
            "ranking_group": w.ranking_group,
            "score_percent": round(100 * w.score_ratio, 4),
        }
        for w in ev.windows
    ]
    return {
        "staff_days": staff_days,
        "staff_periods": staff_periods,
        "window_periods": window_periods,
        "deductions": deductions,
        "not_assessed": not_assessed,
    }


def _deduction_row(period: Period, x: rules.Deduction) -> dict[str, Any]:
    return {
        "period_kind": period.kind,
        "period_key": period.key,
        "staff_no": x.staff_no,
        "rule": x.rule,
        "ref": x.ref,
        "work_date": x.day,
        "slot": x.slot,
        "points": x.points,
        "evidence": x.evidence,
        "note": x.note,
    }


def month_keys_between(start: date, end: date) -> list[str]:
    """``YYYY-MM`` of every month from ``start`` to ``end`` (exclusive)."""
    out, d = [], date(start.year, start.month, 1)
    while d < end:
        out.append(f"{d.year}-{d.month:02d}")
        d = (d + timedelta(days=32)).replace(day=1)
    return out
