"""Why a result is what it is: one person's period, day by day, as the rules decided it.

For every day: its kind (workday, rest, holiday, make-up workday), every check slot's due time
and acceptance window, the punch the rules chose for it and the punches they passed over
(repeats within the debounce, punches outside every window), the decision (on time, late N
minutes, early, missing, excused, leave, absent, covered by a substitute), and each deduction
with its points, its evidence and the clause of the preset's document that prices it. Then the
period's totals, score and eligibility findings.

The console's ``/staff/{staff_no}/{period}`` page and ``attendd explain`` show this same account;
it is computed here, from the store and the rules, and nowhere else.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

import rules
from rules import Period

from .bulletin import labels
from .config import Config
from .errors import UserError
from .store import Store
from .store.corrections import manual_punches
from .store.models import punch_table, staff_table

DAY_WORDS = {"workday": "工作日", "rest": "休息日", "holiday": "节假日", "makeup": "调休上班日", "duty": "值班"}
STATUS_WORDS = {
    "ok": "正常",
    "late": "迟到",
    "early": "早退",
    "missing": "缺卡",
    "excused": "已补卡/说明",
    "leave": "请假",
    "absent": "旷工",
}


@dataclass
class SlotLine:
    slot: str
    slot_word: str
    kind: str  # in | out
    due: time
    accept_from: time
    accept_to: time
    punch: datetime | None
    status: str
    minutes: int
    manual_id: int | None = None  # the chosen punch is this correction (补签), not a terminal's

    @property
    def decision(self) -> str:
        return self._decision() + ("（补签）" if self.manual_id is not None else "")

    def _decision(self) -> str:
        word = STATUS_WORDS.get(self.status, self.status)
        if self.status in ("late", "early") or (self.status == "absent" and self.minutes):
            verb = "迟到" if self.kind == "in" else "早退"
            return f"{word}（{verb} {self.minutes} 分钟）" if self.status == "absent" else f"{word} {self.minutes} 分钟"
        return word


@dataclass
class DeductionLine:
    rule: str
    rule_word: str
    points: float
    evidence: str
    clause: str
    ref: str
    slot: str | None


@dataclass
class DayAccount:
    day: date
    day_kind: str
    day_word: str
    scheduled: bool
    slots: list[SlotLine] = field(default_factory=list)
    ignored: list[datetime] = field(default_factory=list)
    deductions: list[DeductionLine] = field(default_factory=list)
    events: list[str] = field(default_factory=list)  # what happened that costs nothing (leave, excused …)
    covered_by: str | None = None
    leave: str | None = None
    #: the day's corrections (补签), active and withdrawn: id, at, reason, evidence, by, created_utc,
    #: withdrawn (bool), withdrawn_by / _utc / _reason, version
    corrections: list[dict[str, Any]] = field(default_factory=list)

    @property
    def points(self) -> float:
        return round(sum(d.points for d in self.deductions), 6)

    @property
    def status(self) -> str:
        return day_status(self.scheduled, self.day_kind, (s.status for s in self.slots))


#: The worst first: what colours a day in the grids.
_WORST_FIRST = ("absent", "missing", "late", "early", "leave", "excused", "ok")


def day_status(scheduled: bool, day_kind: str, slot_statuses: Iterable[str]) -> str:
    """One word for a day, for the grids' colours: the worst of its slots' statuses."""
    if not scheduled:
        return "rest" if day_kind in ("rest", "holiday") else "not_scheduled"
    found = set(slot_statuses)
    return next((o for o in _WORST_FIRST if o in found), "ok")


@dataclass
class StaffAccount:
    staff_no: str
    name: str
    window: str
    window_name: str
    policy: str
    document: str
    period: Period
    days: list[DayAccount]
    result: rules.StaffPeriodResult
    period_deductions: list[DeductionLine]

    def as_json(self) -> dict[str, Any]:
        """The account as plain JSON (``attendd explain --format json``, the API)."""

        def iso(v: Any) -> Any:
            if isinstance(v, (datetime, date, time)):
                return v.isoformat()
            return v

        return {
            "staff_no": self.staff_no,
            "name": self.name,
            "window": self.window,
            "window_name": self.window_name,
            "policy": self.policy,
            "document": self.document,
            "period": self.period.key,
            "days": [
                {
                    "day": d.day.isoformat(),
                    "kind": d.day_kind,
                    "scheduled": d.scheduled,
                    "covered_by": d.covered_by,
                    "leave": d.leave,
                    "slots": [
                        {
                            "slot": s.slot,
                            "due": iso(s.due),
                            "accept": [iso(s.accept_from), iso(s.accept_to)],
                            "punch": iso(s.punch),
                            "status": s.status,
                            "minutes": s.minutes,
                            "decision": s.decision,
                            "manual_id": s.manual_id,
                        }
                        for s in d.slots
                    ],
                    "ignored_punches": [iso(p) for p in d.ignored],
                    "corrections": [{k: iso(v) for k, v in c.items()} for c in d.corrections],
                    "deductions": [_deduction_json(x) for x in d.deductions],
                    "notes": d.events,
                }
                for d in self.days
            ],
            "period_deductions": [_deduction_json(x) for x in self.period_deductions],
            "totals": {
                "scheduled_days": self.result.scheduled_days,
                "present_days": self.result.present_days,
                "late_count": self.result.late_count,
                "early_count": self.result.early_count,
                "missing_punches": self.result.missing_punches,
                "absent_days": self.result.absent_days,
                "deduction_points": self.result.deduction_points,
                "max_points": self.result.max_points,
                "attendance_score": self.result.attendance_score,
                "grade": self.result.grade,
                "disqualified": self.result.disqualified,
                "disqualify_reasons": list(self.result.disqualify_reasons),
            },
        }


def _deduction_json(x: DeductionLine) -> dict[str, Any]:
    return {
        "rule": x.rule,
        "rule_word": x.rule_word,
        "points": x.points,
        "evidence": x.evidence,
        "clause": x.clause,
        "ref": x.ref,
    }


def clause_of(policy: rules.Policy, rule: str) -> str:
    """The words of the preset's document that price ``rule`` (``[clauses]`` in the preset), or
    the document's name when the preset quotes no clause for it."""
    clauses = getattr(policy, "clauses", None) or {}
    return clauses.get(rule) or policy.source or ""


def day_kind_of(calendar: rules.WorkCalendar, day: date) -> str:
    kind = calendar.day_kind(day)
    if kind == "workday" and day.weekday() >= 5:
        return "makeup"
    return kind


def explain_staff(
    store: Store, config: Config, staff_no: str, period: Period, *, as_of: datetime | None = None
) -> StaffAccount:
    """The day-by-day account of ``staff_no`` over ``period``; UserError if nobody has that number."""
    from .period_results import compile_rules, evaluate

    with store.reading() as conn:
        person = conn.execute(staff_table.select().where(staff_table.c.staff_no == staff_no)).mappings().first()
    if person is None:
        raise UserError(f"staff {staff_no!r}: not in the roster")
    ev = evaluate(store, config, period, as_of=as_of, only=[staff_no])
    timetables, policies, names, calendar = compile_rules(config)
    window = next((w for w in config.windows if w.code == person["window_code"]), None)
    policy = policies.get(window.code) if window else None
    result = next((s for s in ev.staff if s.staff_no == staff_no), None)
    if window is None or policy is None or result is None:
        raise UserError(f"staff {staff_no!r}: window {person['window_code']!r} is not in the config")
    timetable = timetables[window.timetable]

    lo = datetime.combine(period.start, time())
    hi = datetime.combine(period.end, time())
    pt = punch_table
    with store.reading() as conn:
        raw = [
            r[0]
            for r in conn.execute(
                pt.select()
                .with_only_columns(pt.c.punched_at)
                .where(pt.c.pin == staff_no, pt.c.punched_at >= lo, pt.c.punched_at < hi)
                .order_by(pt.c.punched_at)
            )
        ]
    by_day: dict[date, list[datetime]] = {}
    for p in raw:
        by_day.setdefault(p.date(), []).append(p)
    # 补签: the chosen punch at a correction's time is the correction (unless a terminal has it too)
    corrections_of: dict[date, list[dict[str, Any]]] = {}
    manual_at: dict[datetime, int] = {}
    terminal_at = set(raw)
    for m in manual_punches(store, staff_no=staff_no, start=lo, end=hi):
        withdrawn = m["withdrawn_utc"] is not None
        corrections_of.setdefault(m["punched_at"].date(), []).append(
            {
                "id": m["id"],
                "at": m["punched_at"],
                "reason": m["reason"],
                "evidence": m["evidence"],
                "by": m["by"],
                "created_utc": m["created_utc"],
                "withdrawn": withdrawn,
                "withdrawn_by": m["withdrawn_by"],
                "withdrawn_utc": m["withdrawn_utc"],
                "withdrawn_reason": m["withdrawn_reason"],
                "version": m["version"],
            }
        )
        if not withdrawn and m["punched_at"] not in terminal_at:
            manual_at.setdefault(m["punched_at"], m["id"])

    points_of = {(x.ref, x.rule): x for x in result.deductions}
    days: list[DayAccount] = []
    for d in ev.days.get(staff_no, []):
        if not (period.start <= d.day < period.end):
            continue
        kind = "duty" if d.day_kind == "duty" else day_kind_of(calendar, d.day)  # a duty rota's day (值班)
        acc = DayAccount(
            d.day,
            kind,
            DAY_WORDS.get(kind, kind),
            d.scheduled,
            covered_by=d.covered_by,
            leave=labels.LEAVE_KINDS.get(d.leave_kind, d.leave_kind) if d.leave_kind else None,
            corrections=corrections_of.get(d.day, []),
        )
        slot_defs = {s.name: s for s in timetable.slots_on(d.day)}
        chosen = set()
        for r in d.slots:
            s = slot_defs.get(r.slot)
            if s is None:
                continue
            acc.slots.append(
                SlotLine(
                    r.slot,
                    s.word,  # the timetable's label (上午签到 …), as in the evidence
                    s.kind,
                    s.at,
                    s.accept_from,
                    s.accept_to,
                    r.punch,
                    r.status,
                    r.minutes,
                    manual_at.get(r.punch) if r.punch is not None else None,
                )
            )
            if r.punch is not None:
                chosen.add(r.punch)
        acc.ignored = [p for p in by_day.get(d.day, []) if p not in chosen]  # terminals' punches only
        for e in d.events:
            x = points_of.get((e.ref, e.kind))
            if x is not None and x.points:
                acc.deductions.append(
                    DeductionLine(
                        x.rule,
                        labels.rule(x.rule),
                        x.points,
                        x.evidence or e.evidence,
                        clause_of(policy, x.rule),
                        x.ref,
                        x.slot,
                    )
                )
            else:
                acc.events.append(f"{labels.rule(e.kind)}：{e.evidence}" if e.evidence else labels.rule(e.kind))
        days.append(acc)
    in_days = {(x.ref, x.rule) for a in days for x in a.deductions}
    period_lines = [
        DeductionLine(x.rule, labels.rule(x.rule), x.points, x.evidence, clause_of(policy, x.rule), x.ref, x.slot)
        for x in result.deductions
        if (x.ref, x.rule) not in in_days and x.points
    ]
    return StaffAccount(
        staff_no,
        person["name"],
        window.code,
        names.get(window.code, window.code),
        window.policy,
        policy.source or policy.title or "",
        period,
        days,
        result,
        period_lines,
    )
