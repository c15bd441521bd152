"""The records the rules read and the results they produce.

Plain frozen dataclasses: the daemon builds the inputs from its store and
the clerk's imports; the rules never touch a database, a file or a clock.
All times are naive local wall-clock times of the site.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal, NamedTuple, get_args

LeaveKind = Literal[
    "personal",
    "sick",
    "annual",
    "official",
    "marriage",
    "maternity",
    "injury",
    "bereavement",
    "midday",
    "in_lieu",  # 调休: time off owed for extra hours worked; priced as other leave (nothing in any preset)
    "business_trip",  # 出差: official business away from the centre; on duty, like 公假 (official)
]
LEAVE_KINDS: tuple[str, ...] = get_args(LeaveKind)
#: Leave kinds that are duty elsewhere, not absence: a period spent wholly on them is ``exempt_duty``.
ON_DUTY_LEAVE: tuple[str, ...] = ("official", "business_trip")
#: The leave kinds as the documents write them (公伤 as 罗山's 第十五条 has it); the one table the
#: rules' evidence and the bulletin's labels both use.
LEAVE_WORDS: dict[str, str] = {
    "personal": "事假",
    "sick": "病假",
    "annual": "年休假",
    "official": "公假",
    "marriage": "婚假",
    "maternity": "产假",
    "injury": "公伤假",
    "bereavement": "丧假",
    "midday": "中途请假",
    "in_lieu": "调休",
    "business_trip": "出差",
}
InspectionKind = Literal["off_post", "roaming", "sleeping", "unrelated_activity"]
INSPECTION_KINDS: tuple[str, ...] = ("off_post", "roaming", "sleeping", "unrelated_activity")
DayKind = Literal["workday", "rest", "holiday", "duty"]

#: Every kind of event a deduction can be for. Policies give points per kind.
EVENT_KINDS: tuple[str, ...] = (
    "late",
    "serious_late",
    "early",
    "missing_punch",
    "excused_punch",  # a late / early / missing punch excused by an exemption: never scored
    "absence_day",  # counted in days: 0.5 for a half-day session
    # 旷工 of a session made by unexcused missing punches, priced per occurrence (each session)
    # where the policy says day.punch_absence = "each" (罗山 附件1 视同旷工 … 每人每次扣10分); its
    # tag is "missing_punch" (one punch missing) or "no_punch" (the session has no punch)
    "punch_absence",
    "personal_leave_day",
    "sick_leave_day",
    "other_leave_day",
    "midday_leave",
    "midday_leave_long",
    "midday_leave_over_quota",
    "leave_over_limit",
    "off_post",
    "roaming",
    "sleeping",
    "unrelated_activity",
    "chief_offsite",
)


@dataclass(frozen=True, slots=True)
class Staff:
    """A window officer; ``staff_no`` is the PIN enrolled on terminals."""

    staff_no: str
    name: str
    window: str
    role: Literal["chief", "staff"] = "staff"
    active_from: date | None = None
    active_to: date | None = None
    exempt: bool = False  # e.g. a leader the centre does not score

    def active_on(self, day: date) -> bool:
        return (self.active_from is None or day >= self.active_from) and (
            self.active_to is None or day <= self.active_to
        )


@dataclass(frozen=True, slots=True)
class Leave:
    """Approved leave from ``start`` to ``end`` (both local times)."""

    staff_no: str
    kind: str
    start: datetime
    end: datetime
    ref: str = ""  # the clerk's record id, quoted as evidence
    note: str = ""


@dataclass(frozen=True, slots=True)
class Exemption:
    """补卡 / 情况说明: a justified missing or late punch; ``slot`` may be ``all``."""

    staff_no: str
    day: date
    slot: str
    reason: str = ""
    ref: str = ""


@dataclass(frozen=True, slots=True)
class Inspection:
    """A duty officer's finding on patrol (巡查)."""

    staff_no: str
    at: datetime
    kind: str
    minutes: int = 0
    note: str = ""
    ref: str = ""


@dataclass(frozen=True, slots=True)
class Substitution:
    """顶岗: ``substitute_no`` covers ``covered_no``'s post on these days."""

    substitute_no: str
    covered_no: str
    start: date
    end: date
    ref: str = ""


@dataclass(frozen=True, slots=True)
class DutyAssignment:
    """值班: a window or a person works ``day`` (a weekend or holiday) on ``timetable``."""

    day: date
    timetable: str
    window: str | None = None
    staff_no: str | None = None


@dataclass(frozen=True, slots=True)
class DutyRule:
    """A standing duty rota: a window (or one person) works the days that match
    on ``timetable`` — e.g. the police window every weekend and holiday
    (``day_kinds={"rest", "holiday"}``), or a rotating Sunday (``weekdays={6}``
    with a start and end, or ``every_weeks``). Empty filters match every day.

    ``every_weeks`` (a rotation of N people, one rule each): the rule matches only in every N-th
    week counted from ``start`` (the week of ``start`` is the rule's first), so the rules of a
    rotation start on consecutive weeks."""

    timetable: str
    window: str | None = None
    staff_no: str | None = None
    day_kinds: frozenset[str] = frozenset()
    weekdays: frozenset[int] = frozenset()  # 0 = Monday … 6 = Sunday
    start: date | None = None
    end: date | None = None
    every_weeks: int = 1

    def matches(self, day: date, day_kind: str) -> bool:
        return (
            (not self.day_kinds or day_kind in self.day_kinds)
            and (not self.weekdays or day.weekday() in self.weekdays)
            and (self.start is None or day >= self.start)
            and (self.end is None or day <= self.end)
            and (self.every_weeks <= 1 or self.start is None or ((day - self.start).days // 7) % self.every_weeks == 0)
        )


# --- results --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Event:
    """Something that may cost points, with what caused it (the evidence)."""

    kind: str
    day: date
    slot: str | None = None
    count: float = 1.0  # e.g. 0.5 for half a day of leave
    minutes: int = 0
    evidence: str = ""
    ref: str = ""  # stable reference: "2026-03-02/am_in", an inspection id, "period"
    tag: str = ""  # sub-kind, e.g. the leave kind of an other_leave_day


class SlotResult(NamedTuple):
    """How one check slot of one day turned out (a tuple: a year of a thousand
    staff makes a million of these)."""

    slot: str
    status: str  # ok | late | early | missing | excused | leave | absent
    punch: datetime | None = None
    minutes: int = 0


@dataclass(slots=True, eq=True)
class DayResult:
    """One staff member's day: what happened in each slot and the events it produced.

    Not frozen only because frozen dataclasses pay for immutability on every
    construction; nothing changes a DayResult after :func:`evaluate_day`.
    """

    staff_no: str
    day: date
    day_kind: str
    window: str
    scheduled: bool
    slots: tuple[SlotResult, ...] = ()
    events: tuple[Event, ...] = ()
    leave_kind: str | None = None
    leave_days: float = 0.0
    absent_days: float = 0.0
    first_punch: datetime | None = None
    last_punch: datetime | None = None
    covered_by: str | None = None  # 顶岗: the substitute whose punches count for this day

    def count(self, kind: str) -> float:
        return sum(e.count for e in self.events if e.kind == kind)

    @property
    def present(self) -> bool:
        """Scheduled and at the post for at least part of the day."""
        return self.scheduled and any(s.status in ("ok", "late", "early", "excused") for s in self.slots)


@dataclass(frozen=True, slots=True)
class Deduction:
    """Points off the category for one event (or one period rule), with evidence."""

    staff_no: str
    rule: str
    ref: str
    points: float
    day: date | None = None
    slot: str | None = None
    evidence: str = ""
    note: str = ""


@dataclass(slots=True)
class StaffPeriodResult:
    """One staff member's result for a period (SPEC §4.4 att_staff_period)."""

    staff_no: str
    window: str
    policy: str
    period_kind: str
    period_key: str
    scheduled_days: int = 0
    present_days: int = 0
    late_count: int = 0
    early_count: int = 0
    missing_punches: int = 0
    excused_punches: int = 0
    absent_days: float = 0.0
    personal_leave_days: float = 0.0
    sick_leave_days: float = 0.0
    other_leave_days: float = 0.0
    midday_leave_count: int = 0
    off_post_count: int = 0
    deduction_points: float = 0.0
    max_points: float = 0.0
    attendance_score: float = 0.0
    grade: str | None = None
    disqualified: bool = False
    disqualify_reasons: list[str] = field(default_factory=list)
    no_excellent_reasons: list[str] = field(default_factory=list)
    deductions: list[Deduction] = field(default_factory=list)
    in_assessment: bool = True
    #: Why the person is not assessed in this period (``in_assessment`` False):
    #: ``exempt``, ``inactive`` (not yet joined / left), ``exempt_duty`` (every
    #: scheduled day excused or on official duty), ``no_workday``, ``joined_late``.
    not_assessed: str | None = None
    #: A note on the grade that is not a finding against the person, e.g. the
    #: 优秀 quota being full (a quota is not a penalty).
    grade_note: str | None = None


@dataclass(slots=True)
class WindowPeriodResult:
    """A window's result for a period (SPEC §4.4 att_window_period)."""

    window: str
    window_name: str
    period_kind: str
    period_key: str
    staff_count: int = 0
    attendance_score: float = 0.0
    max_points: float = 0.0
    rank: int = 0
    red_flag: bool = False
    chief_onsite_ratio: float | None = None
    deductions: list[Deduction] = field(default_factory=list)
    ranking_group: str = ""
    staff_days: int = 0  # scheduled staff-days of its assessed staff (the weighted mean's weight)

    @property
    def score_ratio(self) -> float:
        """The score as a fraction of the maximum: what windows are ranked on."""
        return round(self.attendance_score / self.max_points, 9) if self.max_points else 0.0


@dataclass(frozen=True, slots=True)
class RankingGroup:
    """Windows ranked against one another (default: the whole centre, ``name`` "").

    The documents award 流动红旗 on the whole assessment, of which attendance
    is one part, so by default a group gets an attendance ranking and no
    flags (``flags_on = "none"``). With ``flags_on = "attendance"`` the top
    ``red_flags`` windows of the attendance ranking are flagged (``None``: the
    count the windows' policy gives); windows tied at the boundary are all
    left out when flagging them all would exceed the count (``ties =
    "exclude"``) or all flagged (``ties = "share"``). A window with a score of
    0 or no scheduled staff-days is never flagged.
    """

    name: str = ""
    title: str = ""
    flags_on: Literal["none", "attendance"] = "none"
    red_flags: int | None = None
    ties: Literal["exclude", "share"] = "exclude"
