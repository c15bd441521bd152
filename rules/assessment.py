"""The whole assessment (issue 18): every category of a document's scheme, totals, ranking, red
flags, grades and the notices across months.

attendd computes one category of each document's scheme, attendance; the others come from the
supervisor's records (每起扣 entries, 附加分, 倒扣, 一票否决) or as period scores from another
system. This module is the pure part: the scheme as data (``[assessment]`` of a preset, validated
with the policy, :attr:`rules.policy.Policy.assessment`), the record types, and two functions:

* :func:`assess` — one period: each subject's categories (capped at their maximum, 扣完为止, or
  carrying the excess into the total), bonus (capped), 倒扣 (off the total, beyond the
  categories), total, provisional (a category not assessed), rank in its ranking group, red flag,
  grade with its quota, disqualification;
* :func:`notices` — across periods, from the history of :func:`assess` results: last places in
  a row or in a year (上虞 通报), the annual red flag of four quarters (罗山), the year without a red
  flag (002), honours with their counts (服务标兵, 先进个人 …).

The readings where the documents are silent are in ``docs/rules.md`` (section "The whole
assessment") and ``docs/decisions.md`` (issue 18).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .errors import RulesError

SubjectKind = Literal["window", "staff"]
RecordKind = Literal["deduction", "bonus", "back", "veto"]
SchemePeriod = Literal["month", "quarter", "half", "year"]
#: How many periods of each kind a year has (a period key is ``2026-03``, ``2026-Q1``, ``2026-H1``, ``2026``).
PER_YEAR = {"month": 12, "quarter": 4, "half": 2, "year": 1}
MONTHS = {"month": 1, "quarter": 3, "half": 6, "year": 12}
_EPS = 1e-9


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Range = tuple[float, float]


class _Ranged(_Model):
    """An entry with the points one record may carry (上虞 办件管理 每起扣1-5分); None: any."""

    range: Range | None = None

    @model_validator(mode="after")
    def _range(self) -> _Ranged:
        r = self.range
        if r is not None and not 0 <= r[0] <= r[1]:
            raise ValueError(f"range {list(r)}: expected [low, high] with 0 ≤ low ≤ high")
        return self


class Category(_Ranged):
    """One category of the scheme (上虞 办件管理 20分 …), quoted from the document."""

    name: str = Field(min_length=1)
    max: float = Field(gt=0)
    covers: str = ""  # what it covers, a short quote
    # cap: deductions stop at 0 (扣完为止); carry: the excess comes off the total (002 收费管理 倒扣)
    overflow: Literal["cap", "carry"] = "cap"
    # the attendance category: its score is the attendance policy's, scaled to ``max``
    attendance: bool = False
    clause: str = Field(min_length=1)


class BonusItem(_Ranged):
    """A bonus item with its own cap (宜黄 媒体采用 … 最高累计不超过10分)."""

    name: str = Field(min_length=1)
    max: float | None = Field(None, gt=0)
    clause: str = Field(min_length=1)


class Bonus(_Ranged):
    """附加分 / 加分项: added to the total up to ``max`` (None: no cap, 宜黄 加分可以突破100分)."""

    name: str = "附加分"
    max: float | None = Field(None, gt=0)
    items: list[BonusItem] = []
    clause: str = Field(min_length=1)


Scope = Literal["none", "period", "period_and_year", "year"]


class BackItem(_Ranged):
    """A 倒扣 item: taken off the total beyond the categories (上虞 倒扣 1–7), fixed ``points`` or a ``range``."""

    name: str = Field(min_length=1)
    points: float | None = Field(None, gt=0)
    max: float | None = Field(None, gt=0)  # at most this much a period from this item
    # what a case cancels: the period's 评先 ("period"), the period's and the year's (上虞 一律取消当月和年度评先资格)
    disqualifies: Scope = "none"
    # computed by the attendance policy (上虞 7 = the chief on-site rule, ``chief_offsite``): no record
    # is taken for it, its points are in the attendance score, and the attendance result names the rule
    attendance_rule: str | None = None
    clause: str = Field(min_length=1)

    @model_validator(mode="after")
    def _points(self) -> BackItem:
        if (self.points is None) == (self.range is None):
            raise ValueError("give either points (a fixed figure) or range, not both")
        return self


class Back(_Model):
    """倒扣: deductions beyond the categories, off the total (which may fall below zero)."""

    name: str = "倒扣"
    items: list[BackItem] = Field(min_length=1)
    clause: str = Field(min_length=1)


class VetoItem(_Model):
    """一票否决: a case cancels the subject's 评比 for the period (or the year)."""

    name: str = Field(min_length=1)
    scope: Literal["period", "period_and_year", "year"] = "period"
    clause: str = Field(min_length=1)


class Ranking(_Model):
    """How a ranking group is ordered on the total: ``share`` — equal totals share a rank and the next
    rank skips (1, 1, 3); ``attendance`` — equal totals are ordered by the attendance category, then share."""

    ties: Literal["share", "attendance"] = "share"
    clause: str = Field(min_length=1)


class RedFlags(_Model):
    """流动红旗: the top ``count`` of each ranking group (None: every eligible subject at ``min_total`` or more)."""

    name: str = "红旗窗口"
    count: int | None = Field(None, ge=1)
    min_total: float | None = None
    # a tie at the boundary that would exceed the count: flag none of the tied ("exclude") or all ("share")
    ties: Literal["exclude", "share"] = "exclude"
    clause: str = Field(min_length=1)

    @model_validator(mode="after")
    def _some(self) -> RedFlags:
        if self.count is None and self.min_total is None:
            raise ValueError("give count (the top N) or min_total (every total at or above it)")
        return self


class Band(_Model):
    name: str = Field(min_length=1)
    min_total: float


class Grades(_Model):
    """Grades on the total (罗山 第十二条 80 / 60), the top one within ``quota_percent`` of the assessed."""

    bands: list[Band] = Field(min_length=2)
    quota_percent: float | None = Field(None, gt=0, le=100)
    clause: str = Field(min_length=1)

    @model_validator(mode="after")
    def _descending(self) -> Grades:
        mins = [b.min_total for b in self.bands]
        if mins != sorted(mins, reverse=True) or len(set(mins)) != len(mins):
            raise ValueError("bands must be listed from the highest down, each with its own min_total")
        return self


class Scheme(_Model):
    """One document's assessment of one kind of subject (windows or staff)."""

    subject: SubjectKind
    title: str = ""
    period: SchemePeriod
    categories: list[Category] = Field(min_length=1)
    bonus: Bonus | None = None
    back: Back | None = None
    vetoes: list[VetoItem] = []
    ranking: Ranking
    red_flags: RedFlags | None = None
    grades: Grades | None = None
    clause: str = Field(min_length=1)

    @model_validator(mode="after")
    def _names(self) -> Scheme:
        names = [c.name for c in self.categories]
        if len(set(names)) != len(names):
            raise ValueError(
                f"categories: a name twice ({', '.join(sorted({n for n in names if names.count(n) > 1}))})"
            )
        if sum(c.attendance for c in self.categories) > 1:
            raise ValueError("categories: at most one is the attendance category")
        return self

    @property
    def max_total(self) -> float:
        """The sum of the categories' maxima (the base score, 基本分)."""
        return sum(c.max for c in self.categories)

    def category(self, name: str) -> Category | None:
        return next((c for c in self.categories if c.name == name), None)


NoticeWhen = Literal["last_consecutive", "last_in_year", "red_flag_all_year", "no_red_flag_in_year"]


class NoticeRule(_Model):
    """A rule across periods of the ``subject`` scheme (上虞 连续2个月考核排名末位 → 中心内部通报 …).

    ``last_consecutive``: last in ``count`` or more periods in a row (across years); ``last_in_year``:
    last ``count`` or more times in the calendar year — both fire in each period the subject is last and
    the condition holds. ``red_flag_all_year``: a red flag in every period of a complete year (罗山
    四个季度均被评为红旗窗口); ``no_red_flag_in_year``: no red flag in a complete year (002) — both
    fire once, for the year. ``effect`` says what the notice does; ``to_staff`` (002) addresses it
    to the window's staff as well.
    """

    kind: str = Field(min_length=1)
    when: NoticeWhen
    count: int = Field(1, ge=1)
    effect: Literal["notice", "not_eligible_annual", "annual_red_flag", "no_excellent"] = "notice"
    subject: SubjectKind = "window"
    to_staff: bool = False
    clause: str = Field(min_length=1)


class Honour(_Model):
    """An honour with its count (002 服务标兵 6 a quarter, 宜黄 先进个人 10 a quarter / 15 a year …).

    The top ``count`` of the ``subject`` scheme by their mean total over the periods of each ``per``
    (all of them assessed, none provisional, not disqualified, at work ``min_months`` in a row);
    ``per_red_flag_window`` (上虞 相应评出月度先进个人): one person from each red-flag window instead.
    """

    name: str = Field(min_length=1)
    subject: SubjectKind = "staff"
    count: int | None = Field(None, ge=1)
    per: SchemePeriod
    min_months: int | None = Field(None, ge=1)
    per_red_flag_window: bool = False
    ties: Literal["exclude", "share"] = "exclude"
    clause: str = Field(min_length=1)

    @model_validator(mode="after")
    def _count(self) -> Honour:
        if (self.count is None) != self.per_red_flag_window:
            raise ValueError("give count, or per_red_flag_window = true (one from each red-flag window)")
        return self


class Assessment(_Model):
    """A preset's ``[assessment]``: the window scheme, the staff scheme, the rules across periods."""

    title: str = ""
    window: Scheme | None = None
    staff: Scheme | None = None
    notices: list[NoticeRule] = []
    honours: list[Honour] = []

    @model_validator(mode="before")
    @classmethod
    def _subjects(cls, data: Any) -> Any:
        """``[assessment.window]`` is the window scheme: its ``subject`` is implied by the key."""
        if isinstance(data, Mapping):
            data = dict(data)
            for kind in ("window", "staff"):
                if isinstance(data.get(kind), Mapping):
                    data[kind] = {"subject": kind, **data[kind]}
        return data

    @model_validator(mode="after")
    def _rules(self) -> Assessment:
        for kind in ("window", "staff"):
            sch = self.scheme(kind)
            if sch is not None and sch.subject != kind:
                raise ValueError(f"{kind}.subject: the {kind} scheme assesses {kind}, not {sch.subject}")
        for i, rule in enumerate(self.notices):
            scheme = self.scheme(rule.subject)
            if scheme is None:
                raise ValueError(f"notices[{i}]: no {rule.subject} scheme to apply it to")
            if rule.when in ("red_flag_all_year", "no_red_flag_in_year") and scheme.red_flags is None:
                raise ValueError(f"notices[{i}]: the {rule.subject} scheme awards no red flags")
        for i, h in enumerate(self.honours):
            if self.scheme(h.subject) is None:
                raise ValueError(f"honours[{i}]: no {h.subject} scheme to choose from")
            if h.per_red_flag_window and (self.window is None or self.window.red_flags is None):
                raise ValueError(f"honours[{i}]: per_red_flag_window needs a window scheme with red flags")
        return self

    def scheme(self, kind: str) -> Scheme | None:
        return self.window if kind == "window" else self.staff if kind == "staff" else None


# --- inputs -----------------------------------------------------------------------------------------


class PeriodLike(Protocol):
    """What :func:`assess` needs of a period (:class:`rules.Period` is one)."""

    @property
    def kind(self) -> str: ...
    @property
    def key(self) -> str: ...
    def __contains__(self, day: date) -> bool: ...


@dataclass(frozen=True, slots=True)
class Subject:
    """A window or a person assessed; ``window`` is a person's window (a window's own code), ``group``
    the ranking group (default: the whole centre)."""

    kind: SubjectKind
    id: str
    window: str = ""
    group: str = ""


@dataclass(frozen=True, slots=True)
class AttendanceScore:
    """The attendance evaluation's result for a subject and period (``rules.StaffPeriodResult`` /
    ``WindowPeriodResult``): the score on the policy's ``max_points``, the findings that bar 评优,
    and the rules that charged points (``Deduction.rule``), so that a 倒扣 item the attendance policy
    computes (上虞 7, ``chief_offsite``) is known to have happened."""

    score: float
    max_points: float
    disqualify_reasons: tuple[str, ...] = ()
    no_excellent_reasons: tuple[str, ...] = ()
    rules: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Record:
    """One entry of a supervisor's (每起扣1-5分, a bonus, a 倒扣, an 一票否决); ``points`` is a
    magnitude (≥ 0), its ``kind`` says which way it counts. A ``deduction`` of 0 marks the category
    assessed with nothing found. ``category``: the category's name for a deduction; ignored otherwise.
    ``item``: for a bonus, back or veto, the item's name or its number in the scheme (1-based)."""

    subject_kind: SubjectKind
    subject: str
    day: date
    category: str
    points: float
    kind: RecordKind = "deduction"
    item: str = ""
    note: str = ""
    ref: str = ""
    recorded_by: str = ""


@dataclass(frozen=True, slots=True)
class CategoryScore:
    """A category's period score from another scoring system (``attendd import category-scores``)."""

    period_key: str
    subject_kind: SubjectKind
    subject: str
    category: str
    score: float


# --- results ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CategoryResult:
    """One category of one subject's period (table ``att_category_score``).

    ``score`` None: not assessed (no record, no score, not declared complete) — never full marks.
    ``deducted``: the points the records took (before the cap); ``lost``: what the cap dropped
    (扣完为止); a ``carry`` category's score may be below zero, the excess taken off the total.
    ``source``: ``attendance``, ``records``, ``score`` (another system), ``complete`` (declared
    complete with no record: full marks) or None."""

    category: str
    max_points: float
    score: float | None
    deducted: float = 0.0
    lost: float = 0.0
    records: int = 0
    source: str | None = None


@dataclass(frozen=True, slots=True)
class Assessed:
    """One subject's whole assessment for a period (table ``att_assessment_total``).

    ``total`` = the categories + bonus − 倒扣, None when no category is assessed; ``provisional``
    when a category is missing (``missing`` names them): such a total is shown but not ranked, and
    gets no red flag, grade or honour. ``rank`` within ``group`` (None: not ranked), ``last`` the
    group's last place. ``disqualified``: 评先资格 cancelled for the period (``year_disqualified``:
    for the year too)."""

    period_kind: str
    period_key: str
    subject_kind: SubjectKind
    subject: str
    window: str
    group: str
    categories: tuple[CategoryResult, ...]
    bonus: float = 0.0
    bonus_claimed: float = 0.0
    back: float = 0.0
    total: float | None = None
    max_total: float = 0.0
    provisional: bool = True
    missing: tuple[str, ...] = ()
    rank: int | None = None
    last: bool = False
    red_flag: bool = False
    grade: str | None = None
    grade_note: str | None = None
    disqualified: bool = False
    year_disqualified: bool = False
    disqualify_reasons: tuple[str, ...] = ()
    no_excellent_reasons: tuple[str, ...] = ()

    def score_of(self, category: str) -> float | None:
        return next((c.score for c in self.categories if c.category == category), None)


@dataclass(frozen=True, slots=True)
class Notice:
    """A notice across periods or an honour (table ``att_notice``): ``period_key`` is the period it is
    issued for (a month, a quarter, a year), ``kind`` the document's word (中心内部通报, 服务标兵 …),
    ``rule`` which rule fired (``when`` / ``count``, or ``honour``), ``reason`` the clause and the
    periods behind it."""

    period_key: str
    subject_kind: SubjectKind
    subject: str
    kind: str
    rule: str
    effect: str
    reason: str
    periods: tuple[str, ...] = field(default=())


# --- records ----------------------------------------------------------------------------------------


def _item(items: Sequence[Any], name: str) -> Any | None:
    """The item ``name`` names: its exact name, or its 1-based number."""
    for i, it in enumerate(items, 1):
        if name.strip() in (it.name, str(i)):
            return it
    return None


def _in_range(points: float, r: Range | None) -> bool:
    return r is None or r[0] - _EPS <= points <= r[1] + _EPS


def _fmt(r: Range) -> str:
    return f"{r[0]:g}–{r[1]:g}"


def check_record(scheme: Scheme, record: Record) -> list[str]:
    """What is wrong with ``record`` under ``scheme`` (empty: nothing): the subject kind, the category,
    the item, the points within the document's range (上虞 办件管理 每起扣1-5分). Each message names the
    field, for the import's row message and the console's form."""
    out: list[str] = []
    if record.subject_kind != scheme.subject:
        out.append(f"subject: this scheme assesses {scheme.subject}, not {record.subject_kind}")
    if record.points < 0 or not math.isfinite(record.points):
        return [*out, f"points: {record.points:g} — a magnitude of 0 or more is expected (kind says the way)"]
    if record.kind == "deduction":
        cat = scheme.category(record.category)
        if cat is None:
            known = "、".join(c.name for c in scheme.categories)
            out.append(f"category: {record.category!r} is no category of this scheme; known: {known}")
        elif record.points and not _in_range(record.points, cat.range):
            assert cat.range is not None
            out.append(f"points: {record.points:g} is outside {cat.name}'s {_fmt(cat.range)} per case ({cat.clause})")
    elif record.kind == "bonus":
        if scheme.bonus is None:
            return [*out, "kind: this scheme has no bonus (附加分)"]
        bi = _item(scheme.bonus.items, record.item) if record.item else None
        r = bi.range if bi is not None and bi.range is not None else scheme.bonus.range
        if record.points <= 0:
            out.append("points: a bonus is more than 0")
        elif not _in_range(record.points, r):
            assert r is not None
            out.append(f"points: {record.points:g} is outside the bonus's {_fmt(r)} per case ({scheme.bonus.clause})")
    elif record.kind == "back":
        if scheme.back is None:
            return [*out, "kind: this scheme has no 倒扣"]
        back = _item(scheme.back.items, record.item)
        if back is None:
            known = "、".join(f"{i} {b.name}" for i, b in enumerate(scheme.back.items, 1))
            out.append(f"item: {record.item!r} is no 倒扣 item; known: {known}")
        elif back.attendance_rule:
            out.append(
                f"item: {back.name} is computed by attendd from attendance ({back.attendance_rule}), not recorded"
            )
        elif back.points is not None and abs(record.points - back.points) > _EPS:
            out.append(f"points: {back.name} costs {back.points:g} a case ({back.clause}), not {record.points:g}")
        elif not _in_range(record.points, back.range) or not record.points:
            out.append(f"points: {record.points:g} is outside {back.name}'s {_fmt(back.range or (0, 0))} per case")
    else:  # veto
        if _item(scheme.vetoes, record.item) is None:
            known = "、".join(f"{i} {v.name}" for i, v in enumerate(scheme.vetoes, 1)) or "none"
            out.append(f"item: {record.item!r} is no 一票否决 item of this scheme; known: {known}")
    return out


# --- one period -------------------------------------------------------------------------------------


def _r(x: float) -> float:
    return round(x + 0.0, 4)


def _category(
    cat: Category,
    att: AttendanceScore | None,
    recs: Sequence[Record],
    ext: CategoryScore | None,
    complete: bool,
) -> CategoryResult:
    """One category's result: the base (attendance scaled, another system's score, or the maximum
    when records or ``complete`` say it is assessed), minus the records, capped or carried."""
    deducted = sum(r.points for r in recs)
    if ext is not None:
        if recs:
            raise RulesError(
                f"category_scores.{cat.name}",
                f"{ext.subject} has a period score from another system and {len(recs)} record(s) for the "
                "same category: give one or the other",
            )
        if not -_EPS <= ext.score <= cat.max + _EPS and not (cat.overflow == "carry" and ext.score < 0):
            raise RulesError(f"category_scores.{cat.name}", f"score {ext.score:g} is outside 0–{cat.max:g}")
        return CategoryResult(cat.name, cat.max, _r(ext.score), source="score")
    if cat.attendance and att is not None:
        base = att.score * cat.max / att.max_points if att.max_points else 0.0
        source = "attendance"
    elif cat.attendance or not (recs or complete):
        return CategoryResult(cat.name, cat.max, None, records=len(recs))
    else:
        base, source = cat.max, "records" if recs else "complete"
    raw = base - deducted
    score = raw if cat.overflow == "carry" or raw >= 0 or base < 0 else 0.0
    return CategoryResult(cat.name, cat.max, _r(score), _r(deducted), _r(score - raw), len(recs), source)


def _bonus(scheme: Scheme, recs: Sequence[Record]) -> tuple[float, float]:
    """(counted, claimed): each item capped at its own maximum, the whole at the bonus's."""
    if scheme.bonus is None or not recs:
        return 0.0, 0.0
    by_item: dict[int, float] = defaultdict(float)
    loose = 0.0
    for r in recs:
        bi = _item(scheme.bonus.items, r.item) if r.item else None
        if bi is None:
            loose += r.points
        else:
            by_item[scheme.bonus.items.index(bi)] += r.points
    counted = loose + sum(min(v, scheme.bonus.items[i].max or v) for i, v in by_item.items())
    claimed = loose + sum(by_item.values())
    if scheme.bonus.max is not None:
        counted = min(counted, scheme.bonus.max)
    return _r(counted), _r(claimed)


def _back(scheme: Scheme, recs: Sequence[Record]) -> tuple[float, list[tuple[BackItem, int]]]:
    """The 倒扣 points (each item at most its ``max``) and the items with their case counts."""
    if scheme.back is None:
        return 0.0, []
    pts: dict[int, float] = defaultdict(float)
    cases: dict[int, int] = defaultdict(int)
    for r in recs:
        bi = _item(scheme.back.items, r.item)
        assert bi is not None  # checked
        i = scheme.back.items.index(bi)
        pts[i] += r.points
        cases[i] += 1
    total = sum(min(v, scheme.back.items[i].max or v) for i, v in pts.items())
    return _r(total), [(scheme.back.items[i], n) for i, n in sorted(cases.items())]


def _findings(
    scheme: Scheme, att: AttendanceScore | None, backs: Sequence[tuple[BackItem, int]], vetoes: Sequence[Record]
) -> tuple[list[str], bool]:
    """The reasons the subject's 评先 is cancelled, and whether for the year as well."""
    reasons = list(att.disqualify_reasons) if att else []
    year = False
    items: list[tuple[str, str, str]] = [(b.name, b.disqualifies, b.clause) for b, _ in backs]
    if scheme.back is not None and att is not None:
        items += [
            (b.name, b.disqualifies, b.clause)
            for b in scheme.back.items
            if b.attendance_rule and b.attendance_rule in att.rules
        ]
    for v in vetoes:
        vi = _item(scheme.vetoes, v.item)
        assert vi is not None  # checked
        items.append((vi.name, vi.scope, vi.clause))
    for name, scope, clause in items:
        if scope == "none":
            continue
        text = f"{name}（{clause}）"
        if text not in reasons:
            reasons.append(text)
        year = year or scope in ("period_and_year", "year")
    return reasons, year


def assess(
    scheme: Scheme,
    period: PeriodLike,
    subjects: Iterable[Subject],
    attendance: Mapping[str, AttendanceScore],
    records: Iterable[Record] = (),
    category_scores: Iterable[CategoryScore] = (),
    *,
    complete: Collection[str] = (),
) -> list[Assessed]:
    """Every subject's whole assessment for ``period``, ranked per group, with red flags and grades.

    ``attendance`` maps a subject's id to its attendance result (absent: the attendance category is
    not assessed). ``records`` of other periods and subject kinds are ignored; a record the scheme
    refuses (:func:`check_record`) raises :class:`RulesError` naming it. ``category_scores`` of
    ``period.key`` give a category's period score from another system. ``complete`` names the
    categories the centre declares assessed for every subject this period: one without records is
    then full marks instead of not assessed.
    """
    subjects = [s for s in subjects if s.kind == scheme.subject]
    by_subject: dict[str, list[Record]] = defaultdict(list)
    for i, rec in enumerate(records):
        if rec.subject_kind != scheme.subject or rec.day not in period:
            continue
        problems = check_record(scheme, rec)
        if problems:
            raise RulesError(f"records[{rec.ref or i}]", "; ".join(problems))
        by_subject[rec.subject].append(rec)
    ext: dict[tuple[str, str], CategoryScore] = {}
    for cs in category_scores:
        if cs.period_key != period.key or cs.subject_kind != scheme.subject:
            continue
        if scheme.category(cs.category) is None:
            known = "、".join(c.name for c in scheme.categories)
            raise RulesError("category_scores", f"{cs.category!r} is no category of this scheme; known: {known}")
        ext[(cs.subject, cs.category)] = cs
    out = [_one(scheme, period, s, attendance.get(s.id), by_subject[s.id], ext, complete) for s in subjects]
    out = _ranked(scheme, out)
    return _graded(scheme, out)


def _one(
    scheme: Scheme,
    period: PeriodLike,
    s: Subject,
    att: AttendanceScore | None,
    recs: Sequence[Record],
    ext: Mapping[tuple[str, str], CategoryScore],
    complete: Collection[str],
) -> Assessed:
    by_kind: dict[str, list[Record]] = defaultdict(list)
    for r in recs:
        by_kind[r.kind].append(r)
    cats = tuple(
        _category(
            c,
            att,
            [r for r in by_kind["deduction"] if r.category == c.name],
            ext.get((s.id, c.name)),
            c.name in complete,
        )
        for c in scheme.categories
    )
    bonus, claimed = _bonus(scheme, by_kind["bonus"])
    back, backs = _back(scheme, by_kind["back"])
    reasons, year = _findings(scheme, att, backs, by_kind["veto"])
    scored = [c.score for c in cats if c.score is not None]
    total = _r(sum(scored) + bonus - back) if scored else None
    return Assessed(
        period_kind=period.kind,
        period_key=period.key,
        subject_kind=s.kind,
        subject=s.id,
        window=s.window or (s.id if s.kind == "window" else ""),
        group=s.group,
        categories=cats,
        bonus=bonus,
        bonus_claimed=claimed,
        back=back,
        total=total,
        max_total=scheme.max_total,
        provisional=len(scored) < len(cats),
        missing=tuple(c.category for c in cats if c.score is None),
        disqualified=bool(reasons),
        year_disqualified=year,
        disqualify_reasons=tuple(reasons),
        no_excellent_reasons=tuple(att.no_excellent_reasons) if att else (),
    )


def _order_key(scheme: Scheme, a: Assessed) -> tuple[float, ...]:
    """What the ranking compares: the total, then (``ties = "attendance"``) the attendance category."""
    assert a.total is not None
    key = [-a.total]
    if scheme.ranking.ties == "attendance":
        att = next((c for c in scheme.categories if c.attendance), None)
        key.append(-(a.score_of(att.name) or 0.0) if att else 0.0)
    return tuple(round(k, 6) for k in key)


def _top(ranked: Sequence[Any], key: Any, count: int | None, ties: str) -> list[Any]:
    """The first ``count`` of ``ranked`` (None: all); a tie at the boundary that would exceed the count
    takes none of the tied (``exclude``) or all of them (``share``)."""
    if count is None:
        return list(ranked)
    chosen: list[Any] = []
    i = 0
    while i < len(ranked) and len(chosen) < count:
        tied = [x for x in ranked[i:] if key(x) == key(ranked[i])]
        if len(chosen) + len(tied) > count and ties != "share":
            break
        chosen += tied
        i += len(tied)
    return chosen


def _ranked(scheme: Scheme, results: list[Assessed]) -> list[Assessed]:
    """Rank each group's complete totals (competition ranking, ties per the scheme); flag the top."""
    groups: dict[str, list[Assessed]] = defaultdict(list)
    for a in results:
        if a.total is not None and not a.provisional:
            groups[a.group].append(a)
    done: dict[tuple[str, str], Assessed] = {}
    for members in groups.values():
        ranked = sorted(members, key=lambda a: (_order_key(scheme, a), a.subject))
        ranks: list[int] = []
        for i, a in enumerate(ranked):
            tie = i and _order_key(scheme, a) == _order_key(scheme, ranked[i - 1])
            ranks.append(ranks[-1] if tie else i + 1)
        flagged: set[str] = set()
        if scheme.red_flags is not None:
            rf = scheme.red_flags
            eligible = [
                a
                for a in ranked
                if not a.disqualified and (rf.min_total is None or (a.total or 0.0) >= rf.min_total - _EPS)
            ]
            flagged = {a.subject for a in _top(eligible, lambda a: _order_key(scheme, a), rf.count, rf.ties)}
        bottom = ranks[-1] if len(ranked) > 1 else None
        for a, rank in zip(ranked, ranks, strict=True):
            done[(a.group, a.subject)] = replace(a, rank=rank, last=rank == bottom, red_flag=a.subject in flagged)
    return [done.get((a.group, a.subject), a) for a in results]


def _graded(scheme: Scheme, results: list[Assessed]) -> list[Assessed]:
    """Grades on the total; the top band barred by a finding, and held by at most ``quota_percent`` of
    the assessed (highest totals first; ties at the quota's boundary by subject id)."""
    g = scheme.grades
    if g is None:
        return results
    top, second = g.bands[0].name, g.bands[1].name
    graded: dict[str, Assessed] = {}
    for a in results:
        if a.total is None or a.provisional:
            continue
        i = next((i for i, b in enumerate(g.bands) if a.total >= b.min_total - _EPS), len(g.bands) - 1)
        note = None
        if i == 0 and (a.disqualified or a.no_excellent_reasons):
            i, note = 1, f"不得评为{top}：" + "；".join(a.disqualify_reasons + a.no_excellent_reasons)
        graded[a.subject] = replace(a, grade=g.bands[i].name, grade_note=note)
    if g.quota_percent is not None:
        holders = sorted((a for a in graded.values() if a.grade == top), key=lambda a: (-(a.total or 0.0), a.subject))
        allowed = math.floor(len(graded) * g.quota_percent / 100 + _EPS)
        for a in holders[allowed:]:
            graded[a.subject] = replace(
                a,
                grade=second,
                grade_note=f"{top}名额不超过参评人数的 {g.quota_percent:g}%（{len(graded)} 人中 {allowed} 名），按{second}评定",
            )
    return [graded.get(a.subject, a) for a in results]


# --- across periods ---------------------------------------------------------------------------------


def period_index(key: str) -> tuple[str, int, int]:
    """(kind, year, index in the year from 1) of a period key: ``2026-03`` → (month, 2026, 3)."""
    year, _, rest = key.partition("-")
    if not rest:
        return "year", int(year), 1
    if rest[0] in "QH":
        return ("quarter" if rest[0] == "Q" else "half"), int(year), int(rest[1:])
    return "month", int(year), int(rest)


def _ordinal(key: str) -> int:
    kind, year, i = period_index(key)
    return year * PER_YEAR[kind] + i - 1


def _keys_within(kind: str, per: str, year: int, n: int) -> tuple[str, ...]:
    """The ``kind`` period keys inside the ``n``-th ``per`` of ``year`` (months of a quarter …)."""
    if per == "year":
        per_n, first = 1, 0
    else:
        per_n, first = PER_YEAR[per], (n - 1)
    size = PER_YEAR[kind] // per_n
    idx = range(first * size + 1, first * size + size + 1)
    if kind == "year":
        return (str(year),)
    fmt = {"month": "{y}-{i:02d}", "quarter": "{y}-Q{i}", "half": "{y}-H{i}"}[kind]
    return tuple(fmt.format(y=year, i=i) for i in idx)


def _per_key(per: str, year: int, n: int) -> str:
    return (
        str(year)
        if per == "year"
        else {"month": f"{year}-{n:02d}", "quarter": f"{year}-Q{n}", "half": f"{year}-H{n}"}[per]
    )


def notices(
    assessment: Assessment,
    history: Iterable[Assessed],
    *,
    members: Mapping[str, Sequence[str]] | None = None,
) -> list[Notice]:
    """The notices and honours the ``history`` of :func:`assess` results calls for (any periods, any
    order; the latest result of a subject and period counts).

    Last places count only in ranked periods (a provisional total is not ranked); a rule of a year
    fires once the year's periods are all in the history. ``members`` maps a window to its staff, for
    a rule addressed to them (002); without it the staff results' ``window`` says who they are.
    """
    latest: dict[tuple[str, str, str], Assessed] = {}
    for a in history:
        latest[(a.subject_kind, a.subject, a.period_key)] = a
    by_subject: dict[tuple[str, str], list[Assessed]] = defaultdict(list)
    for a in sorted(latest.values(), key=lambda a: _ordinal(a.period_key)):
        by_subject[(a.subject_kind, a.subject)].append(a)
    staff_of: dict[str, set[str]] = defaultdict(set)
    for (kind, sid), rs in by_subject.items():
        if kind == "staff":
            for a in rs:
                if a.window:
                    staff_of[a.window].add(sid)
    for w, people in (members or {}).items():
        staff_of[w] |= set(people)
    out: list[Notice] = []
    for rule in assessment.notices:
        scheme = assessment.scheme(rule.subject)
        assert scheme is not None  # validated
        periods = {a.period_key for a in latest.values() if a.subject_kind == rule.subject}
        for (kind, sid), rs in by_subject.items():
            if kind != rule.subject:
                continue
            for n in _fire(rule, scheme, rs, periods):
                out.append(n)
                if rule.to_staff:
                    out += [replace(n, subject_kind="staff", subject=p) for p in sorted(staff_of.get(sid, ()))]
    out += _year_disqualified(latest.values())
    for h in assessment.honours:
        out += _honours(h, assessment, latest.values())
    return out


def _year_disqualified(results: Iterable[Assessed]) -> list[Notice]:
    """取消年度评先资格 once for each subject and year, from the first period that cancelled it (上虞 倒扣:
    一律取消当月和年度评先资格)."""
    out: dict[tuple[str, str, int], Notice] = {}
    for a in sorted(results, key=lambda a: _ordinal(a.period_key)):
        year = period_index(a.period_key)[1]
        if a.year_disqualified and (a.subject_kind, a.subject, year) not in out:
            reason = "；".join(a.disqualify_reasons)
            out[(a.subject_kind, a.subject, year)] = Notice(
                str(year),
                a.subject_kind,
                a.subject,
                "取消年度评先资格",
                "year_disqualified",
                "not_eligible_annual",
                f"{a.period_key}：{reason}",
                (a.period_key,),
            )
    return list(out.values())


def _fire(rule: NoticeRule, scheme: Scheme, rs: Sequence[Assessed], periods: Collection[str]) -> list[Notice]:
    """The notices ``rule`` gives one subject over its results ``rs`` (in period order)."""
    out: list[Notice] = []
    what = f"{rule.when}/{rule.count}"

    def notice(key: str, reason: str, keys: Sequence[str]) -> Notice:
        return Notice(key, rule.subject, rs[0].subject, rule.kind, what, rule.effect, reason, tuple(keys))

    if rule.when in ("last_consecutive", "last_in_year"):
        streak: list[str] = []
        in_year: dict[int, list[str]] = defaultdict(list)
        prev: int | None = None
        for a in rs:
            if a.period_kind != scheme.period:
                continue
            o = _ordinal(a.period_key)
            # a period not last (or not ranked, or missing from the history) ends the run
            streak = ([*streak, a.period_key] if streak and prev == o - 1 else [a.period_key]) if a.last else []
            prev = o
            if not a.last:
                continue
            year = period_index(a.period_key)[1]
            in_year[year].append(a.period_key)
            if rule.when == "last_consecutive" and len(streak) >= rule.count:
                out.append(notice(a.period_key, f"连续{len(streak)}期考核排名末位（{rule.clause}）", streak))
            if rule.when == "last_in_year" and len(in_year[year]) >= rule.count:
                keys = in_year[year]
                out.append(notice(a.period_key, f"{year}年累计{len(keys)}次考核排名末位（{rule.clause}）", keys))
        return out
    years: dict[int, list[Assessed]] = defaultdict(list)
    for a in rs:
        if a.period_kind == scheme.period:
            years[period_index(a.period_key)[1]].append(a)
    for year, ys in sorted(years.items()):
        year_keys = _keys_within(scheme.period, "year", year, 1)
        if not set(year_keys) <= set(periods):
            continue  # the year is not over (or not in the history)
        flags = [a.period_key for a in ys if a.red_flag]
        flag = scheme.red_flags.name if scheme.red_flags else ""
        if rule.when == "red_flag_all_year" and len(flags) == len(year_keys) >= rule.count:
            out.append(notice(str(year), f"{year}年{len(year_keys)}期均被评为{flag}（{rule.clause}）", flags))
        if rule.when == "no_red_flag_in_year" and not flags:
            out.append(notice(str(year), f"{year}年未被评为{flag}（{rule.clause}）", [a.period_key for a in ys]))
    return out


def _months_at_work(rs: Sequence[Assessed], end: str) -> int:
    """How many months in a row, up to the end of period ``end``, the subject has a result."""
    keys = sorted({_ordinal(a.period_key) for a in rs if a.period_kind == rs[0].period_kind})
    kind = rs[0].period_kind
    last = _ordinal(end) if period_index(end)[0] == kind else None
    if last is None or last not in keys:
        return 0
    n = 0
    while last - n in keys:
        n += 1
    return n * MONTHS[kind]


def _honours(h: Honour, assessment: Assessment, results: Iterable[Assessed]) -> list[Notice]:
    """The honour ``h`` for every complete ``per`` in the history."""
    scheme = assessment.scheme(h.subject)
    assert scheme is not None  # validated
    mine = [a for a in results if a.subject_kind == h.subject and a.period_kind == scheme.period]
    windows = [a for a in results if a.subject_kind == "window"] if h.per_red_flag_window else []
    if MONTHS[h.per] < MONTHS[scheme.period]:
        return []
    present = {a.period_key for a in mine}
    by_subject: dict[str, list[Assessed]] = defaultdict(list)
    for a in mine:
        by_subject[a.subject].append(a)
    spans = sorted(
        {(period_index(k)[1], (period_index(k)[2] - 1) * MONTHS[scheme.period] // MONTHS[h.per] + 1) for k in present}
    )
    out: list[Notice] = []
    for year, n in spans:
        keys = _keys_within(scheme.period, h.per, year, n)
        if not set(keys) <= present:
            continue  # the span is not over
        span_key = _per_key(h.per, year, n)
        standing: dict[str, float] = {}
        for sid, rs in by_subject.items():
            got = {a.period_key: a for a in rs if a.period_key in keys}
            if len(got) < len(keys) or any(a.provisional or a.disqualified or a.total is None for a in got.values()):
                continue
            if h.min_months is not None and _months_at_work(rs, keys[-1]) < h.min_months:
                continue
            standing[sid] = round(sum(a.total or 0.0 for a in got.values()) / len(keys), 6)
        ranked = sorted(standing, key=lambda s: (-standing[s], s))
        if h.per_red_flag_window:
            flagged = {a.window for a in windows if a.period_key in keys and a.red_flag}
            window_of = {a.subject: a.window for a in mine if a.period_key == keys[-1]}
            chosen = []
            for w in sorted(flagged):
                pool = [s for s in ranked if window_of.get(s) == w]
                chosen += _top(pool, standing.__getitem__, 1, h.ties)
        else:
            chosen = _top(ranked, standing.__getitem__, h.count, h.ties)
        for s in chosen:
            reason = f"{span_key} 平均总分 {standing[s]:g}（{h.clause}）"
            out.append(Notice(span_key, h.subject, s, h.name, "honour", "honour", reason, keys))
    return out
