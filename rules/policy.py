"""Policies: a deduction scheme as data, validated with key paths.

A policy says how many points each kind of event costs, the category's
maximum and what happens beyond it (扣完为止 cap, or 倒扣 carry), how
counted events convert (10 lates → half a day of absence), allowances
(midday leave beyond 6 a quarter), leave limits (personal + sick leave over
15 days a year), disqualification rules, grade bands, and the assessment
period. Presets (``rules/presets/*.toml``) transcribe the seed documents;
a window's policy names a preset and overrides any value.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .assessment import Assessment
from .errors import RulesError
from .model import EVENT_KINDS, LEAVE_KINDS

PeriodKind = Literal["week", "month", "quarter", "half", "year"]
PERIOD_ORDER = {"week": 0, "month": 1, "quarter": 2, "half": 3, "year": 4}

#: What disqualification and allowance rules can count (SPEC §4.4 names).
MEASURES = (
    "late_count",
    "early_count",
    "serious_late_count",
    "missing_punches",
    "absent_days",
    # away from the post for any reason, in workdays: 旷工, leave (but the rule's excluded_leave
    # kinds) and days covered by a substitute (顶岗), at most one a day (罗山 第十五条)
    "absence_any_days",
    "absence_count",  # separate occurrences of absence (a day or half-day each)
    "full_day_absences",  # days absent for the whole day
    "personal_leave_days",
    "sick_leave_days",
    "midday_leave_count",
    "off_post_count",
    "roaming_count",
    "sleeping_count",
    "unrelated_activity_count",
)


def _known(names: tuple[str, ...], what: str) -> Callable[[list[str]], list[str]]:
    """A validator of a list of names, each one of ``names``."""

    def check(value: list[str]) -> list[str]:
        for k in value:
            if k not in names:
                raise ValueError(f"unknown {what} {k!r}")
        return value

    return check


EventKinds = Annotated[list[str], AfterValidator(_known(EVENT_KINDS, "event kind"))]
LeaveKinds = Annotated[list[str], AfterValidator(_known(LEAVE_KINDS, "leave kind"))]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Points(_Model):
    """Points off per event (per day for ``*_day`` kinds); absent = not scored."""

    late: float | None = None
    serious_late: float | None = None
    early: float | None = None
    missing_punch: float | None = None
    absence_day: float | None = None  # per day of absence; half a day costs half
    punch_absence: float | None = None  # per session made 旷工 by missing punches (day.punch_absence = "each")
    personal_leave_day: float | None = None
    sick_leave_day: float | None = None
    other_leave_day: float | None = None
    midday_leave: float | None = None
    midday_leave_long: float | None = None
    midday_leave_over_quota: float | None = None
    off_post: float | None = None
    roaming: float | None = None
    sleeping: float | None = None
    unrelated_activity: float | None = None
    chief_offsite: float | None = None

    @model_validator(mode="after")
    def _non_negative(self) -> Points:
        for k, v in self.model_dump().items():
            if v is not None and v < 0:
                raise ValueError(f"{k}: points must be 0 or more")
        return self

    def of(self, kind: str) -> float | None:
        return getattr(self, kind, None)


class DayRules(_Model):
    """How a day's punches become events."""

    grace_minutes: int = Field(0, ge=0, le=240)  # late / early only beyond this (added to a slot's own grace)
    serious_late_minutes: int | None = Field(None, ge=1)  # late beyond this is a serious late
    absence_after_minutes: int | None = Field(None, ge=1)  # late / early beyond this: absence of the session
    missing_punch: Literal["absence", "event"] = "absence"
    # How a session that is 旷工 because of unexcused missing punches (both missing; or one, with
    # missing_punch = "absence") is priced: "by_day" — as absence_day for its share of a day;
    # "each" — one punch_absence event per session at points.punch_absence, so that a session
    # with no punch never costs less than one with a single missing punch. Either way it is 旷工
    # in the tallies (absent_days: its share of a day; absence_count).
    punch_absence: Literal["by_day", "each"] = "by_day"
    # A leave that starts up to this many minutes after an in-slot's due time still covers that
    # check, and a session's work starts this long after its in-slot's due time (罗山 第十章 一:
    # work from 9:00, sign-in due by 8:55, so a leave from 9:00 covers the morning sign-in).
    leave_in_grace_minutes: int = Field(0, ge=0, le=60)
    debounce_seconds: int = Field(60, ge=0, le=3600)
    off_post_absence_after_minutes: int | None = Field(None, ge=1)
    midday_leave_long_minutes: int | None = Field(None, ge=1)
    exemption_quota_per_month: int | None = Field(None, ge=0)


class Conversion(_Model):
    """Every ``every`` events of the kinds in ``from`` within a ``per`` window add
    ``amount`` of the ``to`` event (e.g. 0.5 day of absence). The counted events
    keep their own points: a conversion never makes one more event cheaper."""

    from_: EventKinds = Field(alias="from", min_length=1)
    every: int = Field(ge=1)
    to: str
    amount: float = Field(1.0, gt=0)
    per: PeriodKind = "month"

    @field_validator("to")
    @classmethod
    def _to(cls, v: str) -> str:
        if v not in EVENT_KINDS:
            raise ValueError(f"unknown event kind {v!r}")
        return v


class Allowance(_Model):
    """The first ``free`` events of ``event`` in each ``per`` window cost nothing extra;
    each one beyond costs ``points`` (as the ``rule`` event kind)."""

    event: str
    free: int = Field(ge=0)
    per: PeriodKind
    points: float = Field(ge=0)
    rule: str = "midday_leave_over_quota"


class LeaveLimit(_Model):
    """Leave of ``kinds`` beyond ``over`` days in a ``per`` window costs ``points`` once."""

    kinds: LeaveKinds = Field(min_length=1)
    over: float = Field(ge=0)
    per: PeriodKind = "year"
    points: float = Field(ge=0)


class Disqualify(_Model):
    """A count over a window that disqualifies (or bars the top grade)."""

    measure: list[str] = Field(min_length=1)  # summed
    op: Literal[">", ">="] = ">="
    value: float
    per: PeriodKind
    effect: Literal["disqualified", "no_excellent"] = "disqualified"
    reason: str
    # The longest period the finding applies to ("当季" → "quarter"): a longer period (the year)
    # neither counts the rule nor carries its findings from its parts. None: every period.
    applies_to: PeriodKind | None = None
    # Leave kinds the absence_any_days measure leaves out (罗山 第十五条: 公伤、婚假、产假人员按有关规定办理).
    excluded_leave: LeaveKinds = ["injury", "marriage", "maternity"]

    @field_validator("measure")
    @classmethod
    def _measures(cls, v: list[str]) -> list[str]:
        for m in v:
            if m not in MEASURES:
                raise ValueError(f"unknown measure {m!r}; known: {', '.join(MEASURES)}")
        return v


class Grade(_Model):
    name: str
    min_percent: float = Field(ge=0, le=100)


class WindowRules(_Model):
    """How staff results make a window's result."""

    aggregate: Literal["weighted_mean", "sum_of_staff"] = "weighted_mean"
    weight: float = Field(1.0, gt=0)  # window score = aggregate × weight
    red_flags: int = Field(0, ge=0)  # top N windows of the ranking period
    chief_onsite_min: float | None = Field(None, gt=0, le=1)  # chief present at least this share of workdays
    chief_offsite_points: float | None = Field(None, ge=0)  # else: this off the window's total, per month


class Policy(_Model):
    """A complete deduction scheme (a preset with its overrides applied)."""

    name: str
    title: str = ""
    source: str = ""  # seed document
    subject: Literal["staff", "window"] = "staff"
    category: str
    max_points: float = Field(gt=0)
    overflow: Literal["cap", "carry"] = "cap"
    period: PeriodKind
    bulletin: PeriodKind = "month"
    points: Points = Points()
    day: DayRules = DayRules()
    conversions: list[Conversion] = []
    allowances: list[Allowance] = []
    leave_limits: list[LeaveLimit] = []
    disqualify: list[Disqualify] = []
    grades: list[Grade] = []
    #: What the document's grade bands grade: the attendance category itself
    #: ("attendance"), or the whole assessment ("total", e.g. 罗山 第十二条 grades
    #: the 100-point 考核), in which case attendd, having only attendance, grades
    #: nobody (``grade`` NULL) and keeps only the eligibility findings.
    grades_on: Literal["attendance", "total"] = "attendance"
    excellent_quota_percent: float | None = Field(None, gt=0, le=100)
    min_months_in_year: int | None = Field(None, ge=1, le=12)  # to be in the annual assessment
    window: WindowRules = WindowRules()
    timetable: dict[str, Any] | None = None  # the document's own hours, for reference and tests
    # the words of the document that price each rule (rule key → clause), shown beside every deduction
    clauses: dict[str, str] = {}
    #: The whole assessment of the document (issue 18): its categories, of which this policy's is the
    #: attendance one, bonus, 倒扣, ranking, red flags, grades, notices and honours (rules.assessment).
    assessment: Assessment | None = None

    @field_validator("clauses")
    @classmethod
    def _clauses(cls, v: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        # A rule is an event kind (points, conversions) or the rule an allowance charges as
        # (leave_over_limit and chief_offsite are event kinds too). Unless the allowances failed
        # validation themselves (their own problem is reported), an unknown key is refused.
        allowances: list[Allowance] | None = info.data.get("allowances")
        known = EVENT_KINDS + tuple(a.rule for a in allowances or () if a.rule not in EVENT_KINDS)
        for k, text in v.items():
            if allowances is not None and k not in known:
                raise ValueError(f"unknown rule {k!r}; known: {', '.join(known)}")
            if not text.strip():
                raise ValueError(f"{k}: the clause must not be empty")
        return v

    @model_validator(mode="after")
    def _grades_descending(self) -> Policy:
        mins = [g.min_percent for g in self.grades]
        if mins != sorted(mins, reverse=True):
            raise ValueError("grades must be listed from the highest band down")
        return self


def _merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if "." in key:  # "points.late = 2" in an override
            head, rest = key.split(".", 1)
            inner = out.get(head)
            out[head] = _merge(inner if isinstance(inner, Mapping) else {}, {rest: value})
        elif isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(dict(out[key]), value)
        else:
            out[key] = value
    return out


def _path(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts[-1] = f"{parts[-1]}[{item}]" if parts else f"[{item}]"
        else:
            parts.append("from" if item == "from_" else str(item))
    return ".".join(parts)


def _keys_at(loc: tuple[int | str, ...]) -> list[str]:
    """The keys the policy table accepts at ``loc`` (a location inside :class:`Policy`), for "did you mean"."""
    tp: Any = Policy
    for part in loc:
        while typing.get_origin(tp) is Annotated or (
            typing.get_origin(tp) in (typing.Union, types.UnionType) and type(None) in typing.get_args(tp)
        ):
            tp = next(a for a in typing.get_args(tp) if a is not type(None))
        if isinstance(tp, type) and issubclass(tp, BaseModel) and isinstance(part, str):
            fields = {(f.alias or n): f for n, f in tp.model_fields.items()}
            tp = fields[part].annotation if part in fields else None
        elif typing.get_origin(tp) is list and isinstance(part, int):
            tp = typing.get_args(tp)[0]
        else:
            return []
    return (
        [f.alias or n for n, f in tp.model_fields.items()] if isinstance(tp, type) and issubclass(tp, BaseModel) else []
    )


def _errors(exc: ValidationError, path: str) -> list[RulesError]:
    """Every problem of a failed validation, each with its key path; an unknown key
    names the known one it is closest to (``points.lat`` → did you mean "late"?)."""
    out = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        where = _path(loc)
        msg = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            close = difflib.get_close_matches(str(loc[-1]), _keys_at(loc[:-1]), n=1, cutoff=0.8)
            msg = f'unknown key (did you mean "{close[0]}"?)' if close else "unknown key"
        out.append(RulesError(f"{path}.{where}" if where else path, msg))
    return out


def build_policy(data: Mapping[str, Any], path: str = "policy") -> Policy:
    """Validate a policy table; the first problem raises RulesError with its key path
    (:func:`policy_problems` lists them all)."""
    try:
        return Policy.model_validate(dict(data))
    except ValidationError as exc:
        raise _errors(exc, path)[0] from None


def _merged(name: str, preset: str, overrides: Mapping[str, Any] | None, path: str) -> dict[str, Any]:
    from .presets import load_preset

    merged = _merge(load_preset(preset, path=f"{path}.preset"), overrides or {})
    merged["name"] = name
    return merged


def resolve_policy(
    name: str, preset: str, overrides: Mapping[str, Any] | None = None, *, path: str | None = None
) -> Policy:
    """A window's policy: the named preset with ``overrides`` applied over it."""
    path = path or f"policies.{name}"
    return build_policy(_merged(name, preset, overrides, path), path)


def policy_problems(
    name: str, preset: str, overrides: Mapping[str, Any] | None = None, *, path: str | None = None
) -> list[RulesError]:
    """Everything :func:`resolve_policy` would refuse, all at once (an unknown preset, then
    every override mistake), so that ``check-config`` reports them in one run; [] if none."""
    path = path or f"policies.{name}"
    try:
        Policy.model_validate(_merged(name, preset, overrides, path))
    except RulesError as exc:
        return [exc]
    except ValidationError as exc:
        return _errors(exc, path)
    return []
