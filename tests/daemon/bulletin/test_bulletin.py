"""The bulletin (考勤通报, SPEC §4.6): content, escaping, the four formats, the
annex against the scoring DB, publishing at month close, and the HTML in a
real headless Chromium.

Snapshots live in tests/daemon/bulletin/snapshots/; after an intended change regenerate
them with ``UPDATE_SNAPSHOTS=1 pytest tests/daemon/bulletin/test_bulletin.py`` and review
the diff.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import unicodedata
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from helpers import attendd, chromium_path, leave_l1, put_roster, standard_slots, write_centre

from daemon.bulletin import FontMissing, collect, find_cjk_font, labels, write_bulletin
from daemon.bulletin.html import render_html
from daemon.bulletin.publish import closing_periods, file_name
from daemon.bulletin.xlsx import display_width
from daemon.config import config_from_dict
from daemon.outbox import close_period, drain
from daemon.scheduler import Daemon
from daemon.scoring import ScoringDB
from daemon.store import open_store, put_records
from drivers import Punch
from rules import WorkCalendar, parse_period

TZ = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar()
SNAPSHOTS = Path(__file__).parent / "snapshots"
CI = os.environ.get("CI", "").lower() == "true"
XSS = "<script>alert(1)</script>"
#: The fixture's "now": 2026-04-03 10:00 in Shanghai, after March closed.
NOW = datetime(2026, 4, 3, 10, 0, tzinfo=TZ).astimezone(UTC)


def config(tmp_path, scoring_url=None, schema=None, **bulletin):
    return config_from_dict(
        {
            # The store starts in March: the year's counting rules must not read January as absences.
            "site": {"name": "测试县政务服务中心", "timezone": "Asia/Shanghai", "since": "2026-03-01"},
            "store": {"url": f"sqlite:///{tmp_path / 'store.db'}"},
            "scoring": {
                "url": scoring_url or f"sqlite:///{tmp_path / 'scoring.db'}",
                **({"schema": schema} if schema else {}),
            },
            "devices": [
                {"name": "hall", "driver": "zk", "host": "127.0.0.1", "serial": "S1"},
                {"name": "tax", "driver": "zk", "host": "127.0.0.1", "serial": "S2"},
            ],
            "timetables": {"standard": {"slots": standard_slots()}},
            "policies": {"hall": {"preset": "luoshan", "window": {"red_flags": 1}}},
            "windows": [
                {
                    "code": "gongan",
                    "name": "公安窗口",
                    "timetable": "standard",
                    "policy": "hall",
                    "devices": ["hall"],
                    "ranking_group": "hall",
                },
                {
                    "code": "shuiwu",
                    "name": "税务窗口",
                    "timetable": "standard",
                    "policy": "hall",
                    "devices": ["tax"],
                    "ranking_group": "hall",
                },
            ],
            # flags on attendance alone, opted in (the default is none): the policy's red_flags = 1 applies
            "ranking_groups": {"hall": {"title": "大厅", "flags_on": "attendance"}},
            "bulletin": {"dir": str(tmp_path / "bulletins"), **bulletin},
        }
    )


def fill(store) -> None:
    """March 2026: four officers (one named like an attack), lates, an early leave, a
    missing punch, a leave; the tax terminal goes silent after 03-27 and sends a reset-clock record."""
    stamp = datetime(2026, 4, 1, tzinfo=UTC)
    put_roster(
        store,
        (
            ("1", "张伟", "gongan", "chief"),
            ("2", XSS, "gongan", "staff"),
            ("3", "李娜", "shuiwu", "chief"),
            ("4", "王芳 & 'Co\"", "shuiwu", "staff"),
        ),
        now_utc=stamp,
    )
    by_serial: dict[str, list[Punch]] = {"S1": [], "S2": []}
    for d in parse_period("2026-03").days():
        if not CAL.is_workday(d):
            continue
        for no, serial in (("1", "S1"), ("2", "S1"), ("3", "S2"), ("4", "S2")):
            if serial == "S2" and d > date(2026, 3, 27):
                continue  # the tax terminal died: its people show missing punches
            for hhmm in ("08:50", "12:01", "12:55", "17:05"):
                h, m = map(int, hhmm.split(":"))
                if no == "2" and hhmm == "08:50" and d.day in (5, 12, 19):
                    h, m = 9, 17  # late, on three Thursdays
                if no == "1" and hhmm == "17:05" and d == date(2026, 3, 10):
                    h, m = 16, 40  # early
                if no == "3" and hhmm == "12:55" and d == date(2026, 3, 17):
                    continue  # missing punch
                by_serial[serial].append(Punch(no, datetime.combine(d, time(h, m))))
    store.save_punches(
        device_name="hall",
        device_serial="S1",
        source="zk",
        punches=by_serial["S1"],
        quarantined=[],
        now_utc=stamp,
        run={"clock_offset_s": -42.0},
    )
    from daemon.store import Quarantined

    store.save_punches(
        device_name="tax",
        device_serial="S2",
        source="zk",
        punches=by_serial["S2"],
        quarantined=[
            Quarantined("1\t2000-01-01 00:00:00", "reset clock (2000-01-01 00:00:00)", "4", datetime(2000, 1, 1))
        ],
        now_utc=datetime(2026, 3, 26, 1, tzinfo=UTC),
        run={"clock_offset_s": 7.0},
    )
    put_records(
        store,
        "leaves",
        [
            leave_l1(),
            {
                "ref": "L2",
                "staff_no": "1",
                "kind": "annual",
                "note": "",
                "start": datetime(2026, 3, 2, 8),
                "end": datetime(2026, 3, 3, 18),
            },
        ],
        now_utc=stamp,
    )


@pytest.fixture
def env(tmp_path):
    cfg = config(tmp_path)
    store = open_store(cfg.store_url(), timezone="Asia/Shanghai")
    fill(store)
    yield cfg, store
    store.close()


@pytest.fixture
def bulletin(env):
    cfg, store = env
    return collect(store, cfg, parse_period("2026-03"), now=NOW)


def _snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("UPDATE_SNAPSHOTS") or not path.exists():
        if CI and not path.exists():
            pytest.fail(f"snapshot {path} is missing (generate it with UPDATE_SNAPSHOTS=1 and commit it)")
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} changed: review, then UPDATE_SNAPSHOTS=1"


# --- content ---------------------------------------------------------------------------------------


def test_the_bulletin_says_what_the_rules_found(bulletin):
    assert bulletin.title == "测试县政务服务中心2026年3月考勤通报"
    assert [w.code for w in bulletin.windows] == ["gongan", "shuiwu"]
    staff = {s.staff_no: s for s in bulletin.staff}
    assert staff["2"].name == XSS and staff["2"].late == 3
    assert staff["1"].early == 1 and staff["1"].leave_days == {"annual": 2.0}
    assert staff["4"].leave_days == {"personal": 1.0}
    assert staff["3"].missing >= 1
    assert bulletin.leave_kinds == ["personal", "annual"]
    # 2026-03-05, 12 and 19 are Thursdays: the weekday chart counts them there.
    assert bulletin.lates_by_weekday[3] == 3 and sum(bulletin.lates_by_weekday) == 3
    assert bulletin.early_by_weekday[1] == 1  # 03-10 is a Tuesday
    ranks = sorted(w.rank for w in bulletin.windows)
    assert ranks == [1, 2] and [w.rank for w in bulletin.windows if w.red_flag] == [1]
    assert all(a.evidence for a in bulletin.annex)


def test_device_health_shows_the_silent_terminal_its_drift_and_its_quarantine(bulletin):
    health = {d.name: d for d in bulletin.devices}
    tax, hall = health["tax"], health["hall"]
    # Workdays after 03-27: 30 and 31 March 2026.
    assert tax.silent_workdays == [date(2026, 3, 30), date(2026, 3, 31)]
    assert tax.quarantined == 1 and tax.quarantine_reasons == {"时钟复位": 1}
    assert not tax.healthy
    assert hall.silent_workdays == [] and hall.quarantined == 0
    assert hall.punches == 2 * 4 * 22  # two people, four punches, 22 workdays in March 2026


def test_period_labels_for_every_kind():
    assert labels.period(parse_period("2026-03")) == "2026年3月"
    assert labels.period(parse_period("2026-Q1")) == "2026年第一季度"
    assert labels.period(parse_period("2026-H2")) == "2026年下半年"
    assert labels.period(parse_period("2026")) == "2026年度"
    assert labels.period(parse_period("2026-W12")) == "2026年第12周（3月16日—3月22日）"
    assert labels.kind_of_bulletin(parse_period("2026-W12")) == "考勤周报"


def test_a_closed_month_publishes_the_periods_it_ends():
    def keys(m):
        return [p.key for p in closing_periods(parse_period(m), ["month", "quarter", "half", "year"])]

    assert keys("2026-02") == ["2026-02"]
    assert keys("2026-03") == ["2026-03", "2026-Q1"]
    assert keys("2026-06") == ["2026-06", "2026-Q2", "2026-H1"]
    assert keys("2026-12") == ["2026-12", "2026-Q4", "2026-H2", "2026"]
    assert [p.key for p in closing_periods(parse_period("2026-12"), ["month"])] == ["2026-12"]


# --- HTML ------------------------------------------------------------------------------------------


def test_html_snapshot(bulletin):
    _snapshot("bulletin-2026-03.html", render_html(bulletin, footer="如有异议请联系管理科"))


def test_names_are_escaped_everywhere_in_the_html(bulletin):
    html = render_html(bulletin)
    assert XSS not in html
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "王芳 &amp; &#39;Co&#34;" in html
    # Self-contained: nothing fetched from anywhere.
    assert "src=" not in html and "<link" not in html and "@import" not in html
    assert html.count('<section class="window"') == 2
    assert "break-before: page" in html and "size: A4" in html


def test_a_window_name_in_a_chart_is_escaped_too(bulletin):
    bulletin.windows[0].name = "</text><script>x()</script>"
    html = render_html(bulletin)
    assert "<script>x()" not in html and "&lt;/text&gt;&lt;script&gt;" in html


# --- XLSX ------------------------------------------------------------------------------------------


def _xlsx_cells(path: Path) -> dict:
    import openpyxl

    wb = openpyxl.load_workbook(path)
    out = {}
    for ws in wb.worksheets:
        out[ws.title] = [
            [(v.isoformat() if isinstance(v, (date, datetime)) else v) for v in row]
            for row in ws.iter_rows(values_only=True)
        ]
    return out


def test_xlsx_snapshot_and_layout(bulletin, tmp_path):
    import openpyxl

    path = tmp_path / "b.xlsx"
    write_bulletin(bulletin, "xlsx", path)
    cells = _xlsx_cells(path)
    _snapshot("bulletin-2026-03.xlsx.json", json.dumps(cells, ensure_ascii=False, indent=1, sort_keys=True) + "\n")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [
        "概况",
        "考勤排名",
        "人员考勤",
        "每日-公安窗口",  # the daily sheets (issue 17): tested in test_bulletin_daily.py
        "每日-税务窗口",
        "取消评优",
        "未参评人员",
        "设备同步",
        "扣分明细",
        "申诉处理",
    ]
    for ws in wb.worksheets:
        assert ws.freeze_panes == ("C6" if ws.title.startswith("每日-") else "A2"), ws.title
    people = wb["人员考勤"]
    header = [c.value for c in people[1]]
    row = {h: c.value for h, c in zip(header, people[2], strict=True)}
    assert isinstance(row["迟到"], (int, float)) and isinstance(row["得分"], (int, float))
    # CJK-aware width: the 窗口 column fits "税务窗口" (four wide characters = 8 units).
    assert people.column_dimensions["A"].width >= 8
    annex = wb["扣分明细"]
    assert isinstance(annex.cell(2, 4).value, datetime)  # a real date, not text


def test_display_width_counts_cjk_as_two():
    assert display_width("abc") == 3
    assert display_width("税务窗口") == 8
    assert display_width("Ａ1") == 3  # a full-width letter
    assert display_width(date(2026, 3, 1)) == 10


# --- the annex against the scoring DB -------------------------------------------------------------


def _check_annex_against(db: ScoringDB, b, folder: Path) -> None:
    pushed = db.rows("att_deduction", period_key="2026-03")
    assert pushed, "the fixture has deductions"

    def key(staff, ref, rule, pts):
        return (staff, ref, rule, round(float(pts), 4))

    in_db = sorted(key(r["staff_no"], r["ref"], r["rule"], r["points"]) for r in pushed)
    # The annex as a reader gets it: the CSV, the XLSX sheet, and the model.
    write_bulletin(b, "csv", folder / "b.csv")
    with (folder / "b-deductions.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert sorted(key(r["工号"], r["引用"], r["规则"], r["扣分"]) for r in rows) == in_db
    write_bulletin(b, "xlsx", folder / "b.xlsx")
    sheet = _xlsx_cells(folder / "b.xlsx")["扣分明细"]
    head = sheet[0]
    got = sorted(
        key(r[head.index("工号")], r[head.index("引用")], r[head.index("规则")], r[head.index("扣分")])
        for r in sheet[1:]
    )
    assert got == in_db
    assert b.annex_points == pytest.approx(sum(float(r["points"]) for r in pushed))
    html = render_html(b)
    assert f"合计 {round(b.annex_points, 2):g} 分" in html
    # The staff table's deductions and scores are the scoring DB's.
    periods = {r["staff_no"]: r for r in db.rows("att_staff_period", period_key="2026-03")}
    for s in b.staff:
        assert s.deduction == pytest.approx(float(periods[s.staff_no]["deduction_points"]))
        assert s.score == pytest.approx(float(periods[s.staff_no]["attendance_score"]))


def test_every_deduction_in_the_scoring_db_is_in_the_annex(env, tmp_path):
    cfg, store = env
    db = ScoringDB(cfg.scoring_url())
    db.upgrade()
    b = collect(store, cfg, parse_period("2026-03"), now=NOW)
    assert [o.status for o in drain(store, db, now=NOW, only=["2026-03"], force=True)] == ["ok"]
    _check_annex_against(db, b, tmp_path)
    db.close()


def test_the_annex_matches_a_real_server_scoring_db(tmp_path, server_db):
    url, schema = server_db
    cfg = config(tmp_path, url, schema)
    store = open_store(cfg.store_url(), timezone="Asia/Shanghai")
    fill(store)
    db = ScoringDB(url, schema=schema)
    db.upgrade()
    b = collect(store, cfg, parse_period("2026-03"), now=NOW)
    assert [o.status for o in drain(store, db, now=NOW, only=["2026-03"], force=True)] == ["ok"]
    _check_annex_against(db, b, tmp_path)
    db.close()
    store.close()


# --- PDF -------------------------------------------------------------------------------------------


def _need_font() -> str:
    try:
        return find_cjk_font()
    except FontMissing as exc:
        if CI:
            pytest.fail(f"CI=true: {exc}")
        pytest.skip(str(exc))


def test_pdf_embeds_a_cjk_font_and_its_chinese_text_reads_back(bulletin, tmp_path):
    from pypdf import PdfReader

    _need_font()
    path = tmp_path / "b.pdf"
    write_bulletin(bulletin, "pdf", path, footer="如有异议请联系管理科")
    reader = PdfReader(path)
    text = "\n".join(page.extract_text() for page in reader.pages)
    for expected in (
        "测试县政务服务中心2026年3月考勤通报",
        "公安窗口",
        "税务窗口",
        "张伟",
        "李娜",
        "考勤排名",
        "扣分明细",
        "考勤设备同步情况",
        XSS,
        "迟到",
        "如有异议请联系管理科",
    ):
        assert expected in text, expected
    for s in bulletin.annex:
        assert s.evidence.split("（")[0] in text.replace("\n", "")
    embedded = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            desc = font.get("/FontDescriptor")
            if desc is not None and "/FontFile2" in desc.get_object():
                embedded.add(str(font["/BaseFont"]))
    assert any("WenQuanYi" in f or "Hei" in f or "Ming" in f or "Song" in f for f in embedded), embedded
    # The overview, the ranking and the windows (sharing pages as they fit: issue 17), then the
    # lists and the annex on pages of their own.
    assert len(reader.pages) >= 3


def test_a_missing_font_is_one_clear_error_and_no_file(bulletin, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(FontMissing, match="bulletin.font: .* does not exist"):
        write_bulletin(bulletin, "pdf", out / "b.pdf", font=str(tmp_path / "nope.ttf"))
    assert list(out.iterdir()) == []


# --- writing ---------------------------------------------------------------------------------------


def test_a_failed_write_keeps_the_previous_file_and_leaves_no_scratch(bulletin, tmp_path, monkeypatch):
    import daemon.bulletin.xlsx as xlsx

    path = tmp_path / "out" / "b.xlsx"
    write_bulletin(bulletin, "xlsx", path)
    before = path.read_bytes()

    def broken(b, p):
        Path(p).write_bytes(b"half a workbook")
        raise OSError("disk full")

    monkeypatch.setattr(xlsx, "write_xlsx", broken)
    with pytest.raises(OSError, match="disk full"):
        write_bulletin(bulletin, "xlsx", path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["b.xlsx"]


def test_csv_is_utf8_with_bom_and_has_every_part(bulletin, tmp_path):
    written = write_bulletin(bulletin, "csv", tmp_path / "b.csv")
    assert [p.name for p in written] == ["b.csv", "b-windows.csv", "b-deductions.csv", "b-devices.csv"]
    raw = (tmp_path / "b.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader((tmp_path / "b.csv").open(encoding="utf-8-sig")))
    assert {r["姓名"] for r in rows} == {s.name for s in bulletin.staff}
    assert rows[0]["窗口"] == "公安窗口"


# --- the command and the daemon --------------------------------------------------------------------


def _attendd(cfg_path: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return attendd("--log-format", "json", *args, config=cfg_path, cwd=cwd)


def test_attendd_bulletin_command(env, tmp_path):
    cfg_path = write_centre(tmp_path, scoring_url=f"sqlite:///{tmp_path / 'scoring.db'}")
    out = tmp_path / "out"
    out.mkdir()  # -o names an existing folder: a missing one is an error (issue 13.16)
    r = _attendd(cfg_path, "bulletin", "--period", "2026-03", "--format", "all", "-o", str(out), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    names = sorted(p.name for p in out.iterdir())
    assert "考勤通报-2026-03.html" in names and "考勤通报-2026-03.xlsx" in names and "考勤通报-2026-03.csv" in names
    assert "16 staff" not in r.stdout and "4 staff" in r.stdout
    week = _attendd(cfg_path, "bulletin", "--period", "2026-W12", "-o", "w.html", cwd=tmp_path)
    assert week.returncode == 0, week.stderr
    assert "2026年第12周（3月16日—3月22日）考勤周报" in (tmp_path / "w.html").read_text(encoding="utf-8")
    bad = _attendd(cfg_path, "bulletin", "--period", "2026-13", cwd=tmp_path)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "--period" in bad.stderr
    # an existing folder receives the default file name (issue 13.16; more in test_bulletin_output.py)
    into = _attendd(cfg_path, "bulletin", "--period", "2026-03", "--format", "xlsx", "-o", str(out), cwd=tmp_path)
    assert into.returncode == 0 and f"wrote {out / '考勤通报-2026-03.xlsx'}" in into.stdout, into.stderr


def test_month_close_publishes_every_format_and_the_quarter(env, tmp_path):
    cfg, store = env
    if "pdf" in cfg.bulletin.formats:
        _need_font()
    db = ScoringDB(cfg.scoring_url())
    db.upgrade()
    clock = lambda: NOW  # noqa: E731
    d = Daemon(cfg, store, db, connect=None, clock=clock, tz=TZ)
    slot = datetime(2026, 4, 3, 2, 0, tzinfo=TZ)
    # the fixture's tax terminal went silent on 03-30/31, so the close job would hold March open
    # (issue 10, point 8): the clerk closes it deliberately, on the record, and the job publishes it
    close_period(
        store,
        cfg,
        parse_period("2026-03"),
        now=NOW,
        force_by="测试",
        force_reason="the silent tax terminal is the fixture's point",
    )
    assert d.execute("close", slot)
    folder = cfg.bulletin_dir()
    names = sorted(p.name for p in folder.iterdir())
    for period in ("2026-03", "2026-Q1"):
        for fmt in ("html", "xlsx", "pdf", "csv"):
            assert file_name(parse_period(period), fmt) in names
    html = (folder / "考勤通报-2026-03.html").read_text(encoding="utf-8")
    assert "定稿" in html and "未定稿" not in html
    assert not [n for n in names if n.startswith(".")], "no scratch left behind"
    assert db.rows("att_staff_period", period_key="2026-03")  # pushed before publishing
    db.close()


def test_weekly_summary_job(tmp_path):
    cfg = config(tmp_path, formats=["html"], periods=["week", "month"])
    store = open_store(cfg.store_url(), timezone="Asia/Shanghai")
    fill(store)
    d = Daemon(cfg, store, None, connect=None, clock=lambda: NOW, tz=TZ)
    assert "week" in d.triggers
    assert d.execute("week", datetime(2026, 3, 23, 2, 0, tzinfo=TZ))  # a Monday
    html = (cfg.bulletin_dir() / "考勤周报-2026-W12.html").read_text(encoding="utf-8")
    assert "2026-03-16 至 2026-03-22" in html
    store.close()


# --- a real browser --------------------------------------------------------------------------------


def _chromium() -> str:
    return chromium_path()


def _headless(browser: str, tmp_path: Path, *args: str) -> None:
    profile = tmp_path / "chromium-profile"
    cmd = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-extensions",
        "--no-first-run",
        "--mute-audio",
        "--disable-features=Translate,MediaRouter",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        *args,
    ]
    subprocess.run(cmd, capture_output=True, timeout=120, check=True, env={**os.environ, "HOME": str(tmp_path)})


def test_the_html_in_headless_chromium(bulletin, tmp_path):
    from PIL import Image
    from pypdf import PdfReader

    browser = _chromium()
    page = tmp_path / "b.html"
    # as a centre without flags on attendance prints it (the default): every window bar blue
    for w in bulletin.windows:
        w.red_flag = False
    bulletin.flag_rules = {}
    write_bulletin(bulletin, "html", page)
    shot = tmp_path / "shot.png"
    _headless(browser, tmp_path, "--window-size=1200,1600", f"--screenshot={shot}", page.as_uri())
    img = Image.open(shot).convert("RGB")
    assert img.size == (1200, 1600)
    px = img.load()

    def count(region, colour, tol=40):
        x0, y0, x1, y1 = region
        return sum(
            1
            for x in range(x0, x1, 2)
            for y in range(y0, y1, 2)
            if all(abs(a - b) <= tol for a, b in zip(px[x, y], colour, strict=False))  # RGB(A) against RGB
        )

    # The red title was drawn at the top, the blue bars of the score chart and the red columns
    # of the lates by weekday below it.
    assert count((0, 0, 1200, 90), (0xBB, 0, 0)) > 200
    assert count((0, 90, 1200, 600), (0x2E, 0x6D, 0xA4)) > 100
    assert count((0, 90, 1200, 600), (0xC0, 0x39, 0x2B)) > 100
    dark = sum(1 for x in range(0, 1200, 4) for y in range(0, 1600, 4) if sum(px[x, y]) < 200)
    assert dark > 2000  # text and table rules, not a blank page
    # Printed, the A4 stylesheet starts each later part on its own page (a window only when it does
    # not fit the rest of one: issue 17), and the Chinese the reader sees is text in the PDF.
    pdf = tmp_path / "printed.pdf"
    _headless(browser, tmp_path, f"--print-to-pdf={pdf}", "--no-pdf-header-footer", page.as_uri())
    reader = PdfReader(pdf)
    assert len(reader.pages) >= 1 + 2
    # NFKC: the browser's PDF maps some glyphs to Kangxi radicals (⼼ for 心), which read the same.
    texts = [unicodedata.normalize("NFKC", p.extract_text()).replace(" ", "") for p in reader.pages]
    assert "测试县政务服务中心2026年3月考勤通报" in texts[0]
    width_mm = float(reader.pages[0].mediabox.width) / 72 * 25.4
    assert abs(width_mm - 210) < 2  # A4
    assert any("公安窗口" in t and "张伟" in t and XSS in t for t in texts)


def test_site_since_keeps_the_months_before_go_live_out_of_year_counts(tmp_path):
    """罗山 第十章四、6: 全年旷工累计3天以上 disqualifies. A store that starts in March must not
    read January and February as absences; ``[site] since`` says when records begin."""

    def reasons(cfg) -> set[str]:
        store = open_store(cfg.store_url(), timezone="Asia/Shanghai")
        try:
            if not store.count_punches():
                fill(store)
            b = collect(store, cfg, parse_period("2026-03"), now=NOW)
            return {r for s in b.staff for r in s.reasons}
        finally:
            store.close()

    with_since = config(tmp_path)
    without = with_since.model_copy(update={"site": with_since.site.model_copy(update={"since": None})})
    assert not any("全年旷工" in r for r in reasons(with_since))
    assert any("全年旷工" in r for r in reasons(without))
