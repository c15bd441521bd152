"""The whole assessment of a period (issue 18): every category of the document, totals, ranking,
red flags, grades and the notices across periods — where the centre wants it (``[assessment]
enabled = true``).

The rules are in :mod:`rules.assessment` (pure); this module gathers their inputs: the attendance
category from the attendance evaluation of the same period, the supervisor's records
(``attendd import assessments``) and the category scores from other systems (``attendd import
category-scores``) from the store, and, for the notices, the same assessment of every earlier
period of the year (two months last in a row, three in a year, the four quarters of a red flag).

A window's scheme is its policy's ``[assessment]``; windows whose policies share a preset are
assessed together (one ranking per ranking group), each policy on its own otherwise.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

import rules
from rules import Period
from rules.assessment import Assessed, AttendanceScore, CategoryScore, Notice, Record, Subject, assess, notices

from .config import Config
from .errors import UserError
from .store import Store
from .store.models import assessment_record_table, category_score_table, staff_table


@dataclass
class Outcome:
    """A period's whole assessment: every subject's result (windows first), and the notices and
    honours issued for it (a quarter's or a year's when the period ends one)."""

    period: Period
    results: list[Assessed] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)

    @property
    def windows(self) -> list[Assessed]:
        return [a for a in self.results if a.subject_kind == "window"]

    @property
    def staff(self) -> list[Assessed]:
        return [a for a in self.results if a.subject_kind == "staff"]


def enabled(config: Config) -> bool:
    return bool(config.assessment.enabled) and any(schemes(config).values())


def schemes(config: Config) -> dict[str, Any]:
    """Policy name → its ``rules.Assessment`` (None where the preset has none)."""
    from .period_results import compile_rules

    _, policies, _, _ = compile_rules(config)
    by_policy: dict[str, Any] = {}
    for w in config.windows:
        by_policy.setdefault(w.policy, getattr(policies[w.code], "assessment", None))
    return by_policy


def _records(store: Store, start: date, end: date) -> list[dict]:
    t = assessment_record_table
    with store.reading() as conn:
        q = select(t).where(t.c.day >= start, t.c.day < end, t.c.withdrawn_utc.is_(None)).order_by(t.c.ref)
        return [dict(r) for r in conn.execute(q).mappings()]


def _scores(store: Store, key: str) -> list[dict]:
    t = category_score_table
    with store.reading() as conn:
        q = select(t).where(t.c.period_key == key, t.c.withdrawn_utc.is_(None)).order_by(t.c.ref)
        return [dict(r) for r in conn.execute(q).mappings()]


def subject_of(row: dict) -> tuple[str, str]:
    """A record's subject: a person when it names a staff number, else its window."""
    return ("staff", row["staff_no"]) if row.get("staff_no") else ("window", row["window_code"])


def as_record(row: dict) -> Record:
    kind, subject = subject_of(row)
    return Record(
        subject_kind=kind,  # type: ignore[arg-type]
        subject=subject,
        day=row["day"],
        category=row["category"],
        points=row["points"],
        kind=row["kind"],
        item=row.get("item") or "",
        note=row.get("note") or "",
        ref=row["ref"],
        recorded_by=row.get("recorded_by") or "",
    )


def _one_period(store: Store, config: Config, period: Period, ev: rules.Evaluation | None = None) -> list[Assessed]:
    """Every scheme's results for ``period`` (only the schemes whose period is ``period.kind``)."""
    from .period_results import evaluate

    in_use = {name: a for name, a in schemes(config).items() if a is not None}
    wanted = [
        (name, kind, scheme)
        for name, a in in_use.items()
        for kind in ("window", "staff")
        if (scheme := a.scheme(kind)) is not None and scheme.period == period.kind
    ]
    if not wanted:
        return []
    if ev is None:
        ev = evaluate(store, config, period)
    windows = {w.window: w for w in ev.windows}
    staff = {s.staff_no: s for s in ev.staff if s.in_assessment}
    group = {w.code: w.ranking_group or "" for w in config.windows}
    policy_of = {w.code: w.policy for w in config.windows}
    records = [as_record(r) for r in _records(store, period.start, period.end)]
    scores = [
        CategoryScore(r["period_key"], *subject_of(r), r["category"], r["score"])  # type: ignore[arg-type]
        for r in _scores(store, period.key)
    ]
    out: list[Assessed] = []
    for name, kind, scheme in wanted:
        codes = [c for c, p in policy_of.items() if p == name]
        if kind == "window":
            subjects = [Subject("window", c, c, group[c]) for c in codes if c in windows]
            attendance = {
                c: AttendanceScore(
                    windows[c].attendance_score,
                    windows[c].max_points,
                    rules=frozenset(d.rule for d in windows[c].deductions),
                )
                for c in codes
                if c in windows
            }
        else:
            people = [s for s in staff.values() if s.window in codes]
            subjects = [Subject("staff", s.staff_no, s.window, group[s.window]) for s in people]
            attendance = {
                s.staff_no: AttendanceScore(
                    s.attendance_score,
                    s.max_points,
                    tuple(s.disqualify_reasons),
                    tuple(s.no_excellent_reasons),
                    frozenset(d.rule for d in s.deductions),
                )
                for s in people
            }
        try:
            out += assess(scheme, period, subjects, attendance, records, scores)
        except rules.RulesError as exc:
            raise UserError(f"the {scheme.title or name} assessment of {period.key}: {exc}") from None
    return out


def _earlier(config: Config, period: Period) -> list[Period]:
    """The periods of ``period``'s kind before it in its year, from go-live on."""
    from .outbox import before_go_live

    out: list[Period] = []
    p = rules.period_of(period.kind, period.start - timedelta(days=1))
    while p.start.year == period.start.year and p.start < period.start and not before_go_live(config, p):
        out.append(p)
        p = rules.period_of(period.kind, p.start - timedelta(days=1))
    return out[::-1]


def assess_period(
    store: Store, config: Config, period: Period, *, evaluation: rules.Evaluation | None = None
) -> Outcome | None:
    """The whole assessment of ``period``, or None when the centre does not use it (``[assessment]
    enabled``) or no scheme is assessed per ``period.kind``. ``evaluation``: the period's attendance
    results when the caller has them already (the snapshot)."""
    if not enabled(config):
        return None
    results = _one_period(store, config, period, evaluation)
    if not results:
        return None
    history = list(results)
    for p in _earlier(config, period):
        history += _one_period(store, config, p)
    members: dict[str, list[str]] = defaultdict(list)
    with store.reading() as conn:
        for no, window in conn.execute(select(staff_table.c.staff_no, staff_table.c.window_code)):
            members[window].append(no)
    issued: list[Notice] = []
    for a in {id(a): a for a in schemes(config).values() if a is not None}.values():
        issued += notices(a, history, members=members)
    return Outcome(period, results, [n for n in _dedup(issued) if _ends_with(n.period_key, period)])


def _dedup(items: Iterable[Notice]) -> list[Notice]:
    seen: dict[tuple, Notice] = {}
    for n in items:
        seen.setdefault((n.period_key, n.subject_kind, n.subject, n.kind, n.rule), n)
    return list(seen.values())


def _ends_with(key: str, period: Period) -> bool:
    """A notice for ``key`` is issued with ``period`` when that period ends where ``key``'s does (a
    quarter's honour with the quarter's last month)."""
    try:
        p = rules.parse_period(key)
    except (rules.RulesError, ValueError):
        return False
    return p.end == period.end and p.start <= period.start


# --- the scoring DB's rows ------------------------------------------------------------------------


def scoring_rows(outcome: Outcome, *, is_final: bool = False) -> dict[str, list[dict[str, Any]]]:
    """``att_category_score``, ``att_assessment_total`` and ``att_notice`` rows of the outcome."""
    p = outcome.period
    head = {"period_kind": p.kind, "period_key": p.key}
    categories, totals = [], []
    for a in outcome.results:
        who = {**head, "subject_kind": a.subject_kind, "subject": a.subject}
        for c in a.categories:
            categories.append(
                {
                    **who,
                    "category": c.category,
                    "window_code": a.window,
                    "max_points": c.max_points,
                    "score": c.score,
                    "deducted": c.deducted,
                    "lost": c.lost,
                    "records": c.records,
                    "source": c.source,
                    "is_final": is_final,
                }
            )
        totals.append(
            {
                **who,
                "window_code": a.window,
                "ranking_group": a.group,
                "total": a.total,
                "max_total": a.max_total,
                "bonus": a.bonus,
                "back": a.back,
                "provisional": a.provisional,
                "missing": list(a.missing),
                "rank": a.rank,
                "last_place": a.last,
                "red_flag": a.red_flag,
                "grade": a.grade,
                "grade_note": a.grade_note,
                "disqualified": a.disqualified,
                "year_disqualified": a.year_disqualified,
                "disqualify_reasons": list(a.disqualify_reasons),
                "is_final": is_final,
            }
        )
    issued = [
        {
            **head,
            "subject_kind": n.subject_kind,
            "subject": n.subject,
            "kind": n.kind,
            "rule": n.rule,
            "notice_period": n.period_key,
            "effect": n.effect,
            "reason": n.reason,
            "periods": list(n.periods),
            "is_final": is_final,
        }
        for n in outcome.notices
    ]
    return {"category_scores": categories, "assessment_totals": totals, "notices": issued}


def ordered(results: Sequence[Assessed]) -> list[Assessed]:
    """By group, then rank (the unranked last), then subject."""
    return sorted(results, key=lambda a: (a.subject_kind != "window", a.group, a.rank or 10**6, a.subject))


__all__ = ["Outcome", "as_record", "assess_period", "enabled", "ordered", "scoring_rows", "subject_of"]
