"""What a bulletin says, built from the rows the scoring DB receives.

:func:`build_bulletin` is pure: it takes a period's scoring rows (the
outbox snapshot, so the bulletin and the scoring DB cannot disagree), the
roster's names, the configured windows and the devices' sync health, and
returns a :class:`Bulletin` that every renderer (HTML, XLSX, PDF, CSV)
prints the same way.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from rules import Period

from . import labels
from .daily import TOTALS, DailyGrid, daily_grid


@dataclass(slots=True)
class StaffLine:
    """One officer's row in a window table (SPEC §4.6)."""

    staff_no: str
    name: str
    window: str
    scheduled_days: int
    present_days: int
    late: int
    early: int
    missing: int
    absent_days: float
    leave_days: dict[str, float]  # by leave kind (personal, sick, annual …)
    midday_leave: int
    off_post: int
    deduction: float
    max_points: float
    score: float
    grade: str
    disqualified: bool
    reasons: list[str]
    excused: int = 0  # 补卡 / 情况说明 accepted
    grade_note: str = ""  # e.g. the 优秀 quota: a note, not a finding

    @property
    def flags(self) -> str:
        if self.disqualified:
            return "取消评优资格"
        return "不得评优" if self.reasons else ""


@dataclass(slots=True)
class WindowSection:
    code: str
    name: str
    rank: int
    score: float
    max_points: float
    staff_count: int
    red_flag: bool
    chief_onsite_ratio: float | None
    staff: list[StaffLine] = field(default_factory=list)
    ranking_group: str = ""
    score_percent: float | None = None  # as pushed (att_window_period); None in snapshots before it
    daily: DailyGrid | None = None  # the daily sheet (每日考勤): months only (daemon.bulletin.daily)

    @property
    def percent(self) -> float:
        """The score as a share of the maximum, in %: what the ranking compares (0 without a maximum)."""
        if self.score_percent is not None:
            return float(self.score_percent)
        return 100 * self.score / self.max_points if self.max_points else 0.0


@dataclass(slots=True)
class NotAssessedLine:
    """Someone on the roster who is not assessed in the period, and why."""

    staff_no: str
    name: str
    window: str
    reason: str  # in the reader's words (labels.not_assessed)


@dataclass(slots=True)
class AnnexLine:
    """One deduction with its evidence, as pushed to ``att_deduction``."""

    staff_no: str
    name: str
    window: str
    day: date | None
    slot: str | None
    rule: str
    points: float
    evidence: str
    ref: str
    note: str
    slot_label: str = ""  # the timetable's word for the slot (上午签到 …); empty: labels.slot(slot)

    @property
    def slot_word(self) -> str:
        """The 时段 as the reader reads it: the timetable's label, else the usual word for the name;
        a session's 旷工 (``…/absence-1``) names the half-day (上午), not its first slot."""
        word = self.slot_label or labels.slot(self.slot)
        if "/absence-" in self.ref:
            return re.sub(r"签[到退]\d*$", "", word) or word
        return word


@dataclass(slots=True)
class AppealLine:
    """An appeal (申诉) against one of the period's deductions and what became of it: an upheld one's
    deduction is gone from the annex (its remedy excuses it), so this list is where it shows."""

    id: int
    staff_no: str
    name: str
    window: str
    ref: str
    statement: str
    status: str  # open | upheld | rejected
    decided_by: str
    decided: date | None
    decision_reason: str
    remedy: str

    @property
    def status_label(self) -> str:
        return {"open": "申诉中", "upheld": "申诉成立，已更正", "rejected": "申诉已驳回"}.get(self.status, self.status)


@dataclass(slots=True)
class AssessedLine:
    """One window's whole assessment (issue 18): its categories, total, rank, 流动红旗 and grade."""

    code: str
    name: str
    group: str
    rank: int | None
    categories: dict[str, float | None]  # as the document names them; None: not assessed
    bonus: float
    back: float
    total: float | None
    max_total: float
    provisional: bool
    missing: list[str]
    red_flag: bool
    grade: str | None
    disqualified: bool
    reasons: list[str]
    window: str = ""  # a person's window, by name


@dataclass(slots=True)
class NoticeLine:
    """A notice or honour issued with the period (连续2个月考核排名末位 → 中心内部通报; 服务标兵)."""

    subject_kind: str
    subject: str
    name: str
    kind: str
    notice_period: str
    reason: str


@dataclass(slots=True)
class DeviceHealth:
    """A terminal's sync health over the period."""

    name: str
    driver: str
    serial: str
    punches: int
    syncs_ok: int
    syncs_failed: int
    last_success: datetime | None  # local time
    max_drift_s: float | None
    silent_workdays: list[date]  # workdays (up to the issue date) on which it stored no punch
    quarantined: int
    quarantine_reasons: dict[str, int]
    last_error: str | None
    #: the period's good runs by way in (拉取, 推送, U盘导入 …): what 同步成功 counts
    runs_by_way: dict[str, int] = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        return (
            not self.silent_workdays
            and not self.syncs_failed
            and not self.quarantined
            and (self.max_drift_s is None or abs(self.max_drift_s) < 60)
        )


@dataclass(slots=True)
class Bulletin:
    centre: str
    period: Period
    issued: date
    final: bool
    windows: list[WindowSection]
    annex: list[AnnexLine]
    devices: list[DeviceHealth]
    leave_kinds: list[str]  # the kinds that occur in this period, in LEAVE_KINDS order
    lates_by_weekday: list[int]  # Monday … Sunday
    early_by_weekday: list[int]
    rules_version: str = ""
    not_assessed: list[NotAssessedLine] = field(default_factory=list)
    #: ranking groups that award 流动红旗 on attendance alone → how many and how a tie at the boundary goes
    flag_rules: dict[str, str] = field(default_factory=dict)
    group_titles: dict[str, str] = field(default_factory=dict)  # ranking group → its name on the bulletin
    #: the previous period's :meth:`totals` (the DOCX's 一、总体情况 compares with them); None: no data
    previous: dict[str, float] | None = None
    #: appeals against this period's deductions, oldest first (issue 15: the annex marks them)
    appeals: list[AppealLine] = field(default_factory=list)
    #: the whole assessment of the windows (issue 18; empty when the centre assesses attendance alone)
    assessed: list[AssessedLine] = field(default_factory=list)
    assessed_categories: list[str] = field(default_factory=list)
    #: the people's whole assessment (罗山 grades its staff on 100 points; 002's 服务标兵 …)
    assessed_staff: list[AssessedLine] = field(default_factory=list)
    assessed_staff_categories: list[str] = field(default_factory=list)
    notices: list[NoticeLine] = field(default_factory=list)

    @property
    def title(self) -> str:
        return f"{self.centre}{labels.period(self.period)}{labels.kind_of_bulletin(self.period)}"

    @property
    def period_label(self) -> str:
        return labels.period(self.period)

    @property
    def staff(self) -> list[StaffLine]:
        return [s for w in self.windows for s in w.staff]

    @property
    def ranking(self) -> list[WindowSection]:
        """Every window by group (in the config's order of first appearance), then rank."""
        order = {g: i for i, g in enumerate(dict.fromkeys(w.ranking_group for w in self.windows))}
        return sorted(self.windows, key=lambda w: (order[w.ranking_group], w.rank or 10**6, w.code))

    @property
    def grouped(self) -> bool:
        """More than one ranking group: the ranking says which each window is in."""
        return len({w.ranking_group for w in self.windows}) > 1

    def group_title(self, group: str) -> str:
        return self.group_titles.get(group) or group or "全中心"

    @property
    def flags_shown(self) -> bool:
        """Whether any group awards 流动红旗 on attendance (otherwise the bulletin has no flag column)."""
        return bool(self.flag_rules) or any(w.red_flag for w in self.windows)

    @property
    def graded(self) -> bool:
        """Whether anyone has a grade (policies that grade the whole assessment grade nobody here)."""
        return any(s.grade for s in self.staff)

    @property
    def disqualified(self) -> list[StaffLine]:
        return [s for s in self.staff if s.disqualified or s.reasons]

    @property
    def annex_points(self) -> float:
        return round(sum(a.points for a in self.annex), 4)

    def totals(self) -> dict[str, float]:
        staff = self.staff
        return {
            "staff": len(staff),
            "late": sum(s.late for s in staff),
            "early": sum(s.early for s in staff),
            "missing": sum(s.missing for s in staff),
            "absent_days": round(sum(s.absent_days for s in staff), 2),
            "leave_days": round(sum(v for s in staff for v in s.leave_days.values()), 2),
            "deductions": len(self.annex),
            "points": self.annex_points,
            "disqualified": sum(1 for s in staff if s.disqualified),
            "not_assessed": len(self.not_assessed),
        }


def _leave_by_staff(staff_days: Sequence[Mapping]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for d in staff_days:
        if d.get("leave_kind") and d.get("leave_days"):
            out[d["staff_no"]][d["leave_kind"]] += d["leave_days"]
    return out


def natural_key(staff_no: str) -> tuple:
    """Staff numbers as a reader counts them: 1, 2, 0007, 10 (digits by value, then as written)."""
    parts = re.split(r"(\d+)", staff_no)
    return tuple((0, int(p), p) if p.isdigit() else (1, 0, p) for p in parts if p), staff_no


def _daily_totals(s: StaffLine) -> dict[str, float]:
    """The daily sheet's totals of one officer: the staff table's own figures, so the two agree."""
    values = (s.present_days, s.late, s.early, s.missing, s.absent_days, round(sum(s.leave_days.values()), 2))
    return dict(zip(TOTALS, values, strict=True))


def _by_weekday(staff_days: Sequence[Mapping], key: str) -> list[int]:
    counts = [0] * 7
    for d in staff_days:
        if d.get(key):
            counts[d["work_date"].weekday()] += int(d[key])
    return counts


def build_bulletin(
    rows: Mapping[str, Sequence[Mapping]],
    *,
    centre: str,
    period: Period,
    issued: date,
    names: Mapping[str, str],
    windows: Sequence[tuple[str, str]],
    devices: Sequence[DeviceHealth] = (),
    final: bool = False,
    rules_version: str = "",
    flag_rules: Mapping[str, str] | None = None,
    group_titles: Mapping[str, str] | None = None,
    slot_labels: Mapping[str, Mapping[str, str]] | None = None,
) -> Bulletin:
    """The bulletin for ``period`` from its scoring rows (see :func:`daemon.period_results.scoring_rows`).

    ``windows`` is (code, name) in the config's order, which is the order of
    the per-window tables; ``names`` maps staff numbers to names; ``slot_labels``: per window
    code, the timetable's label of each slot name (the annex's 时段 column).
    """
    staff_days = rows.get("staff_days", ())
    leave = _leave_by_staff(staff_days)
    window_rows = {r["window_code"]: r for r in rows.get("window_periods", ())}
    sections: dict[str, WindowSection] = {}
    for code, name in windows:
        w = window_rows.get(code, {})
        sections[code] = WindowSection(
            code=code,
            name=w.get("window_name") or name,
            rank=int(w.get("rank") or 0),
            score=float(w.get("attendance_score") or 0.0),
            max_points=float(w.get("max_points") or 0.0),
            staff_count=int(w.get("staff_count") or 0),
            red_flag=bool(w.get("red_flag")),
            chief_onsite_ratio=w.get("chief_onsite_ratio"),
            ranking_group=w.get("ranking_group") or "",
            score_percent=w.get("score_percent"),
        )
    kinds_seen: set[str] = set()
    for r in sorted(rows.get("staff_periods", ()), key=lambda r: (r["window_code"], natural_key(r["staff_no"]))):
        no = r["staff_no"]
        by_kind = {k: round(v, 2) for k, v in leave.get(no, {}).items() if k != "midday"}
        kinds_seen |= set(by_kind)
        line = StaffLine(
            staff_no=no,
            name=names.get(no, ""),
            window=r["window_code"],
            scheduled_days=int(r["scheduled_days"]),
            present_days=int(r["present_days"]),
            late=int(r["late_count"]),
            early=int(r["early_count"]),
            missing=int(r["missing_punches"]),
            absent_days=float(r["absent_days"]),
            leave_days=by_kind,
            midday_leave=int(r["midday_leave_count"]),
            off_post=int(r["off_post_count"]),
            deduction=float(r["deduction_points"]),
            max_points=float(r["max_points"]),
            score=float(r["attendance_score"]),
            grade=r.get("grade") or "",
            disqualified=bool(r["disqualified"]),
            reasons=list(r.get("disqualify_reasons") or []),
            excused=int(r.get("excused_punches") or 0),
            grade_note=r.get("grade_note") or "",
        )
        section = sections.get(line.window)
        if section is None:  # a window the config no longer lists: keep its people visible
            section = sections[line.window] = WindowSection(line.window, line.window, 0, 0.0, 0.0, 0, False, None)
        section.staff.append(line)
    window_of = {s.staff_no: s.window for sec in sections.values() for s in sec.staff}
    window_name = {code: sec.name for code, sec in sections.items()}
    annex = [
        AnnexLine(
            staff_no=x["staff_no"],
            name=names.get(x["staff_no"], ""),
            window=window_name.get(window_of.get(x["staff_no"], ""), window_of.get(x["staff_no"], "")),
            day=x.get("work_date"),
            slot=x.get("slot"),
            slot_label=(slot_labels or {}).get(window_of.get(x["staff_no"], ""), {}).get(x.get("slot") or "", ""),
            rule=x["rule"],
            points=float(x["points"]),
            evidence=x.get("evidence") or "",
            ref=x["ref"],
            note=x.get("note") or "",
        )
        for x in rows.get("deductions", ())
    ]
    order = {sec.name: i for i, sec in enumerate(sections.values())}  # the config's window order
    annex.sort(
        key=lambda a: (
            order.get(a.window, len(order)),
            a.window,
            natural_key(a.staff_no),
            a.day or date.min,
            a.slot or "",
            a.ref,
        )
    )
    if period.kind == "month":
        for sec in sections.values():
            sec.daily = daily_grid(
                sec.code, period, [(s.staff_no, s.name, _daily_totals(s)) for s in sec.staff], staff_days
            )
    return Bulletin(
        centre=centre,
        period=period,
        issued=issued,
        final=final,
        windows=list(sections.values()),
        annex=annex,
        devices=list(devices),
        leave_kinds=[k for k in labels.LEAVE_KINDS if k in kinds_seen] + sorted(kinds_seen - set(labels.LEAVE_KINDS)),
        lates_by_weekday=_by_weekday(staff_days, "late_count"),
        early_by_weekday=_by_weekday(staff_days, "early_count"),
        rules_version=rules_version,
        not_assessed=[
            NotAssessedLine(
                x["staff_no"],
                names.get(x["staff_no"], ""),
                window_name.get(x["window_code"], x["window_code"]),
                labels.not_assessed(x["reason"]),
            )
            for x in sorted(
                rows.get("not_assessed", ()),
                key=lambda x: (
                    order.get(window_name.get(x["window_code"], ""), len(order)),
                    natural_key(x["staff_no"]),
                ),
            )
        ],
        flag_rules=dict(flag_rules or {}),
        group_titles=dict(group_titles or {}),
    )
