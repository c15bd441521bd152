"""Issue 18 (6): every preset's whole assessment fits the scoring DB's contract on SQLite,
PostgreSQL and MariaDB — a year of each preset's periods, assessed by the rules (categories, bonus,
倒扣, totals, ranks, red flags, grades, the notices across periods), pushed slice by slice and read
back exactly as computed. A Chinese notice kind, a category name or a grade that did not fit its
column, or a slice that kept another period's rows, fails here.
"""

from __future__ import annotations

from datetime import UTC, datetime

import rules
from daemon.assessment import Outcome, scoring_rows
from daemon.scoring import ScoringDB
from rules import resolve_policy
from rules.assessment import AttendanceScore, Record, Subject, assess, notices

PRESETS = ("shangyu", "sanjiang", "county-002", "luoshan", "yihuang", "yihuang-staff", "county-004-5")
PERIODS = {"month": [f"2026-{m:02d}" for m in range(1, 13)], "quarter": [f"2026-Q{q}" for q in range(1, 5)]}
PERIODS |= {"half": ["2026-H1", "2026-H2"], "year": ["2026"]}
T0 = datetime(2027, 1, 5, 2, 0, tzinfo=UTC)


def year_of(preset: str) -> list[Outcome]:
    """Each scheme of ``preset`` over 2026: five subjects, the last one always last (its records
    take points in the first category that allows a record), all categories declared complete."""
    a = resolve_policy("hall", preset).assessment
    assert a is not None
    by_period: dict[str, list] = {}
    history = []
    for kind in ("window", "staff"):
        scheme = a.scheme(kind)
        if scheme is None:
            continue
        ids = [f"{kind[0].upper()}{i}" for i in range(1, 6)]
        att_cat = next((c for c in scheme.categories if c.attendance), None)
        target = next((c for c in scheme.categories if not c.attendance), None)
        points = target.range[0] if target is not None and target.range else 1.0
        full = att_cat.max if att_cat else 1
        for key in PERIODS[scheme.period]:
            period = rules.parse_period(key)
            # the last subject is last: a point less attendance, and records where a category takes them
            att = {s: AttendanceScore(full - (s == ids[-1]), full) for s in ids}
            recs = [
                Record(kind, ids[-1], period.start, target.name, points, ref=f"{key}-{n}")  # type: ignore[arg-type]
                for n in range(3)
                if target is not None
            ]
            subjects = [Subject(kind, s, window="W1" if kind == "staff" else s) for s in ids]  # type: ignore[arg-type]
            complete = [c.name for c in scheme.categories if not c.attendance]
            results = assess(scheme, period, subjects, att, recs, complete=complete)
            by_period.setdefault(key, []).extend(results)
            history += results
    issued = notices(a, history, members={"W1": ["S1", "S2", "S3", "S4", "S5"]})
    outcomes = []
    for key, results in by_period.items():
        period = rules.parse_period(key)
        mine = [n for n in issued if rules.parse_period(n.period_key).end == period.end]
        outcomes.append(Outcome(period, results, mine))
    return outcomes


def _check(db: ScoringDB) -> None:
    for preset in PRESETS:
        outcomes = year_of(preset)
        for o in outcomes:
            rows = scoring_rows(o, is_final=True)
            db.push_period(
                period_kind=o.period.kind,
                period_key=o.period.key,
                start=o.period.start,
                end=o.period.end,
                staff_days=[],
                staff_periods=[],
                window_periods=[],
                deductions=[],
                rules_version=preset,
                computed_at=T0,
                run_id=f"{preset}-{o.period.key}",
                assessment=rows,
            )
            for name, table in (
                ("assessment_totals", "att_assessment_total"),
                ("category_scores", "att_category_score"),
                ("notices", "att_notice"),
            ):
                stored = db.rows(table, period_key=o.period.key)
                want = rows[name]
                assert len(stored) == len(want), (preset, o.period.key, table)
                keys = [k for k in want[0]] if want else []
                got = sorted(tuple(str(r[k]) for k in keys) for r in stored)
                assert got == sorted(tuple(str(r[k]) for k in keys) for r in want), (preset, o.period.key, table)
        # each preset's year issues something across periods, or flags and grades someone
        assert any(o.notices or any(a.red_flag or a.grade for a in o.results) for o in outcomes), preset


def test_every_presets_year_round_trips_through_a_sqlite_scoring_db(tmp_path):
    db = ScoringDB(f"sqlite:///{tmp_path / 'scoring.db'}")
    db.upgrade()
    try:
        _check(db)
    finally:
        db.close()


def test_every_presets_year_round_trips_through_a_server_scoring_db(server_db):
    """PostgreSQL and MariaDB (``server_db`` is parametrised over both)."""
    url, schema = server_db
    db = ScoringDB(url, schema=schema)
    db.upgrade()
    try:
        _check(db)
    finally:
        db.close()
