"""The whole assessment's mechanics (issue 18, ``rules.assessment``): the presets' ``[assessment]``
validates with key paths, records are checked against the document's ranges, categories cap (扣完为止)
or carry, the attendance category is scaled, a category with nothing yet is not assessed (never full
marks) and makes the total provisional, ranks share ties, red flags never exceed their count.

The per-preset scenarios over several months, quoting their documents, are in
``tests/rules/presets/test_assessment_presets.py``.
"""

from __future__ import annotations

from datetime import date

import pytest

from rules import PRESETS, RulesError, parse_period, resolve_policy
from rules.assessment import (
    AttendanceScore,
    CategoryScore,
    Record,
    Subject,
    assess,
    check_record,
    period_index,
)
from rules.policy import policy_problems

MARCH = parse_period("2026-03")
D = date(2026, 3, 10)


def scheme(preset: str, kind: str = "window"):
    a = resolve_policy("hall", preset).assessment
    assert a is not None
    s = a.scheme(kind)
    assert s is not None
    return s


def windows(*ids: str) -> list[Subject]:
    return [Subject("window", i) for i in ids]


def full(*ids: str, points: float = 10, max_points: float = 10) -> dict[str, AttendanceScore]:
    return {i: AttendanceScore(points, max_points) for i in ids}


@pytest.mark.parametrize("preset", PRESETS)
def test_every_preset_transcribes_a_100_point_scheme_with_its_attendance_category(preset: str) -> None:
    """Each preset's ``[assessment]`` validates; each scheme's categories make the document's 基本分 100;
    the scheme of the policy's own subject has the policy's category as its attendance category, at the
    policy's maximum (so its score is used unscaled)."""
    policy = resolve_policy("hall", preset)
    a = policy.assessment
    assert a is not None
    schemes = [s for s in (a.window, a.staff) if s is not None]
    assert schemes
    for s in schemes:
        # 上虞 scores people only through their window: its staff scheme is their own 工作纪律 (site default)
        assert s.max_total == (10 if (preset, s.subject) == ("shangyu", "staff") else 100), (preset, s.subject)
        assert all(c.clause.strip() for c in s.categories)
    own = a.scheme(policy.subject)
    assert own is not None
    att = [c for c in own.categories if c.attendance]
    assert len(att) == 1 and att[0].max == policy.max_points, (preset, att)


def test_an_override_mistake_in_the_assessment_is_named_by_its_key_path() -> None:
    """A wrong value or an unknown key under ``assessment`` is refused naming where it is."""
    problems = policy_problems("x", "shangyu", {"assessment": {"window": {"red_flags": {"count": 0}}}})
    assert [p.path for p in problems] == ["policies.x.assessment.window.red_flags.count"]
    problems = policy_problems("x", "shangyu", {"assessment": {"window": {"ranking": {"tie": "share"}}}})
    assert problems[0].path == "policies.x.assessment.window.ranking.tie" and "did you mean" in problems[0].message
    mine = resolve_policy("x", "shangyu", {"assessment": {"window": {"red_flags": {"count": 5}}}})
    assert mine.assessment and mine.assessment.window and mine.assessment.window.red_flags
    assert mine.assessment.window.red_flags.count == 5
    assert len(mine.assessment.window.categories) == 10  # the rest of the preset's scheme kept
    (wrong,) = policy_problems("x", "shangyu", {"assessment": {"window": {"subject": "staff"}}})
    assert wrong.path == "policies.x.assessment" and "window scheme assesses window" in wrong.message


def test_records_are_checked_against_the_document() -> None:
    """上虞 二、1 办件管理 每起扣1-5分; 倒扣 1 发生一起扣10分; 倒扣 7 is computed from attendance, never
    recorded; a name that is no category, a negative figure, the wrong kind of subject are refused."""
    s = scheme("shangyu")
    assert check_record(s, Record("window", "W1", D, "办件管理", 3)) == []
    assert check_record(s, Record("window", "W1", D, "办件管理", 0)) == []  # assessed, nothing found
    (msg,) = check_record(s, Record("window", "W1", D, "办件管理", 6))
    assert msg.startswith("points: 6 is outside 办件管理's 1–5 per case")
    assert "no category" in check_record(s, Record("window", "W1", D, "办件", 1))[0]
    assert check_record(s, Record("window", "W1", D, "", 10, kind="back", item="1")) == []
    assert check_record(s, Record("window", "W1", D, "", 10, kind="back", item="执行不力")) == []
    assert "costs 10 a case" in check_record(s, Record("window", "W1", D, "", 5, kind="back", item="1"))[0]
    assert "computed by attendd" in check_record(s, Record("window", "W1", D, "", 5, kind="back", item="7"))[0]
    assert "no 倒扣 item" in check_record(s, Record("window", "W1", D, "", 5, kind="back", item="8"))[0]
    assert "outside the bonus's 0.2–5" in check_record(s, Record("window", "W1", D, "", 6, kind="bonus"))[0]
    assert "magnitude" in check_record(s, Record("window", "W1", D, "办件管理", -1))[0]
    assert "not staff" in check_record(s, Record("staff", "101", D, "办件管理", 1))[0]
    assert "一票否决" in check_record(s, Record("window", "W1", D, "", 0, kind="veto", item="x"))[0]


def test_assess_refuses_a_bad_record_naming_it() -> None:
    with pytest.raises(RulesError) as err:
        assess(scheme("shangyu"), MARCH, windows("W1"), {}, [Record("window", "W1", D, "办件管理", 9, ref="r7")])
    assert err.value.path == "records[r7]" and "1–5" in err.value.message


def test_a_category_caps_at_zero_or_carries_into_the_total() -> None:
    """上虞 二、4 网络管理 … 扣完为止: 4 + 8 of 10 points leaves 0, not −2 (lost 2). 002 一、(四) 收费管理
    (10分) … 本项分不够扣，可在其它项得分中倒扣: 5 + 5 + 5 leaves −5, taken off the total."""
    s = scheme("shangyu")
    recs = [Record("window", "W1", D, "网络管理", 4), Record("window", "W1", D, "网络管理", 8)]
    (a,) = assess(s, MARCH, windows("W1"), full("W1"), recs, complete=[c.name for c in s.categories])
    net = next(c for c in a.categories if c.category == "网络管理")
    assert (net.score, net.deducted, net.lost, net.records, net.source) == (0, 12, 2, 2, "records")
    assert a.total == 90 and not a.provisional
    s2 = scheme("county-002")
    q1 = parse_period("2026-Q1")
    recs = [Record("window", "W1", D, "收费管理", 5) for _ in range(3)]
    (b,) = assess(s2, q1, windows("W1"), full("W1"), recs, complete=[c.name for c in s2.categories])
    fee = next(c for c in b.categories if c.category == "收费管理")
    assert (fee.score, fee.lost) == (-5, 0) and b.total == 85


def test_the_attendance_category_is_the_policy_score_scaled_and_takes_its_records() -> None:
    """The attendance category's score is the attendance policy's, scaled to the category's maximum
    when they differ (an override's 50-point policy: 40 of 50 is 8 of 10), minus the records written
    on it (上虞 二、5 (3) 会议迟到 每起扣0.2—2分)."""
    s = scheme("shangyu")
    cats = [c.name for c in s.categories]
    att = {"W1": AttendanceScore(40, 50)}
    (a,) = assess(s, MARCH, windows("W1"), att, [Record("window", "W1", D, "工作纪律", 1.5)], complete=cats)
    work = next(c for c in a.categories if c.category == "工作纪律")
    assert (work.score, work.source, work.deducted) == (6.5, "attendance", 1.5) and a.total == 96.5


def test_a_category_with_nothing_yet_is_not_assessed_and_the_total_provisional() -> None:
    """Issue 18 (3): a category with no records yet is not assessed — never full marks — and a total
    with a category missing is provisional: shown (the assessed categories' sum), not ranked, not
    flagged. A deduction of 0 marks a category assessed with nothing found; ``complete`` declares a
    category assessed for every subject; another system's score assesses it too."""
    s = scheme("shangyu")
    names = [c.name for c in s.categories]
    others = [n for n in names if n not in ("办件管理", "工作纪律")]
    recs = [Record("window", "W2", D, "办件管理", 0)]
    scores = [
        CategoryScore("2026-03", "window", "W3", "办件管理", 18),
        CategoryScore("2026-02", "window", "W1", "办件管理", 1),
    ]
    out = assess(s, MARCH, windows("W1", "W2", "W3", "W4"), full("W1", "W2", "W3"), recs, scores, complete=others)
    w1, w2, w3, w4 = out
    assert w1.provisional and w1.missing == ("办件管理",) and w1.total == 80 and w1.rank is None and not w1.last
    assert not w2.provisional and w2.total == 100 and w2.rank == 1
    assert not w3.provisional and w3.total == 98 and w3.rank == 2 and w3.last
    assert w3.categories[0].source == "score"
    assert w4.missing == ("办件管理", "工作纪律") and w4.provisional and w4.total == 70
    assert [a.red_flag for a in out] == [False, True, True, False]
    (none,) = assess(s, MARCH, windows("W9"), {})
    assert none.total is None and none.provisional and len(none.missing) == 10


def test_another_systems_score_and_records_for_one_category_are_refused() -> None:
    s = scheme("shangyu")
    recs = [Record("window", "W1", D, "办件管理", 1)]
    with pytest.raises(RulesError, match="give one or the other"):
        assess(s, MARCH, windows("W1"), {}, recs, [CategoryScore("2026-03", "window", "W1", "办件管理", 18)])
    with pytest.raises(RulesError, match="outside 0–20"):
        assess(s, MARCH, windows("W1"), {}, [], [CategoryScore("2026-03", "window", "W1", "办件管理", 21)])
    with pytest.raises(RulesError, match="no category"):
        assess(s, MARCH, windows("W1"), {}, [], [CategoryScore("2026-03", "window", "W1", "办件", 1)])


def test_records_of_another_period_or_subject_kind_do_not_count() -> None:
    s = scheme("shangyu")
    cats = [c.name for c in s.categories]
    recs = [
        Record("window", "W1", date(2026, 2, 27), "办件管理", 5),
        Record("window", "W1", date(2026, 4, 1), "办件管理", 5),
        Record("staff", "W1", D, "办件管理", 5),
    ]
    (a,) = assess(s, MARCH, windows("W1"), full("W1"), recs, complete=cats)
    assert a.total == 100


def test_bonus_items_cap_then_the_whole_bonus_caps() -> None:
    """宜黄 四、(四) 1 新闻媒体采用 … 最高累计不超过10分: 4 + 4 + 4 counts 10; 五、2 加分可以突破100分 (no cap
    on the whole). 上虞 二、12 附加分（5分）: 3 + 3 counts 5."""
    y = scheme("yihuang")
    bonus = [Record("window", "W1", D, "", 4, kind="bonus", item="新闻媒体采用") for _ in range(3)]
    bonus.append(Record("window", "W1", D, "", 10, kind="bonus", item="2"))
    (a,) = assess(y, MARCH, windows("W1"), {"W1": AttendanceScore(45, 45)}, bonus, complete=["单位重视", "服务规范"])
    assert (a.bonus, a.bonus_claimed, a.total) == (20, 22, 120)
    s = scheme("shangyu")
    bonus = [Record("window", "W1", D, "", 3, kind="bonus") for _ in range(2)]
    (b,) = assess(s, MARCH, windows("W1"), full("W1"), bonus, complete=[c.name for c in s.categories])
    assert (b.bonus, b.bonus_claimed, b.total) == (5, 6, 105)


def test_ties_share_a_rank_and_the_flag_boundary_never_exceeds_the_count() -> None:
    """Equal totals share a rank (1, 1, 3 …); 宜黄 五、1 前5名为流动红旗窗口: with the 5th and 6th tied, flagging
    both would make six, so neither is flagged (``ties = "exclude"``); ``share`` flags both."""
    y = scheme("yihuang")
    subjects = windows(*(f"W{i}" for i in range(1, 8)))
    att = {f"W{i}": AttendanceScore(s, 45) for i, s in zip(range(1, 8), (45, 45, 44, 43, 42, 42, 41), strict=True)}
    out = assess(y, MARCH, subjects, att, complete=["单位重视", "服务规范"])
    assert [a.rank for a in out] == [1, 1, 3, 4, 5, 5, 7]
    assert [a.red_flag for a in out] == [True, True, True, True, False, False, False]
    assert [a.last for a in out] == [False] * 6 + [True]
    shared = y.model_copy(update={"red_flags": y.red_flags.model_copy(update={"ties": "share"})})  # type: ignore[union-attr]
    assert [a.red_flag for a in assess(shared, MARCH, subjects, att, complete=["单位重视", "服务规范"])] == [
        True
    ] * 6 + [False]


def test_ties_broken_by_the_attendance_category_where_the_scheme_says() -> None:
    """``ranking.ties = "attendance"``: equal totals (99: A loses 1 of 工作纪律, B and C 1 of 办件管理) are
    ordered by the attendance category, then share; the presets' ``share`` ties all three."""
    s = scheme("shangyu")
    by_att = s.model_copy(update={"ranking": s.ranking.model_copy(update={"ties": "attendance"})})
    cats = [c.name for c in s.categories]
    att = {"A": AttendanceScore(9, 10), "B": AttendanceScore(10, 10), "C": AttendanceScore(10, 10)}
    recs = [Record("window", "B", D, "办件管理", 1), Record("window", "C", D, "办件管理", 1)]
    out = assess(by_att, MARCH, windows("A", "B", "C"), att, recs, complete=cats)
    assert [(a.total, a.rank) for a in out] == [(99, 3), (99, 1), (99, 1)]  # A's 工作纪律 9 is below B's and C's
    assert [a.rank for a in assess(s, MARCH, windows("A", "B", "C"), att, recs, complete=cats)] == [1, 1, 1]


def test_ranking_groups_rank_apart() -> None:
    s = scheme("shangyu")
    cats = [c.name for c in s.categories]
    subjects = [
        Subject("window", "A", group="hall"),
        Subject("window", "B", group="hall"),
        Subject("window", "C", group="annex"),
    ]
    att = {"A": AttendanceScore(9, 10), "B": AttendanceScore(8, 10), "C": AttendanceScore(5, 10)}
    a, b, c = assess(s, MARCH, subjects, att, complete=cats)
    assert (a.rank, b.rank, c.rank) == (1, 2, 1) and b.last and not c.last  # one window is no last place


def test_period_keys() -> None:
    assert period_index("2026-03") == ("month", 2026, 3)
    assert period_index("2026-Q4") == ("quarter", 2026, 4)
    assert period_index("2026-H1") == ("half", 2026, 1)
    assert period_index("2026") == ("year", 2026, 1)
