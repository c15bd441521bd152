"""The whole assessment of each preset (issue 18), hand-computed scenarios over several periods.

Each section quotes its seed document. The periods' results go through ``rules.assessment.assess``
(categories, bonus, 倒扣, totals, ranking, red flags, grades) and their history through
``rules.assessment.notices`` (last places in a row and in a year, the annual red flag, the year without
one, honours with their counts). The non-attendance categories are declared complete
(``complete=``), so a subject's total is 100 minus its records unless a test says otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from rules import parse_period, resolve_policy
from rules.assessment import AttendanceScore, CategoryScore, Record, Subject, assess, notices

if TYPE_CHECKING:
    from rules.assessment import Assessed, Assessment, Notice, Scheme


def assessment(preset: str) -> Assessment:
    a = resolve_policy("hall", preset).assessment
    assert a is not None
    return a


def run(
    scheme: Scheme,
    key: str,
    attendance: Mapping[str, float],
    records: Iterable[tuple[str, str, float, str, str]] = (),
    *,
    subjects: Sequence[Subject] | None = None,
    scores: Iterable[CategoryScore] = (),
    flags: Mapping[str, tuple[str, ...]] | None = None,
    incomplete: Sequence[str] = (),
) -> list[Assessed]:
    """One period of ``scheme``: ``attendance`` subject → its attendance score (at the category's
    maximum); ``records`` (subject, category, points, kind, item), dated the period's first day;
    ``flags`` subject → the attendance findings that cancel 评先."""
    period = parse_period(key)
    att_cat = next((c for c in scheme.categories if c.attendance), None)
    att = {
        s: AttendanceScore(v, att_cat.max if att_cat else 1, disqualify_reasons=(flags or {}).get(s, ()))
        for s, v in attendance.items()
    }
    recs = [Record(scheme.subject, s, period.start, cat, pts, kind, item) for s, cat, pts, kind, item in records]  # type: ignore[arg-type]
    complete = [c.name for c in scheme.categories if not c.attendance and c.name not in incomplete]
    if subjects is None:
        subjects = [Subject(scheme.subject, s) for s in attendance]
    return assess(scheme, period, subjects, att, recs, scores, complete=complete)


def by_id(results: Iterable[Assessed]) -> dict[str, Assessed]:
    return {a.subject: a for a in results}


def cases(points: float, most: float = 5) -> list[float]:
    """``points`` as cases of at most ``most`` each (上虞 办件管理 每起扣1-5分: 6 is 5 + 1)."""
    out = [most] * int(points // most)
    return [*out, points - sum(out)] if points - sum(out) else out


def fired(ns: Iterable[Notice]) -> list[tuple[str, str, str, str]]:
    return sorted((n.period_key, n.subject, n.kind, n.rule) for n in ns)


# --- 上虞 (seed 000) ---------------------------------------------------------------------------------
# 一、1 窗口服务实行"流动红旗"考核，每月一次，根据考核得分高低，评定前8位为"红旗"窗口，并相应评出月度先进个人；
#      连续2个月考核排名末位、全年累计3次排名末位的窗口实行"中心"内部通报；连续3个月考核排名末位、全年累计4次
#      排名末位的窗口，由"中心"向部门（单位）通报，并实行责任追究。
# 一、3 月度考核累计两次排名末位的窗口不得评为年度红旗窗口。
# 二、考核设基本分100分，附加分5分: 1 办件管理（20分）每起扣1-5分 … 3 办事效率（15分）每起扣0.5-3分 …
#      5 工作纪律（10分, the attendance category）… 12 附加分（5分）每起加0.3—5分.
# 有下列情况之一的，一律取消当月和年度评先资格，并实行倒扣分：1、… 发生一起扣10分。

SHANGYU_WINDOWS = [f"W{i:02d}" for i in range(1, 11)]


def shangyu_month(key: str, *, w02_back: bool = False, w10_last: bool = True, w09: float = 6) -> list[Assessed]:
    """Ten windows. W01: two bonus cases of 3 (附加分 capped at 5) → 105. W02: 办事效率 0.5 → 99.5 (and,
    with ``w02_back``, 倒扣 1 执行不力 10 → 89.5, disqualified). W03–W08: 办件管理 1 … 6 → 99 … 94.
    W09: 办件管理 ``w09`` (6 → 94, tied with W08). W10: 办件管理 5 × 5 = 25 of 20 (扣完为止: 0) and
    工作纪律 8 → 78, last; or without ``w10_last`` 工作纪律 8 only → 98. W11 has no attendance result
    yet: provisional (90 of the other categories), not ranked."""
    s = assessment("shangyu").window
    assert s is not None
    att = dict.fromkeys(SHANGYU_WINDOWS, 10.0) | {"W10": 8.0}
    recs: list[tuple[str, str, float, str, str]] = [("W01", "", 3, "bonus", ""), ("W01", "", 3, "bonus", "")]
    recs.append(("W02", "办事效率", 0.5, "deduction", ""))
    if w02_back:
        recs.append(("W02", "", 10, "back", "执行不力"))
    for w, points in [(f"W{i:02d}", i - 2.0) for i in range(3, 9)] + [("W09", w09)]:
        recs += [(w, "办件管理", p, "deduction", "") for p in cases(points)]
    if w10_last:
        recs += [("W10", "办件管理", 5, "deduction", "")] * 5
    subjects = [Subject("window", w) for w in [*SHANGYU_WINDOWS, "W11"]]
    return run(s, key, att, recs, subjects=subjects)


def test_shangyu_a_month_totals_ranks_and_flags() -> None:
    """上虞 2026-01 by hand: totals 105, 99.5, 99 … 94, 94, 78; the 8th place is a tie (W08, W09 at 94)
    that would make nine 红旗 — so seven are flagged (前8位, never more). W10 is last. W11, without its
    attendance yet, is provisional: 90 shown, not ranked, not flagged."""
    jan = by_id(shangyu_month("2026-01"))
    assert [jan[w].total for w in SHANGYU_WINDOWS] == [105, 99.5, 99, 98, 97, 96, 95, 94, 94, 78]
    assert (jan["W01"].bonus, jan["W01"].bonus_claimed) == (5, 6)
    w10 = jan["W10"].categories[0]
    assert (w10.category, w10.score, w10.deducted, w10.lost) == ("办件管理", 0, 25, 5)
    assert [jan[w].rank for w in SHANGYU_WINDOWS] == [1, 2, 3, 4, 5, 6, 7, 8, 8, 10]
    assert [w for w in SHANGYU_WINDOWS if jan[w].red_flag] == SHANGYU_WINDOWS[:7]
    assert [w for w, a in jan.items() if a.last] == ["W10"]
    w11 = jan["W11"]
    assert w11.provisional and w11.missing == ("工作纪律",) and w11.total == 90 and w11.rank is None
    assert not w11.red_flag and not w11.last


def test_shangyu_back_deduction_cancels_the_months_and_the_years_flag() -> None:
    """有下列情况之一的，一律取消当月和年度评先资格，并实行倒扣分：1、… 发生一起扣10分. In February W02's 倒扣
    takes it to 89.5 (9th) and out of the flags; with W02 gone, W08 and W09 tied at 94 make exactly
    eight: both flagged. The year's 评先 is gone too: one 取消年度评先资格 for 2026, from February (March's
    second case adds none)."""
    feb = by_id(shangyu_month("2026-02", w02_back=True))
    w02 = feb["W02"]
    assert (w02.back, w02.total, w02.rank, w02.disqualified, w02.year_disqualified) == (10, 89.5, 9, True, True)
    assert w02.disqualify_reasons[0].startswith("执行不力（倒扣 1")
    assert [w for w in SHANGYU_WINDOWS if feb[w].red_flag] == ["W01", *SHANGYU_WINDOWS[2:9]]
    history = [*shangyu_month("2026-01"), *feb.values(), *shangyu_month("2026-03", w02_back=True)]
    year = [n for n in notices(assessment("shangyu"), history) if n.subject == "W02"]
    assert [(n.period_key, n.kind, n.effect, n.periods) for n in year] == [
        ("2026", "取消年度评先资格", "not_eligible_annual", ("2026-02",))
    ]


def test_shangyu_last_places_in_a_row_and_in_a_year() -> None:
    """一、1 / 一、3 over five months: W10 last in January, February, March and May, W09 in April.

    - February (two in a row, two in the year): 中心内部通报 (连续2个月) and 不得评为年度红旗窗口 (累计两次);
    - March (three in a row, three in the year): 中心内部通报 twice (连续2个月 still holds; 全年累计3次),
      向部门（单位）通报并责任追究 (连续3个月), 不得评为年度红旗窗口;
    - April: W09 last once — nothing; W10's run is over;
    - May (fourth in the year, not in a row): 中心内部通报 (累计3次), 向部门 (累计4次), 不得评为年度红旗窗口.
    """
    history = [
        *shangyu_month("2026-01"),
        *shangyu_month("2026-02"),
        *shangyu_month("2026-03"),
        *shangyu_month("2026-04", w10_last=False, w09=7),
        *shangyu_month("2026-05"),
    ]
    apr = by_id(a for a in history if a.period_key == "2026-04")
    assert apr["W09"].last and apr["W09"].total == 93 and apr["W10"].total == 98
    got = fired(n for n in notices(assessment("shangyu"), history) if n.subject_kind == "window")
    inner, dept, annual = "中心内部通报", "向部门（单位）通报并责任追究", "不得评为年度红旗窗口"
    assert got == sorted(
        [
            ("2026-02", "W10", inner, "last_consecutive/2"),
            ("2026-02", "W10", annual, "last_in_year/2"),
            ("2026-03", "W10", inner, "last_consecutive/2"),
            ("2026-03", "W10", inner, "last_in_year/3"),
            ("2026-03", "W10", dept, "last_consecutive/3"),
            ("2026-03", "W10", annual, "last_in_year/2"),
            ("2026-05", "W10", inner, "last_in_year/3"),
            ("2026-05", "W10", dept, "last_in_year/4"),
            ("2026-05", "W10", annual, "last_in_year/2"),
        ]
    )
    march = next(n for n in notices(assessment("shangyu"), history) if n.rule == "last_consecutive/3")
    assert march.periods == ("2026-01", "2026-02", "2026-03") and march.effect == "notice"


def test_shangyu_a_provisional_month_is_no_last_place() -> None:
    """A month whose totals are provisional is not ranked: no last place, and it breaks a run."""
    s = assessment("shangyu").window
    assert s is not None
    feb = run(s, "2026-02", {"W01": 10, "W10": 8}, incomplete=["办件管理"])
    assert all(a.provisional and a.rank is None and not a.last for a in feb)
    history = [*shangyu_month("2026-01"), *feb, *shangyu_month("2026-03")]
    assert not [n for n in notices(assessment("shangyu"), history) if n.rule.startswith("last_consecutive")]


def test_shangyu_monthly_honour_one_from_each_red_flag_window() -> None:
    """一、1 评定前8位为"红旗"窗口，并相应评出月度先进个人 (site default: one person from each red-flag
    window, the best standing there — 上虞's staff standing is their own 工作纪律). January's red-flag
    windows are W01–W07: in W01 101 (10) beats 102 (9); in W02 201 and 202 tie at 9.5 (no one: never
    more than one a window); W10 is not a red-flag window, so its best (1001, 10) is not chosen."""
    a = assessment("shangyu")
    assert a.staff is not None
    people = {
        "101": ("W01", 10.0),
        "102": ("W01", 9.0),
        "201": ("W02", 9.5),
        "202": ("W02", 9.5),
        "1001": ("W10", 10.0),
    }
    subjects = [Subject("staff", p, window=w) for p, (w, _) in people.items()]
    staff = run(a.staff, "2026-01", {p: v for p, (_, v) in people.items()}, subjects=subjects)
    got = [(n.period_key, n.subject, n.kind) for n in notices(a, [*shangyu_month("2026-01"), *staff])]
    assert got == [("2026-01", "101", "月度先进个人")]


# --- 罗山 (seed 003) ---------------------------------------------------------------------------------
# 第四条 窗口工作人员主要考核工作纪律（20分）、服务规范（20分）、出勤值勤（25分）、政务服务（20分）、文明创建
#      （15分）和其他; 第十二条 获评分80分以上（含80分）、60分（含60分）、60分以下的个人依次为优秀、称职、
#      基本称职、不称职等次；窗口依次为红旗、良好、一般、较差等次; 第十九条 优秀等次比例不超过15%;
# 第十七条（二）1 四个季度均被评为"红旗窗口"的 … 评出年度"红旗窗口"; 附件1 政务服务: 出现一次红黄牌分别扣除首席
#      代表和操作人员的考核分100分、50分，取消评先评优资格.


def test_luoshan_grades_on_the_total_with_the_15_percent_quota() -> None:
    """罗山 2026-Q1, eleven people, 工作纪律 and 服务规范 scored by another system, the rest complete:
    totals 95, 92, 90, 85, 81 (80 or more: 优秀), 79, 70, 65 (称职), 59 (基本称职), 50 (红黄牌 操作人员
    倒扣 50: 基本称职, 取消评先评优资格); S11 has no 工作纪律 / 服务规范 score yet: provisional, ungraded, not
    counted.
    15 % of the 10 assessed is 1.5 → one 优秀. S01 (95) is barred by a finding (第十五条 缺勤5个工作日, an
    attendance finding), so S02 (92) is the one; S03–S05 are 称职 with the quota's note."""
    s = assessment("luoshan").staff
    assert s is not None
    discipline = {
        "S01": 15,
        "S02": 12,
        "S03": 10,
        "S04": 5,
        "S05": 1,
        "S06": 0,
        "S07": 0,
        "S08": 0,
        "S09": 0,
        "S10": 20,
    }
    service = {"S06": 19, "S07": 10, "S08": 5, "S09": 0}
    scores = [CategoryScore("2026-Q1", "staff", p, "工作纪律", v) for p, v in discipline.items()]
    scores += [CategoryScore("2026-Q1", "staff", p, "服务规范", service.get(p, 20)) for p in discipline]
    att = dict.fromkeys(discipline, 25.0) | {"S09": 24.0, "S11": 25.0}
    recs = [("S10", "", 50, "back", "红黄牌（操作人员）")]
    period = parse_period("2026-Q1")
    att_scores = {p: AttendanceScore(v, 25) for p, v in att.items()}
    att_scores["S01"] = AttendanceScore(
        25, 25, no_excellent_reasons=("当季度缺勤5个工作日及以上，不得评为优秀（第十五条）",)
    )
    complete = ["政务服务", "文明创建"]
    out = assess(
        s,
        period,
        [Subject("staff", p) for p in att],
        att_scores,
        [Record("staff", p, period.start, c, v, k, i) for p, c, v, k, i in recs],  # type: ignore[arg-type]
        scores,
        complete=complete,
    )
    res = by_id(out)
    assert [res[p].total for p in discipline] == [95, 92, 90, 85, 81, 79, 70, 65, 59, 50]
    assert [res[p].grade for p in discipline] == [
        "称职",
        "优秀",
        "称职",
        "称职",
        "称职",
        "称职",
        "称职",
        "称职",
        "基本称职",
        "基本称职",
    ]
    assert res["S01"].grade_note and res["S01"].grade_note.startswith("不得评为优秀")
    assert res["S03"].grade_note == "优秀名额不超过参评人数的 15%（10 人中 1 名），按称职评定"
    assert res["S10"].back == 50 and res["S10"].year_disqualified
    s11 = res["S11"]
    assert s11.grade is None and s11.provisional and s11.missing == ("工作纪律", "服务规范")


def luoshan_quarter(key: str, totals: Mapping[str, float]) -> list[Assessed]:
    """罗山 windows for a quarter: 工作考勤 full (25), 纪律作风 then 审批业务 scored (by another system) at what
    takes the total to ``totals``."""
    s = assessment("luoshan").window
    assert s is not None
    scores = [CategoryScore(key, "window", w, "纪律作风", 20 - min(20, 100 - t)) for w, t in totals.items()]
    scores += [CategoryScore(key, "window", w, "审批业务", 20 - max(0, 80 - t)) for w, t in totals.items()]
    return run(s, key, dict.fromkeys(totals, 25.0), scores=scores)


def test_luoshan_red_flags_at_80_and_the_annual_red_flag_of_four_quarters() -> None:
    """第十七条（一）3 评选出季度"红旗窗口"若干个 (site default: every window of 80 or more, 第十二条 红旗);
    第十七条（二）1 四个季度均被评为"红旗窗口"的 → 年度红旗窗口. A is flagged in all four quarters (85, 90,
    80, 95): annual red flag; B in three (79 in Q3 is 良好): none; nothing before the year's Q4 is in."""
    totals = {"2026-Q1": (85, 88), "2026-Q2": (90, 81), "2026-Q3": (80, 79), "2026-Q4": (95, 99)}
    history = [a for key, (ta, tb) in totals.items() for a in luoshan_quarter(key, {"A": ta, "B": tb})]
    q3 = by_id(a for a in history if a.period_key == "2026-Q3")
    assert (q3["A"].red_flag, q3["A"].grade, q3["B"].red_flag, q3["B"].grade) == (True, "红旗", False, "良好")
    got = notices(assessment("luoshan"), history)
    assert [(n.period_key, n.subject, n.kind, n.effect) for n in got] == [
        ("2026", "A", "年度红旗窗口", "annual_red_flag")
    ]
    assert got[0].periods == ("2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4")
    assert notices(assessment("luoshan"), [a for a in history if a.period_key != "2026-Q4"]) == []


# --- 县政务服务中心 (seed 002) -------------------------------------------------------------------------
# 一 每季度对各部门窗口进行一次考核，根据得分高低，前六名评定为"红旗窗口"… 一年内没有评为"红旗窗口"的窗口部门的
#    工作人员，年终考核不能评为优秀; 一、(四) 收费管理 … 本项分不够扣，可在其它项得分中倒扣;
# 二 … 得分前6名的窗口工作人员为当季"服务标兵"; 四、有下列情形之一的，取消窗口工作人员当季评优资格: (二)出现有超时件的.


def test_county_002_a_year_without_a_red_flag_bars_the_windows_staff() -> None:
    """Four quarters of eight windows: A–F (100 … 95) are the six 红旗窗口 each quarter; G is 7th; H
    charged 收费管理 3 × 5 = 15 of 10 (倒扣: −5, carried) is last at 85. G and H are never flagged in
    2026: 年终考核不能评为优秀 for each and for their staff (``members``)."""
    s = assessment("county-002").window
    assert s is not None
    history: list[Assessed] = []
    for q in ("2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"):
        recs = [
            (w, "项目管理", 2.0, "deduction", "") for w, n in zip("BCDEFG", range(1, 7), strict=True) for _ in range(n)
        ]
        recs = [(w, c, p, k, i) for w, c, p, k, i in recs if w != "G"] + [("G", "项目管理", 2, "deduction", "")] * 5
        recs += [("G", "办事结果", 1, "deduction", "")] * 2
        recs += [("H", "收费管理", 5, "deduction", "")] * 3
        history += run(s, q, dict.fromkeys("ABCDEFGH", 10.0), recs)
    q1 = by_id(a for a in history if a.period_key == "2026-Q1")
    assert [q1[w].total for w in "ABCDEFGH"] == [100, 98, 96, 94, 92, 90, 88, 85]
    assert q1["H"].categories[3].score == -5 and q1["H"].last
    assert [w for w in "ABCDEFGH" if q1[w].red_flag] == list("ABCDEF")
    got = fired(notices(assessment("county-002"), history, members={"G": ["701", "702"], "A": ["101"]}))
    kind = "年终考核不能评为优秀"
    rule = "no_red_flag_in_year/1"
    assert got == [("2026", s, kind, rule) for s in ("701", "702", "G", "H")]


def test_county_002_six_service_stars_a_quarter() -> None:
    """二 得分前6名 … 当季"服务标兵": eight people; P1 would be first (100) but has 超时件 (四、(二) 取消当季评优
    资格), so the six are P2–P7 and P8 (7th by total) is not one."""
    a = assessment("county-002")
    assert a.staff is not None
    people = [f"P{i}" for i in range(1, 9)]
    recs = [(p, "工作实绩", 2.0, "deduction", "") for i, p in enumerate(people) for _ in range(i)]
    recs.append(("P1", "", 0, "veto", "超时件"))
    q1 = run(a.staff, "2026-Q1", dict.fromkeys(people, 10.0), recs)
    assert [r.total for r in q1] == [100, 98, 96, 94, 92, 90, 88, 86] and q1[0].disqualified
    got = [(n.period_key, n.subject, n.kind) for n in notices(a, q1)]
    assert got == [("2026-Q1", p, "服务标兵") for p in people[1:7]]


# --- 三江 (seed 001) ---------------------------------------------------------------------------------
# 方案 三、(一) 优秀政务服务工作者。每半年评比一次，评选名额为10人; (二) 优质服务窗口 … 评选名额为8个窗口;
# 附件1 五、一票否决（出现以下情形之一，取消本次评比资格）2. 出现空岗或旷工.


def test_sanjiang_ten_a_half_year_and_the_one_vote_veto() -> None:
    """2026-H1, thirteen people: totals 100, 99 … 88 (形象态度 deductions of 0, 1 … 12 — by records of 1–5).
    Q01 has a 旷工 (the attendance policy's 一票否决: its reason comes with the attendance score) and Q02 a
    recorded 一票否决 1 因工作失误被通报: neither may be chosen; Q03–Q12 are the ten. A tie at the 10th place
    (Q12 and Q13 both 89) would make eleven: neither — nine."""
    a = assessment("sanjiang")
    assert a.staff is not None
    people = [f"Q{i:02d}" for i in range(1, 14)]

    def recs(points: Mapping[str, float]) -> list[tuple[str, str, float, str, str]]:
        out: list[tuple[str, str, float, str, str]] = []
        for p, n in points.items():
            out += [(p, "形象态度", 5, "deduction", "")] * int(n // 5)
            if n % 5:
                out.append((p, "形象态度", n % 5, "deduction", ""))
        return out

    flags = {"Q01": ("出现旷工，取消本次评比资格（附件1 五、一票否决 2）",)}
    veto = [("Q02", "", 0.0, "veto", "1")]
    h1 = run(
        a.staff, "2026-H1", dict.fromkeys(people, 25.0), recs({p: i for i, p in enumerate(people)}) + veto, flags=flags
    )
    assert [r.total for r in h1] == [100 - i for i in range(13)]
    assert h1[0].disqualified and h1[1].disqualify_reasons == (
        "因工作失误被通报（附件1 五、一票否决 1：因工作失误被通报）",
    )
    chosen = [n.subject for n in notices(a, h1)]
    assert chosen == people[2:12]
    tied = run(
        a.staff,
        "2026-H1",
        dict.fromkeys(people, 25.0),
        recs({p: min(i, 11) for i, p in enumerate(people)}) + veto,
        flags=flags,
    )
    assert [n.subject for n in notices(a, tied)] == people[2:11]


def test_sanjiang_eight_quality_windows_without_an_attendance_category() -> None:
    """附件2 has no punch attendance item: every category is recorded. Nine windows, V1 vetoed (附件2 六、3
    出现超时办件): V2–V9 are the eight 优质服务窗口."""
    s = assessment("sanjiang").window
    assert s is not None
    assert not any(c.attendance for c in s.categories)
    ws = [f"V{i}" for i in range(1, 10)]
    recs = [(w, "组织纪律严", float(i), "deduction", "") for i, w in enumerate(ws, 1) if i <= 5]
    recs.append(("V1", "", 0, "veto", "超时办件"))
    out = run(s, "2026-H2", {}, recs, subjects=[Subject("window", w) for w in ws])
    assert [a.total for a in out] == [99, 98, 97, 96, 95, 100, 100, 100, 100]
    assert [a.subject for a in out if a.red_flag] == ws[1:]


# --- 宜黄 (seed 004, 第一篇) ---------------------------------------------------------------------------
# 考评办法 五、1 每月一评比，前5名为流动红旗窗口；年终总考评，以月平均分为基数加上奖扣分后，得出考评分数，前5名为
#   先进集体; 五、2 … 扣分扣完大项分数为止；加分可以突破100分. 先进个人评选办法 四、1 每季度评选一次，每次10人。
#   年终总评一次，评15人为先进个人; 一、在中心连续上班3个月以上的方可参加评选；连续上班1年以上的方可参加年度评选.


def test_yihuang_red_flags_a_month_and_five_advanced_windows_a_year() -> None:
    """Seven windows over 2026: Y1–Y7 lose 0 … 6 points of 服务规范 each month (Y1 also has a 荣誉称号 +5
    in March: 105, 加分可以突破100分). Each month's five 流动红旗 are Y1–Y5. The year's 先进集体 are the five
    best mean totals once all twelve months are in — Y1 (1205 / 12), Y2 (97), Y4 (93), Y5 (92) and Y6 (89):
    Y3's 市级以上媒体批评曝光 in June (20 off: 76, 取消评先资格) bars it for the year, so Y6 takes its place."""
    a = assessment("yihuang")
    assert a.window is not None
    ws = [f"Y{i}" for i in range(1, 8)]
    history: list[Assessed] = []
    for m in range(1, 13):
        lost = {"Y2": [3], "Y3": [2, 2], "Y4": [5, 2], "Y5": [5, 3], "Y6": [5, 3, 3], "Y7": [5, 5, 2]}
        recs = [(w, "服务规范", float(p), "deduction", "") for w, ps in lost.items() for p in ps]
        if m == 3:
            recs.append(("Y1", "", 5, "bonus", "荣誉称号"))
        if m == 6:
            recs.append(("Y3", "", 20, "back", "市级以上媒体批评曝光"))
        history += run(a.window, f"2026-{m:02d}", dict.fromkeys(ws, 45.0), recs)
    jan = by_id(x for x in history if x.period_key == "2026-01")
    assert [jan[w].total for w in ws] == [100, 97, 96, 93, 92, 89, 88]
    assert [w for w in ws if jan[w].red_flag] == ws[:5]
    mar, jun = (by_id(x for x in history if x.period_key == k) for k in ("2026-03", "2026-06"))
    assert mar["Y1"].total == 105 and jun["Y3"].total == 76 and jun["Y3"].disqualified and not jun["Y3"].red_flag
    got = [(n.period_key, n.subject, n.kind, n.reason) for n in notices(a, history)]
    year_off = ("2026", "Y3", "取消年度评先资格", "2026-06：" + jun["Y3"].disqualify_reasons[0])
    assert got[0] == year_off and jun["Y3"].disqualify_reasons[0].startswith("市级以上媒体批评曝光（单位窗口考评")
    assert [g[:3] for g in got[1:]] == [("2026", w, "先进集体") for w in ("Y1", "Y2", "Y4", "Y5", "Y6")]
    assert [n.kind for n in notices(a, [x for x in history if x.period_key != "2026-12"])] == ["取消年度评先资格"]


def test_yihuang_staff_ten_a_quarter_fifteen_a_year_with_months_at_work() -> None:
    """先进个人: 12 people, monthly totals 100 − i (勤 at 30 − i … by attendance). Z01 joined in February
    (no January result): not in Q1's ten (连续上班3个月以上), in Q2's (5 months by June); not in the year's
    fifteen (连续上班1年以上). Q1: Z02–Z11; Q2: Z01–Z10; the year: Z02–Z12 (eleven — fewer than fifteen)."""
    a = assessment("yihuang-staff")
    assert a.staff is not None
    people = [f"Z{i:02d}" for i in range(1, 13)]
    history: list[Assessed] = []
    for m in range(1, 13):
        att = {p: 30.0 - i for i, p in enumerate(people) if not (p == "Z01" and m == 1)}
        history += run(a.staff, f"2026-{m:02d}", att)
    got = notices(a, history)
    q = {k: [n.subject for n in got if n.period_key == k] for k in ("2026-Q1", "2026-Q2", "2026")}
    assert q["2026-Q1"] == people[1:11]
    assert q["2026-Q2"] == people[:10]
    assert q["2026"] == people[1:]
    assert {n.kind for n in got if n.period_key == "2026"} == {"先进个人（年度）"}


# --- 县行政服务中心 (seed 004, 第五篇) ------------------------------------------------------------------
# 一 … 考核设基本分100分，最高分110分; 二、5 其他: … 每件分别加或扣1-2分 … 2-3分。本项加分或扣分不超过10分;
# 三、3 年底根据窗口考核结果，评定示范窗口3-5个.


def test_county_004_5_the_110_point_ceiling_and_the_other_items_ten() -> None:
    """A person with 4 × 3 of praise (+12: 10 counted, 最高分110分) scores 110; one with 4 × 3 of complaints
    (−12: 10 counted, 本项…扣分不超过10分) scores 90; the 考勤 (7) is the attendance policy's."""
    s = assessment("county-004-5").staff
    assert s is not None
    recs = [("A", "", 3.0, "bonus", "")] * 4 + [("B", "", 3.0, "back", "群众来信投诉")] * 4
    a, b = run(s, "2026-03", {"A": 7.0, "B": 7.0}, recs)
    assert (a.bonus, a.total, b.back, b.total) == (10, 110, 10, 90)
