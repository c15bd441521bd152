"""One staff member's day: punches matched to slots, and the events they make.

Matching: each punch (after de-bouncing repeats) belongs to the slot whose
acceptance window holds it — to the nearest due time where two windows
overlap; an in-slot takes its first punch, an out-slot its last. Then, per
slot: on leave, excused by an exemption, on time, late, early, or missing.
Per session (an in/out pair): both punches missing, or one missing when the
policy says a missing punch is absence, or a late / early beyond the
absence threshold, make that session an absence. Leave, midday leave and
inspection findings add their own events. Every event carries its evidence.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Iterable, Sequence

from .model import DayResult, Event, Exemption, Inspection, Leave, SlotResult, Staff
from .policy import DayRules
from .timetable import Slot, Timetable

_NONE = -1


class _Plan:
    """What evaluating a day needs of a slot list, computed once per timetable."""

    __slots__ = ("slots", "table", "at", "is_in", "grace", "session", "n_sessions", "session_days", "members")

    def __init__(self, slots: tuple[Slot, ...]) -> None:
        self.slots = slots
        self.at = [s.at_min for s in slots]
        self.is_in = [s.kind == "in" for s in slots]
        self.grace = [s.grace for s in slots]
        self.session = [s.session for s in slots]
        self.n_sessions = Timetable.sessions(slots)
        self.session_days = 1.0 / self.n_sessions
        self.members = [[i for i, s in enumerate(slots) if s.session == k] for k in range(self.n_sessions)]
        table = [_NONE] * 1440
        for m in range(1440):
            best, best_dist = _NONE, 10_000
            for i, s in enumerate(slots):
                lo, hi = s.accept_range
                if lo <= m <= hi:
                    dist = abs(m - s.at_min)
                    if dist < best_dist:
                        best, best_dist = i, dist
            table[m] = best
        self.table = table


_PLANS: dict[int, _Plan] = {}


def _plan(slots: tuple[Slot, ...]) -> _Plan:
    """The plan of a slot list; keyed by identity, as timetables live for the whole run."""
    plan = _PLANS.get(id(slots))
    if plan is None or plan.slots is not slots:
        if len(_PLANS) > 512:
            _PLANS.clear()
        plan = _PLANS[id(slots)] = _Plan(slots)
    return plan


def _hm(t: datetime | time) -> str:
    return f"{t.hour:02d}:{t.minute:02d}"


def _hms(t: datetime) -> str:
    return f"{t.hour:02d}:{t.minute:02d}:{t.second:02d}"


def evaluate_day(
    staff: Staff,
    day: date,
    day_kind: str,
    slots: tuple[Slot, ...] | None,
    punches: Sequence[datetime],
    *,
    rules: DayRules,
    leaves: Sequence[Leave] = (),
    exemptions: Sequence[Exemption] = (),
    inspections: Sequence[Inspection] = (),
    scheduled: bool = True,
) -> DayResult:
    """Evaluate one day; ``punches`` are this person's (or their substitute's), sorted."""
    first = punches[0] if punches else None
    last = punches[-1] if punches else None
    if not scheduled or not slots or staff.exempt:
        return DayResult(staff.staff_no, day, day_kind, staff.window, scheduled and bool(slots) and not staff.exempt,
                         first_punch=first, last_punch=last)

    plan = _plan(slots)
    session_days, table, is_in = plan.session_days, plan.table, plan.is_in
    chosen: list[datetime | None] = [None] * len(slots)
    # De-bounce: a repeat within the gap is the same punch, so one double punch
    # across a window boundary (12:49:58, 12:50:03) cannot satisfy two slots.
    gap = timedelta(seconds=rules.debounce_seconds)
    kept: datetime | None = None
    for p in punches:
        if kept is not None and p - kept <= gap:
            continue
        kept = p
        i = table[p.hour * 60 + p.minute]
        if i == _NONE:
            continue
        if is_in[i]:
            if chosen[i] is None:
                chosen[i] = p
        else:
            chosen[i] = p

    if not leaves and not exemptions and not inspections:
        # The ordinary day: every slot punched within grace.
        g = rules.grace_minutes
        at, gr = plan.at, plan.grace
        for i, p in enumerate(chosen):
            if p is None:
                break
            pm = p.hour * 60 + p.minute
            if (pm - at[i] if is_in[i] else at[i] - pm) > gr[i] + g:
                break
        else:
            return DayResult(
                staff.staff_no, day, day_kind, staff.window, True,
                tuple(SlotResult(s.name, "ok", p) for s, p in zip(slots, chosen)),
                (), None, 0.0, 0.0, first, last,
            )
    key = day.isoformat()

    covered = _leave_cover(slots, day, leaves)
    excused_slots = {e.slot for e in exemptions}
    excuse_all = "all" in excused_slots
    exemption_ref = {e.slot: (e.ref or e.reason) for e in exemptions}

    statuses: list[SlotResult] = []
    events: list[Event] = []
    absent_sessions: dict[int, str] = {}
    slot_events: list[tuple[int, Event]] = []
    any_punch = any(c is not None for c in chosen)

    for i, s in enumerate(slots):
        ref = f"{key}/{s.name}"
        leave = covered[i]
        if leave is not None:
            statuses.append(SlotResult(s.name, "leave"))
            continue
        p = chosen[i]
        excused = excuse_all or s.name in excused_slots
        grace = s.grace + rules.grace_minutes
        if p is None:
            if excused:
                statuses.append(SlotResult(s.name, "excused"))
                events.append(Event("excused_punch", day, s.name, evidence=f"补卡/说明 {_ex(exemption_ref, s.name)}", ref=ref))
                continue
            statuses.append(SlotResult(s.name, "missing"))
            why = f"{s.name} 无打卡（{_hm(s.accept_from)}–{_hm(s.accept_to)}）"
            if rules.missing_punch == "absence":
                absent_sessions.setdefault(s.session, why)
            else:
                slot_events.append((s.session, Event("missing_punch", day, s.name, evidence=why, ref=ref)))
            continue
        pm = p.hour * 60 + p.minute
        off = pm - s.at_min if s.kind == "in" else s.at_min - pm
        if off <= grace:
            statuses.append(SlotResult(s.name, "ok", p))
            continue
        if excused:
            statuses.append(SlotResult(s.name, "excused", p, off))
            events.append(Event("excused_punch", day, s.name, minutes=off,
                                evidence=f"打卡 {_hms(p)} 已补卡/说明 {_ex(exemption_ref, s.name)}", ref=ref))
            continue
        word = "迟到" if s.kind == "in" else "早退"
        evidence = f"打卡 {_hms(p)}（应 {_hm(s.at)}，{word} {off} 分钟）"
        if rules.absence_after_minutes is not None and off > rules.absence_after_minutes:
            statuses.append(SlotResult(s.name, "absent", p, off))
            absent_sessions.setdefault(s.session, f"{evidence} 超过 {rules.absence_after_minutes} 分钟按旷工")
            continue
        statuses.append(SlotResult(s.name, "late" if s.kind == "in" else "early", p, off))
        kind = "early"
        if s.kind == "in":
            serious = rules.serious_late_minutes is not None and off > rules.serious_late_minutes
            kind = "serious_late" if serious else "late"
        slot_events.append((s.session, Event(kind, day, s.name, minutes=off, evidence=evidence, ref=ref)))

    # A session with neither punch is absence whatever the policy says of one missing punch.
    for sess, members in enumerate(plan.members):
        if members and all(statuses[i].status == "missing" for i in members):
            names = "、".join(slots[i].name for i in members)
            absent_sessions[sess] = f"{names} 均无打卡" if any_punch else "全天无打卡"

    for ins in inspections:
        ref = ins.ref or f"{key}/{ins.kind}@{_hm(ins.at)}"
        evidence = f"巡查 {_hm(ins.at)} {ins.kind}" + (f" {ins.minutes} 分钟" if ins.minutes else "") + (f"：{ins.note}" if ins.note else "")
        if (
            ins.kind == "off_post"
            and rules.off_post_absence_after_minutes is not None
            and ins.minutes > rules.off_post_absence_after_minutes
        ):
            sess = _session_at(slots, ins.at)
            if sess not in absent_sessions:
                absent_sessions[sess] = f"{evidence}，脱岗超过 {rules.off_post_absence_after_minutes} 分钟按缺勤半天"
            continue
        events.append(Event(ins.kind, day, None, minutes=ins.minutes, evidence=evidence, ref=ref))

    for sess, ev in slot_events:
        if sess not in absent_sessions:
            events.append(ev)
    for sess in sorted(absent_sessions):
        name = slots[2 * sess].name if 2 * sess < len(slots) else str(sess)
        events.append(Event("absence_day", day, name, count=session_days,
                            evidence=absent_sessions[sess], ref=f"{key}/absence-{sess + 1}"))

    leave_kind, leave_days = None, 0.0
    by_kind: dict[str, float] = {}
    for members in plan.members:
        # a session counts as leave of a kind when the leave covers both its slots
        cover = [covered[i] for i in members]
        if cover and all(c is not None for c in cover) and cover[0].kind != "midday":
            k = cover[0].kind
            by_kind[k] = by_kind.get(k, 0.0) + session_days
    for lv in leaves:
        if lv.kind == "midday":
            minutes = int((lv.end - lv.start).total_seconds() // 60)
            ref = lv.ref or f"{key}/midday@{_hm(lv.start)}"
            ev = f"中途请假 {_hm(lv.start)}–{_hm(lv.end)}（{minutes} 分钟）" + (f" #{lv.ref}" if lv.ref else "")
            events.append(Event("midday_leave", day, None, minutes=minutes, evidence=ev, ref=ref))
            if rules.midday_leave_long_minutes is not None and minutes > rules.midday_leave_long_minutes:
                events.append(Event("midday_leave_long", day, None, minutes=minutes,
                                    evidence=f"{ev} 超过 {rules.midday_leave_long_minutes} 分钟", ref=ref))
    for k, days in by_kind.items():
        lv = next(x for x in leaves if x.kind == k)
        kind = {"personal": "personal_leave_day", "sick": "sick_leave_day"}.get(k, "other_leave_day")
        evidence = f"{_LEAVE_WORDS.get(k, k)} {lv.start:%m-%d %H:%M}–{lv.end:%m-%d %H:%M}" + (f" #{lv.ref}" if lv.ref else "")
        events.append(Event(kind, day, None, count=days, evidence=evidence, ref=f"{key}/leave-{k}", tag=k))
        leave_days += days
        if leave_kind is None or days > by_kind.get(leave_kind, 0):
            leave_kind = k
    absent_days = session_days * len(absent_sessions)
    return DayResult(
        staff.staff_no, day, day_kind, staff.window, True, tuple(statuses), tuple(events),
        leave_kind, leave_days, absent_days, first, last,
    )


_LEAVE_WORDS = {
    "personal": "事假", "sick": "病假", "annual": "年休假", "official": "公假", "marriage": "婚假",
    "maternity": "产假", "injury": "公伤假", "bereavement": "丧假", "midday": "中途请假",
}


def _ex(refs: dict[str, str], slot: str) -> str:
    r = refs.get(slot) or refs.get("all") or ""
    return f"#{r}" if r else ""


def _leave_cover(slots: tuple[Slot, ...], day: date, leaves: Sequence[Leave]) -> list[Leave | None]:
    out: list[Leave | None] = [None] * len(slots)
    if not leaves:
        return out
    for i, s in enumerate(slots):
        due = datetime.combine(day, s.at)
        for lv in leaves:
            if lv.start <= due <= lv.end:
                out[i] = lv
                break
    return out


def _session_at(slots: tuple[Slot, ...], at: datetime) -> int:
    m = at.hour * 60 + at.minute
    for s in slots:
        if s.kind == "out" and m <= s.at_min:
            return s.session
    return slots[-1].session


def leaves_on(day: date, leaves: Iterable[Leave]) -> list[Leave]:
    """Leaves that touch ``day``."""
    start = datetime.combine(day, time.min)
    end = start + timedelta(days=1)
    return [lv for lv in leaves if lv.start < end and lv.end >= start]
