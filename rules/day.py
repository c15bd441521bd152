"""One staff member's day: punches matched to slots, and the events they make.

Matching: each punch (after de-bouncing repeats) belongs to the slot whose
acceptance window holds it — to the nearest due time where two windows
overlap; an in-slot takes its first punch, an out-slot its last. Where the
policy turns a late / early beyond N minutes into absence, a punch no slot
took that falls inside a session (between its in- and out-slot's due times)
stands in for that session's missing punch, so an acceptance window cannot
hide a late of 100 minutes as a cheaper missing punch (三江: 迟到早退超过1.5
小时的按旷工处理). Then, per slot: on leave, excused by an exemption, on
time, late, early, or missing. Per session (an in/out pair): both punches
missing, or one missing when the policy says a missing punch is absence, or
a late / early beyond the absence threshold, make that session an absence.
Leave (counted for every session it touches), midday leave and inspection
findings add their own events. Every event carries its evidence.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta

from .model import LEAVE_WORDS, DayResult, Event, Exemption, Inspection, Leave, SlotResult, Staff
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


class SlotPlans:
    """The caller's memo of slot-list plans for a run of :func:`evaluate_day` calls.

    Building a plan walks every minute of the day, so a caller that evaluates many days on the
    same timetables (:func:`rules.evaluate_days`) makes one of these and passes it to each call.
    It belongs to that caller, not to the module: the rules keep no state between calls. Keyed
    by identity, as a run's timetables live for the whole run; a plan holds its slot list, so an
    id is not reused while its plan is kept.
    """

    __slots__ = ("_plans",)

    def __init__(self) -> None:
        self._plans: dict[int, _Plan] = {}

    def of(self, slots: tuple[Slot, ...]) -> _Plan:
        plan = self._plans.get(id(slots))
        if plan is None or plan.slots is not slots:
            if len(self._plans) > 512:
                self._plans.clear()
            plan = self._plans[id(slots)] = _Plan(slots)
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
    plans: SlotPlans | None = None,
) -> DayResult:
    """Evaluate one day; ``punches`` are this person's (or their substitute's), sorted.

    ``plans``: the caller's :class:`SlotPlans`, for many days on the same timetables.
    """
    first = punches[0] if punches else None
    last = punches[-1] if punches else None
    if not scheduled or not slots or staff.exempt:
        return DayResult(
            staff.staff_no,
            day,
            day_kind,
            staff.window,
            scheduled and bool(slots) and not staff.exempt,
            first_punch=first,
            last_punch=last,
        )

    plan = plans.of(slots) if plans is not None else _Plan(slots)
    session_days, table, is_in = plan.session_days, plan.table, plan.is_in
    chosen: list[datetime | None] = [None] * len(slots)
    taken: list[int] = [_NONE] * len(slots)  # index in ``kept_all`` of each slot's punch
    # De-bounce: a repeat within the gap is the same punch, so one double punch
    # across a window boundary (12:49:58, 12:50:03) cannot satisfy two slots.
    gap = timedelta(seconds=rules.debounce_seconds)
    kept: datetime | None = None
    kept_slot = _NONE
    kept_all: list[datetime] = []
    for punch in punches:
        if kept is not None and punch - kept <= gap:
            # A repeat is the same punch. For a sign-out the later press is when the person left
            # (a slot's last sign-out counts), so within its slot it replaces the first: else a
            # repeat at 11:29 / 11:30 would make an 11:30 sign-out an early leave, and removing
            # the 11:29 press would make the day cheaper.
            if kept_slot != _NONE and not is_in[kept_slot] and table[punch.hour * 60 + punch.minute] == kept_slot:
                chosen[kept_slot] = kept_all[-1] = punch
            continue
        kept = punch
        kept_all.append(punch)
        i = kept_slot = table[punch.hour * 60 + punch.minute]
        if i == _NONE:
            continue
        if is_in[i]:
            if chosen[i] is None:
                chosen[i], taken[i] = punch, len(kept_all) - 1
        else:
            chosen[i], taken[i] = punch, len(kept_all) - 1
    from_span: set[int] = set()
    if rules.absence_after_minutes is not None and None in chosen and len(kept_all) > sum(t != _NONE for t in taken):
        from_span = _fill_from_span(plan, slots, chosen, taken, kept_all)

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
            ok = tuple(SlotResult(s.name, "ok", p) for s, p in zip(slots, chosen, strict=True))
            return DayResult(staff.staff_no, day, day_kind, staff.window, True, ok, first_punch=first, last_punch=last)
    key = day.isoformat()

    covered = _leave_cover(slots, day, leaves, rules.leave_in_grace_minutes)
    excused_slots = {e.slot for e in exemptions}
    excuse_all = "all" in excused_slots
    exemption_ref = {e.slot: (e.ref or e.reason) for e in exemptions}

    statuses: list[SlotResult] = []
    events: list[Event] = []
    absent_sessions: dict[int, str] = {}
    by_punch: set[int] = set()  # sessions that are 旷工 because of unexcused missing punches
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
                events.append(
                    Event("excused_punch", day, s.name, evidence=f"补卡/说明 {_ex(exemption_ref, s.name)}", ref=ref)
                )
                continue
            statuses.append(SlotResult(s.name, "missing"))
            why = f"{s.word} 无打卡（{_hm(s.accept_from)}–{_hm(s.accept_to)}）"
            if rules.missing_punch == "absence":
                if s.session not in by_punch:  # the missing punch, not a late beyond the threshold, says why
                    absent_sessions[s.session] = why
                    by_punch.add(s.session)
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
            events.append(
                Event(
                    "excused_punch",
                    day,
                    s.name,
                    minutes=off,
                    evidence=f"打卡 {_hms(p)} 已补卡/说明 {_ex(exemption_ref, s.name)}",
                    ref=ref,
                )
            )
            continue
        word = "迟到" if s.kind == "in" else "早退"
        evidence = f"打卡 {_hms(p)}（应 {_hm(s.at)}，{word} {off} 分钟）"
        if i in from_span:
            evidence += f"，在 {_hm(s.accept_from)}–{_hm(s.accept_to)} 打卡时段外、本时段工作时间内"
        if rules.absence_after_minutes is not None and off > rules.absence_after_minutes:
            statuses.append(SlotResult(s.name, "absent", p, off))
            if s.session not in by_punch:
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
            names = "、".join(slots[i].word for i in members)
            absent_sessions[sess] = f"{names} 均无打卡" if any_punch else "全天无打卡"
            by_punch.add(sess)

    for ins in inspections:
        ref = ins.ref or f"{key}/{ins.kind}@{_hm(ins.at)}"
        evidence = (
            f"巡查 {_hm(ins.at)} {ins.kind}"
            + (f" {ins.minutes} 分钟" if ins.minutes else "")
            + (f"：{ins.note}" if ins.note else "")
        )
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
    each = rules.punch_absence == "each"
    for sess in sorted(absent_sessions):
        name = slots[2 * sess].name if 2 * sess < len(slots) else str(sess)
        if each and sess in by_punch:
            # 视同旷工, priced per occurrence: one session, however many of its punches are missing
            none = all(statuses[i].status == "missing" for i in plan.members[sess])
            events.append(
                Event(
                    "punch_absence",
                    day,
                    name,
                    count=1.0,
                    evidence=f"{absent_sessions[sess]}，视同旷工",
                    ref=f"{key}/absence-{sess + 1}",
                    tag="no_punch" if none else "missing_punch",
                )
            )
        else:
            events.append(
                Event(
                    "absence_day",
                    day,
                    name,
                    count=session_days,
                    evidence=absent_sessions[sess],
                    ref=f"{key}/absence-{sess + 1}",
                )
            )

    leave_kind, leave_days = None, 0.0
    by_kind: dict[str, float] = {}
    day_leaves = [lv for lv in leaves if lv.kind != "midday"]
    if day_leaves:
        # A leave counts its kind for every session it touches, in half-day (session) units —
        # the documents' own units for 事假 / 病假 (罗山 第十章 四、3: 请假半天至一天); a shorter
        # absence is 中途请假, recorded as kind "midday". 10:00–15:00 of 事假 is a day of it.
        lead = timedelta(minutes=rules.leave_in_grace_minutes)
        for members in plan.members:
            if not members:
                continue
            lo = datetime.combine(day, slots[members[0]].at) + lead
            hi = datetime.combine(day, slots[members[-1]].at)
            lo = min(lo, hi)
            lv = next((x for x in day_leaves if x.start < hi and x.end > lo), None)
            if lv is not None:
                by_kind[lv.kind] = by_kind.get(lv.kind, 0.0) + session_days
    for lv in leaves:
        if lv.kind == "midday":
            minutes = int((lv.end - lv.start).total_seconds() // 60)
            ref = lv.ref or f"{key}/midday@{_hm(lv.start)}"
            said = f"中途请假 {_hm(lv.start)}–{_hm(lv.end)}（{minutes} 分钟）" + (f" #{lv.ref}" if lv.ref else "")
            events.append(Event("midday_leave", day, None, minutes=minutes, evidence=said, ref=ref))
            if rules.midday_leave_long_minutes is not None and minutes > rules.midday_leave_long_minutes:
                events.append(
                    Event(
                        "midday_leave_long",
                        day,
                        None,
                        minutes=minutes,
                        evidence=f"{said} 超过 {rules.midday_leave_long_minutes} 分钟",
                        ref=ref,
                    )
                )
    for k, days in by_kind.items():
        lv = next(x for x in leaves if x.kind == k)
        kind = {"personal": "personal_leave_day", "sick": "sick_leave_day"}.get(k, "other_leave_day")
        evidence = f"{LEAVE_WORDS.get(k, k)} {lv.start:%m-%d %H:%M}–{lv.end:%m-%d %H:%M}" + (
            f" #{lv.ref}" if lv.ref else ""
        )
        events.append(Event(kind, day, None, count=days, evidence=evidence, ref=f"{key}/leave-{k}", tag=k))
        leave_days += days
        if leave_kind is None or days > by_kind.get(leave_kind, 0):
            leave_kind = k
    absent_days = session_days * len(absent_sessions)
    return DayResult(
        staff.staff_no,
        day,
        day_kind,
        staff.window,
        True,
        tuple(statuses),
        tuple(events),
        leave_kind,
        leave_days,
        absent_days,
        first,
        last,
    )


def _ex(refs: Mapping[str, str], slot: str) -> str:
    r = refs.get(slot) or refs.get("all") or ""
    return f"#{r}" if r else ""


def _leave_cover(slots: tuple[Slot, ...], day: date, leaves: Sequence[Leave], in_grace: int = 0) -> list[Leave | None]:
    """The leave that covers each slot's check: one that runs over its due time — for an in-slot,
    one that starts up to ``in_grace`` minutes after it (work starting at 9:00, sign-in due 8:55)."""
    out: list[Leave | None] = [None] * len(slots)
    if not leaves:
        return out
    lead = timedelta(minutes=in_grace)
    for i, s in enumerate(slots):
        due = datetime.combine(day, s.at)
        latest_start = due + lead if s.kind == "in" else due
        for lv in leaves:
            if lv.start <= latest_start and due <= lv.end:
                out[i] = lv
                break
    return out


def _fill_from_span(
    plan: _Plan, slots: tuple[Slot, ...], chosen: list[datetime | None], taken: list[int], kept: list[datetime]
) -> set[int]:
    """Let punches no slot took stand in for a session's missing punches (三江 一、1: 迟到早退超过
    1.5小时的按旷工处理 — an acceptance window must not turn such a late into a missing punch).

    A spare punch counts for a session when it falls strictly between the session's in- and
    out-slot due times: the first one before the out-slot's punch is a late arrival, the last
    one after the in-slot's punch an early departure; a lone spare punch in a session with
    neither punch goes to the nearer due time. Returns the slots so filled.
    """
    used = {t for t in taken if t != _NONE}
    filled: set[int] = set()
    for members in plan.members:
        if len(members) != 2:
            continue
        a, b = members
        got_in, got_out = chosen[a], chosen[b]
        if got_in is not None and got_out is not None:
            continue
        lo, hi = slots[a].at_min, slots[b].at_min
        spare = [j for j, p in enumerate(kept) if j not in used and lo < p.hour * 60 + p.minute < hi]
        if not spare:
            continue
        pick_in = pick_out = _NONE
        if got_in is not None:  # the out-slot's punch is missing: an early departure
            after = [j for j in spare if kept[j] > got_in]
            pick_out = after[-1] if after else _NONE
        elif got_out is not None:  # the in-slot's punch is missing: a late arrival
            before = [j for j in spare if kept[j] < got_out]
            pick_in = before[0] if before else _NONE
        elif len(spare) == 1:
            m = kept[spare[0]].hour * 60 + kept[spare[0]].minute
            if m - lo <= hi - m:
                pick_in = spare[0]
            else:
                pick_out = spare[0]
        else:
            pick_in, pick_out = spare[0], spare[-1]
        for i, j in ((a, pick_in), (b, pick_out)):
            if j != _NONE:
                chosen[i], taken[i] = kept[j], j
                used.add(j)
                filled.add(i)
    return filled


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
