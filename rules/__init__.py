"""Attendance rules: pure functions and data, no I/O, no clock reads.

calendar (workdays), timetable (check slots), day (one staff member's day),
policy (deduction schemes and presets), period (scores, grades, windows),
engine (a whole period for a whole centre), assessment (the whole assessment
of which attendance is one category: totals, ranking, red flags, notices).
"""

from .assessment import (
    Assessed,
    Assessment,
    AttendanceScore,
    CategoryResult,
    CategoryScore,
    Notice,
    Record,
    Scheme,
    Subject,
    assess,
    check_record,
    notices,
)
from .calendar import WorkCalendar
from .day import evaluate_day
from .engine import Evaluation, Inputs, evaluate_days, evaluate_period
from .errors import CalendarUnknown, RulesError
from .model import (
    LEAVE_WORDS,
    DayResult,
    Deduction,
    DutyAssignment,
    DutyRule,
    Event,
    Exemption,
    Inspection,
    Leave,
    RankingGroup,
    SlotResult,
    Staff,
    StaffPeriodResult,
    Substitution,
    WindowPeriodResult,
)
from .period import Period, parse_period, period_of, periods_in, score_staff, score_windows
from .policy import Policy, build_policy, resolve_policy
from .presets import PRESETS, load_preset
from .timetable import Slot, Timetable, build_slots, build_timetable

__all__ = [
    "Assessed",
    "Assessment",
    "AttendanceScore",
    "CalendarUnknown",
    "CategoryResult",
    "CategoryScore",
    "DayResult",
    "Deduction",
    "DutyAssignment",
    "DutyRule",
    "Evaluation",
    "Event",
    "Exemption",
    "Inputs",
    "Inspection",
    "Leave",
    "LEAVE_WORDS",
    "Notice",
    "PRESETS",
    "Period",
    "Policy",
    "RankingGroup",
    "Record",
    "RulesError",
    "Scheme",
    "Slot",
    "SlotResult",
    "Staff",
    "StaffPeriodResult",
    "Subject",
    "Substitution",
    "Timetable",
    "WindowPeriodResult",
    "WorkCalendar",
    "assess",
    "build_policy",
    "build_slots",
    "build_timetable",
    "check_record",
    "evaluate_day",
    "evaluate_days",
    "evaluate_period",
    "load_preset",
    "notices",
    "parse_period",
    "period_of",
    "periods_in",
    "resolve_policy",
    "score_staff",
    "score_windows",
]
