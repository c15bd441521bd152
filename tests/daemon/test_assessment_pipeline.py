"""Issue 18, part 2: the whole assessment from the store to the scoring DB — the supervisor's
records and another system's category scores imported in the clerk's words, checked against the
document, totalled with the attendance category, ranked, and pushed with the period's slice on
SQLite, PostgreSQL and MariaDB; the notices across months with them.

Scenario (000 上虞《2015年度区便民服务中心窗口服务月考核细则》): two windows, March and April 2026,
everyone punching every workday (工作纪律 10 of 10, the attendance category). 办件管理 (20分,
二、1 每起扣1-5分) comes from the supervisor's records: 公安 one case of 2, 税务 two of 5. The other
eight categories come from another system at full marks. So 公安 98, 税务 90 both months: 税务 is
last twice in a row — 一、4 连续2个月考核排名末位的 … 中心内部通报 — issued with April.
"""

from __future__ import annotations

import json

import pytest
from helpers import fill, run_cli, write_centre

from daemon.config import load_config
from daemon.store import open_store

OTHERS = {
    "收费管理": 10,
    "办事效率": 15,
    "网络管理": 10,
    "规范服务": 10,
    "环境管理": 5,
    "资料管理": 5,
    "信息管理": 5,
    "服务对象评议": 10,
}


def centre(tmp_path, scoring_url: str | None = None, schema: str | None = None):
    cfg = write_centre(
        tmp_path,
        policies={"hall": "shangyu"},
        scoring_url=scoring_url,
        schema=schema,
        extra="[assessment]\nenabled = true\n",
    )
    config = load_config(cfg)
    store = open_store(config.store.url, timezone="Asia/Shanghai")
    for month in ("2026-03", "2026-04"):
        fill(store, month)
    store.close()

    def cli(*args: str):
        proc = run_cli("--config", str(cfg), *args)
        assert "Traceback" not in proc.stderr, proc.stderr
        return proc

    scores = tmp_path / "类别得分.csv"
    scores.write_text(
        "考核期,窗口,考核类别,得分\n"
        + "".join(
            f"{m},{w},{c},{v}\n"
            for m in ("2026-03", "2026-04")
            for w in ("gongan", "shuiwu")
            for c, v in OTHERS.items()
        ),
        encoding="utf-8",
    )
    assert cli("import", "category-scores", str(scores), "--by", "监督办").returncode == 0
    records = tmp_path / "考核记录.csv"
    records.write_text(
        "日期,窗口,考核类别,考核项目,类型,分值,依据,记录人\n"
        + "".join(
            f"{m}-10,gongan,办件管理,超时办结,扣分,2,督查单,监督办\n"
            f"{m}-11,shuiwu,办件管理,超时办结,扣分,5,督查单,监督办\n"
            f"{m}-12,shuiwu,办件管理,材料不全,扣分,5,督查单,监督办\n"
            for m in ("2026-03", "2026-04")
        ),
        encoding="utf-8",
    )
    proc = cli("import", "assessments", str(records), "--by", "监督办")
    assert proc.returncode == 0, proc.stderr
    return cfg, cli


def test_the_whole_assessment_is_totalled_ranked_and_noticed(tmp_path):
    _, cli = centre(tmp_path)
    proc = cli("assess", "--period", "2026-03", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    rows = {r["subject"]: r for r in json.loads(proc.stdout)}
    assert (rows["gongan"]["c:办件管理"], rows["gongan"]["c:工作纪律"], rows["gongan"]["total"]) == (18, 10, 98)
    assert (rows["shuiwu"]["c:办件管理"], rows["shuiwu"]["total"]) == (10, 90)
    assert (rows["gongan"]["rank"], rows["shuiwu"]["rank"]) == (1, 2)
    assert not rows["gongan"]["provisional"] and rows["gongan"]["red_flag"]  # 前8位 of two windows
    march = json.loads(cli("assess", "--period", "2026-03", "--notices", "--format", "json").stdout)
    assert [n for n in march if n["kind"] == "中心内部通报"] == []  # last once: no notice yet
    april = json.loads(cli("assess", "--period", "2026-04", "--notices", "--format", "json").stdout)
    notice = [(n["subject"], n["rule"]) for n in april if n["kind"] == "中心内部通报"]
    assert notice == [("shuiwu", "last_consecutive/2")]


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        # 二、1 办件管理 … 每起扣1-5分: a case of 8 is no case of this item
        ("2026-03-10,gongan,办件管理,超时,扣分,8", "分值: 8 is outside 办件管理's 1–5 per case"),
        ("2026-03-10,gongan,办件质量,超时,扣分,2", "考核类别: '办件质量' is no category of this scheme"),
        ("2026-03-10,,办件管理,超时,扣分,2", "give 窗口 or 工号 (whose record it is)"),
        ("2026-03-10,gongan,办件管理,超时,奖励,2", "unknown 类型 '奖励'"),
    ],
)
def test_a_record_the_document_does_not_allow_is_refused_in_the_clerks_words(tmp_path, row, expected):
    _, cli = centre(tmp_path)
    path = tmp_path / "bad.csv"
    path.write_text(f"日期,窗口,考核类别,考核项目,类型,分值\n{row}\n", encoding="utf-8")
    proc = cli("import", "assessments", str(path))
    assert proc.returncode == 2 and f"bad.csv:2: {expected}" in proc.stderr, proc.stderr


def test_a_category_not_yet_assessed_makes_the_total_provisional(tmp_path):
    _, cli = centre(tmp_path)
    listed = json.loads(cli("list", "category-scores", "--format", "json").stdout)
    ref = next(
        r["ref"]
        for r in listed
        if r["period_key"] == "2026-03" and r["window_code"] == "shuiwu" and r["category"] == "网络管理"
    )
    assert cli("withdraw", "category-scores", ref, "--reason", "分数有误", "--by", "监督办").returncode == 0
    rows = {r["subject"]: r for r in json.loads(cli("assess", "--period", "2026-03", "--format", "json").stdout)}
    assert rows["shuiwu"]["provisional"] and rows["shuiwu"]["missing"] == "网络管理"
    assert rows["shuiwu"]["rank"] is None and not rows["shuiwu"]["red_flag"]  # not ranked while incomplete


def test_assess_says_so_when_the_centre_does_not_use_it(tmp_path):
    cfg = write_centre(tmp_path, policies={"hall": "shangyu"})
    proc = run_cli("--config", str(cfg), "assess", "--period", "2026-03")
    assert proc.returncode == 2 and "[assessment] enabled is false" in proc.stderr


def test_the_totals_and_notices_reach_a_sqlite_scoring_db(tmp_path):
    pushed_and_read(tmp_path, f"sqlite:///{tmp_path / 'scoring.db'}", None)


def test_the_totals_and_notices_reach_a_server_scoring_db(tmp_path, server_db):
    """PostgreSQL and MariaDB (``server_db`` is parametrised over both servers)."""
    pushed_and_read(tmp_path, *server_db)


def pushed_and_read(tmp_path, url: str, schema: str | None) -> None:
    from daemon.scoring import ScoringDB

    _, cli = centre(tmp_path, url, schema)
    assert cli("db", "upgrade").returncode == 0
    for month in ("2026-03", "2026-04"):
        proc = cli("evaluate", "--period", month, "--final", "--force", "--by", "监督办", "--reason", "测试")
        assert proc.returncode == 0, proc.stderr
        assert cli("push", "--period", month).returncode == 0
    db = ScoringDB(url, schema=schema)
    try:
        totals = {(r["period_key"], r["subject"]): r for r in db.rows("att_assessment_total")}
        assert totals[("2026-04", "shuiwu")]["total"] == 90 and totals[("2026-04", "shuiwu")]["rank"] == 2
        assert totals[("2026-03", "gongan")]["red_flag"] and totals[("2026-03", "gongan")]["is_final"]
        cats = {(r["period_key"], r["subject"], r["category"]): r["score"] for r in db.rows("att_category_score")}
        assert cats[("2026-03", "gongan", "办件管理")] == 18 and cats[("2026-03", "gongan", "工作纪律")] == 10
        notices = [(r["period_key"], r["subject"], r["kind"]) for r in db.rows("att_notice")]
        assert ("2026-04", "shuiwu", "中心内部通报") in notices
        assert not any(k == "2026-03" and kind == "中心内部通报" for k, _, kind in notices)
        assert {r["site_code"] for r in db.rows("att_assessment_total")} == {"default"}
    finally:
        db.close()


def test_the_bulletin_shows_the_whole_assessment_and_its_notices(tmp_path):
    """Issue 18 (7): the month's 窗口考核 in the bulletin — the category table, totals, ranking,
    流动红旗 and the notices; an attendance-only centre's bulletin has none of it."""
    import openpyxl

    _, cli = centre(tmp_path)
    for fmt in ("xlsx", "html", "docx"):
        proc = cli("bulletin", "--period", "2026-04", "--format", fmt, "-o", str(tmp_path / f"b.{fmt}"))
        assert proc.returncode == 0, proc.stderr
    sheet = openpyxl.load_workbook(tmp_path / "b.xlsx")["综合考核"]
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    head = rows[0]
    assert (
        head[:3] == ["名次", "窗口", "办件管理"]
        and "工作纪律" in head
        and head[-5:] == ["总分", "满分", "红旗", "等次", "说明"]
    )
    by_name = {r[1]: dict(zip(head, r, strict=True)) for r in rows[1:]}
    assert (by_name["公安窗口"]["名次"], by_name["公安窗口"]["总分"], by_name["公安窗口"]["办件管理"]) == (1, 98, 18)
    assert by_name["税务窗口"]["总分"] == 90
    people = [[c.value for c in r] for r in openpyxl.load_workbook(tmp_path / "b.xlsx")["人员综合考核"].iter_rows()]
    assert people[0][:5] == ["名次", "窗口", "工号", "姓名", "工作纪律"]  # 上虞 月度先进个人: the person's own 工作纪律
    assert ["公安窗口", "1", "甲", 10] in [r[1:5] for r in people[1:]]
    notices = [[c.value for c in r] for r in openpyxl.load_workbook(tmp_path / "b.xlsx")["通报与表彰"].iter_rows()]
    assert ["shuiwu", "税务窗口", "中心内部通报", "2026-04"] == notices[1][:4]
    html = (tmp_path / "b.html").read_text(encoding="utf-8")
    assert "<h2>综合考核</h2>" in html and "中心内部通报" in html
    import zipfile

    document = zipfile.ZipFile(tmp_path / "b.docx").read("word/document.xml").decode("utf-8")
    assert "综合考核" in document and "中心内部通报" in document and "办件管理" in document
    plain = tmp_path / "plain"
    plain.mkdir()
    cfg = write_centre(plain)
    store = open_store(load_config(cfg).store.url, timezone="Asia/Shanghai")
    fill(store, "2026-03")
    store.close()
    out = plain / "b.xlsx"
    assert (
        run_cli("--config", str(cfg), "bulletin", "--period", "2026-03", "--format", "xlsx", "-o", str(out)).returncode
        == 0
    )
    assert "综合考核" not in openpyxl.load_workbook(out).sheetnames


def test_luoshan_grades_its_staff_on_the_quarters_whole_100_points_within_the_quota(tmp_path):
    """003 罗山 第十二条: 80分以上（含80分）优秀、60分（含60分）以上称职、60分以下基本称职; 第十九条:
    优秀等次比例不超过15%. Q1 2026, four people: 出勤值勤 (25) is computed from their punches (丁 has a
    day of 事假: 1 point, 附件1); the other four categories come from another system. 甲 100 and 乙 93
    reach 优秀's 80, but 15 % of four people is no place: both are 称职, and say why."""
    cfg = write_centre(tmp_path, extra="[assessment]\nenabled = true\n")  # hall → luoshan
    store = open_store(load_config(cfg).store.url, timezone="Asia/Shanghai")
    for month in ("2026-01", "2026-02", "2026-03"):
        fill(store, month)
    store.close()
    given = {"1": (20, 20, 20, 15), "2": (18, 18, 18, 14), "3": (10, 10, 10, 10), "4": (5, 5, 5, 5)}
    scores = tmp_path / "scores.csv"
    scores.write_text(
        "考核期,工号,考核类别,得分\n"
        + "".join(
            f"2026-Q1,{no},{cat},{v}\n"
            for no, vs in given.items()
            for cat, v in zip(("工作纪律", "服务规范", "政务服务", "文明创建"), vs, strict=True)
        ),
        encoding="utf-8",
    )
    assert run_cli("--config", str(cfg), "import", "category-scores", str(scores)).returncode == 0
    proc = run_cli("--config", str(cfg), "assess", "--period", "2026-Q1", "--staff", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    rows = {r["subject"]: r for r in json.loads(proc.stdout)}
    assert {no: (r["c:出勤值勤"], r["total"]) for no, r in rows.items()} == {
        "1": (25, 100),
        "2": (25, 93),
        "3": (25, 65),
        "4": (24, 44),
    }
    assert {no: r["grade"] for no, r in rows.items()} == {"1": "称职", "2": "称职", "3": "称职", "4": "基本称职"}
    assert "优秀名额不超过参评人数的 15%（4 人中 0 名）" in rows["1"]["grade_note"]
    assert [rows[n]["rank"] for n in "1234"] == [1, 2, 3, 4]
    month = run_cli("--config", str(cfg), "assess", "--period", "2026-03")
    assert month.returncode == 2 and "no assessment scheme of the config is assessed per month" in month.stderr
