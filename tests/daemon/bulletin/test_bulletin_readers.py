"""Issue 17, item 3: what readers of the bulletin noticed, one test each.

Each of these failed on the bulletin as it was before the fix: the evidence named slots
``pm_in``, the PDF ranking printed window codes, staff sorted as text, the sync table counted
only runs started in the period, HTML and PDF formatted the same value two ways, every window
took a page of its own, and the weekday chart's bar labels ran into its legend.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from helpers import put_roster, standard_slots

from daemon.bulletin import FontMissing, collect, find_cjk_font, labels, write_bulletin
from daemon.bulletin.html import chart_weekdays, render_html
from daemon.config import config_from_dict
from daemon.explain import explain_staff
from daemon.health import ok_state
from daemon.store import open_store
from drivers import Punch
from rules import WorkCalendar, parse_period

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 4, 3, 10, 0, tzinfo=TZ).astimezone(UTC)
MARCH = parse_period("2026-03")
#: staff numbers a text sort puts as 0007, 1, 10, 2
GONGAN = ("10", "2", "0007", "1")


def _config(tmp_path, slots=None):
    return config_from_dict(
        {
            "site": {"name": "读者县政务服务中心", "timezone": "Asia/Shanghai", "since": "2026-03-01"},
            "store": {"url": f"sqlite:///{tmp_path / 'store.db'}"},
            "devices": [
                {"name": "hall", "driver": "zk", "host": "127.0.0.1", "serial": "S1"},
                {"name": "tax", "driver": "usb", "serial": "S2"},
            ],
            "timetables": {"standard": {"slots": slots or standard_slots()}},
            "policies": {"hall": {"preset": "luoshan"}},
            "windows": [
                {"code": "gongan", "name": "公安窗口", "timetable": "standard", "policy": "hall", "devices": ["hall"]},
                {"code": "shuiwu", "name": "税务窗口", "timetable": "standard", "policy": "hall", "devices": ["tax"]},
            ],
            "bulletin": {"dir": str(tmp_path / "bulletins")},
        }
    )


def _punches(people, days, skip=()):
    """Four punches a workday for each of ``people``; ``skip``: (staff, day, "HH:MM") left out."""
    out = []
    for d in days:
        for no in people:
            for hhmm in ("08:50", "12:01", "12:55", "17:05"):
                if (no, d, hhmm) not in skip:
                    h, m = map(int, hhmm.split(":"))
                    out.append(Punch(no, datetime.combine(d, time(h, m))))
    return out


def _fill(store) -> None:
    """March: the 公安 terminal pulled once on 03-10 and pushed on 03-20 (clock 0.6 s slow); the
    tax terminal's whole month came by USB import on 04-02, after the month; staff 1 missed a
    pm_in on 03-17."""
    put_roster(
        store,
        [(no, f"公安{no}", "gongan", "chief" if no == "1" else "staff") for no in GONGAN]
        + [("3", "李娜", "shuiwu", "chief")],
        now_utc=datetime(2026, 3, 1, tzinfo=UTC),
    )
    workdays = [d for d in MARCH.days() if WorkCalendar().is_workday(d)]
    skip = {("1", date(2026, 3, 17), "12:55")}
    early, late = [d for d in workdays if d.day < 10], [d for d in workdays if d.day >= 10]
    for source, at, days in (("zk", datetime(2026, 3, 10, 2), early), ("adms", datetime(2026, 3, 20, 2), late)):
        store.save_punches(
            device_name="hall",
            device_serial="S1",
            source=source,
            punches=_punches(GONGAN, days, skip),
            quarantined=[],
            now_utc=at.replace(tzinfo=UTC),
            run={"clock_offset_s": -0.6},
        )
    store.save_punches(
        device_name="tax",
        device_serial="S2",
        source="usb",
        punches=_punches(["3"], workdays),
        quarantined=[],
        now_utc=datetime(2026, 4, 2, 2, tzinfo=UTC),
        state=ok_state(datetime(2026, 4, 2, 2, tzinfo=UTC), serial="S2"),  # as `attendd import attlog` does
        run={"status": "ok"},
    )


@pytest.fixture
def centre(tmp_path):
    """(config, store, March's bulletin) of the readers' centre."""
    cfg = _config(tmp_path)
    store = open_store(cfg.store_url(), timezone="Asia/Shanghai")
    _fill(store)
    yield cfg, store, collect(store, cfg, MARCH, now=NOW, queue=False)
    store.close()


@pytest.fixture
def bulletin(centre):
    return centre[2]


def _pdf_pages(b, tmp_path) -> list[str]:
    from pypdf import PdfReader

    try:
        find_cjk_font()
    except FontMissing as exc:
        pytest.skip(str(exc))
    path = tmp_path / "b.pdf"
    write_bulletin(b, "pdf", path)
    return [p.extract_text() for p in PdfReader(path).pages]


# --- the evidence in the timetable's words -------------------------------------------------------


def test_the_evidence_names_the_slot_in_the_timetables_chinese_words(bulletin, centre):
    missed = [a for a in bulletin.annex if a.day == date(2026, 3, 17) and a.staff_no == "1"]
    assert missed, "the fixture's missed pm_in is a deduction"
    for a in missed:
        assert "pm_in" not in a.evidence and "下午签到 无打卡（12:30–15:00）" in a.evidence, a.evidence
    html = render_html(bulletin)
    assert "pm_in" not in html and "下午签到 无打卡" in html
    assert not any("am_in" in a.evidence or "pm_out" in a.evidence for a in bulletin.annex)
    # the annex's 时段 column and `attendd explain` (and the console, which prints its words) agree
    cfg, store, _ = centre
    account = explain_staff(store, cfg, "1", MARCH, as_of=NOW)
    day = next(d for d in account.days if d.day == date(2026, 3, 17))
    assert [s.slot_word for s in day.slots] == ["上午签到", "上午签退", "下午签到", "下午签退"]
    assert any("下午签到 无打卡" in x.evidence for x in day.deductions)


def test_a_slots_configured_label_is_what_every_reader_sees(tmp_path):
    slots = standard_slots()
    slots[2]["label"] = "午后签到"
    cfg = _config(tmp_path, slots)
    assert [s.label for s in cfg.timetables["standard"].slots] == [None, None, "午后签到", None]
    store = open_store(cfg.store_url(), timezone="Asia/Shanghai")
    try:
        _fill(store)
        b = collect(store, cfg, MARCH, now=NOW, queue=False)
        missed = [a for a in b.annex if a.day == date(2026, 3, 17) and a.staff_no == "1"]
        assert all("午后签到 无打卡" in a.evidence for a in missed), [a.evidence for a in missed]
        html = render_html(b)
        assert "午后签到" in html and "下午签到" not in html
    finally:
        store.close()


def test_default_slot_labels_follow_kind_and_half_of_the_day():
    from rules import build_slots

    two = build_slots(
        [
            {"name": "in", "kind": "in", "at": "08:30", "accept": ["07:00", "10:00"]},
            {"name": "out", "kind": "out", "at": "17:30", "accept": ["16:00", "20:00"]},
        ],
        "t",
    )
    assert [s.label for s in two] == ["上午签到", "下午签退"]
    six = build_slots(
        [
            {"name": f"s{i}", "kind": "in" if i % 2 == 0 else "out", "at": at, "accept": [at, at]}
            for i, at in enumerate(("08:00", "10:00", "10:30", "11:30", "14:00", "17:00"))
        ],
        "t",
    )
    assert [s.label for s in six] == ["上午签到", "上午签退", "上午签到2", "上午签退2", "下午签到", "下午签退"]


# --- window names in the PDF ranking -------------------------------------------------------------


def test_the_pdf_ranking_names_windows_not_codes(bulletin, tmp_path):
    text = "\n".join(_pdf_pages(bulletin, tmp_path))
    assert "公安窗口" in text and "税务窗口" in text
    assert "gongan" not in text and "shuiwu" not in text


# --- staff in number order -----------------------------------------------------------------------


def test_staff_are_sorted_by_number_as_a_reader_counts(bulletin, tmp_path):
    gongan = bulletin.windows[0]
    assert [s.staff_no for s in gongan.staff] == ["1", "2", "0007", "10"]
    html = render_html(bulletin)
    table = html[html.index('id="window-gongan"') :]
    cells = re.findall(r"<tr[^>]*>\s*<td>([^<]+)</td><td>公安", table)[:4]
    assert cells == ["1", "2", "0007", "10"]
    import openpyxl

    write_bulletin(bulletin, "xlsx", tmp_path / "b.xlsx")
    people = openpyxl.load_workbook(tmp_path / "b.xlsx")["人员考勤"]
    assert [r[1] for r in people.iter_rows(min_row=2, values_only=True)] == ["1", "2", "0007", "10", "3"]


# --- the sync table counts every way in ----------------------------------------------------------


def test_the_sync_table_counts_the_periods_runs_of_every_way_in(bulletin):
    health = {d.name: d for d in bulletin.devices}
    hall, tax = health["hall"], health["tax"]
    # a pull and a push in March
    assert hall.syncs_ok == 2 and hall.runs_by_way == {"拉取": 1, "推送": 1}
    # the tax terminal's month came by USB on 04-02: that import is March's sync, next to its
    # last good sync — never 同步成功 0
    assert tax.syncs_ok == 1 and tax.runs_by_way == {"U盘导入": 1}
    assert tax.last_success is not None
    html = render_html(bulletin)
    assert "拉取 1、推送 1" in html and "U盘导入 1" in html


def test_a_quarantine_release_is_not_a_sync(centre):
    cfg, store, _ = centre
    store.save_punches(
        device_name="hall",
        device_serial="S1",
        source="release",
        punches=[Punch("1", datetime(2026, 3, 2, 8, 40))],
        quarantined=[],
        now_utc=datetime(2026, 3, 25, 2, tzinfo=UTC),
    )
    hall = next(d for d in collect(store, cfg, MARCH, now=NOW, queue=False).devices if d.name == "hall")
    assert hall.syncs_ok == 2 and "release" not in hall.runs_by_way


# --- one formatting for every format -------------------------------------------------------------


def _html_device_row(html: str, name: str) -> str:
    row = re.search(rf"<tr[^>]*>\s*<td>{name}</td>.*?</tr>", html, re.S)
    assert row, name
    return re.sub(r"<[^>]+>", "\n", row.group(0))


def test_html_and_pdf_print_each_value_the_same_way(bulletin, tmp_path):
    pages = _pdf_pages(bulletin, tmp_path)
    html = render_html(bulletin)
    drift = labels.drift(-0.6)
    assert drift == "-1 秒"
    pdf = "\n".join(pages)
    after = pdf[pdf.index("考勤设备同步情况") :]
    hall_pdf = after[after.index("\nhall") : after.index("\ntax")]
    hall_html = _html_device_row(html, "hall")
    for text in (hall_pdf, hall_html):
        lines = [x.strip() for x in text.splitlines()]
        assert drift in lines, lines  # not −1 秒 in one and -0.6 in the other
        assert "无" in lines, lines  # silent workdays: 无 in both, not 0 in the PDF
        assert "-0.6" not in text
    # the ranking's share of the maximum: one decimal in both (not 72% against 72.33)
    for w in bulletin.windows:
        pct = labels.percent(w.percent)
        assert f"{pct}%" in html and pct in pdf.splitlines()


# --- pages --------------------------------------------------------------------------------------


def test_small_windows_share_a_pdf_page(bulletin, tmp_path):
    pages = _pdf_pages(bulletin, tmp_path)
    with_window = [i for i, t in enumerate(pages) if "1. 公安窗口" in t or "2. 税务窗口" in t]
    assert len(with_window) == 1, with_window  # both small windows on one page
    html = render_html(bulletin)
    css = html[html.index("@media print") :]
    assert re.search(r"section\.window\s*\{[^}]*break-inside:\s*avoid", css)
    assert not re.search(r"section\.window\s*\{[^}]*break-before:\s*page", css)


def test_a_window_too_long_for_the_rest_of_the_page_starts_a_new_one(bulletin, tmp_path):
    big = bulletin.windows[1]
    big.staff = [s for s in bulletin.windows[0].staff for _ in range(12)]  # 48 rows: most of a page
    pages = _pdf_pages(bulletin, tmp_path)
    first = next(i for i, t in enumerate(pages) if "1. 公安窗口" in t)
    second = next(i for i, t in enumerate(pages) if "2. 税务窗口" in t)
    assert second == first + 1


# --- the weekday chart --------------------------------------------------------------------------


def _boxes(svg: str):
    """(kind, x0, y0, x1, y1) of every rect and text (a text: 7 px a digit, 12 px a CJK character)."""
    out = []
    for m in re.finditer(r'<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"', svg):
        x, y, w, h = map(float, m.groups())
        out.append(("rect", x, y, x + w, y + h))
    for m in re.finditer(r'<text x="([\d.]+)" y="([\d.]+)" text-anchor="(\w+)"[^>]*>([^<]*)</text>', svg):
        x, y, anchor, s = float(m.group(1)), float(m.group(2)), m.group(3), m.group(4)
        w = sum(12 if ord(c) > 0x2E80 else 7 for c in s)
        x0 = x - w / 2 if anchor == "middle" else (x - w if anchor == "end" else x)
        out.append((s, x0, y - 11, x0 + w, y + 2))
    return out


def test_the_weekday_charts_bar_labels_clear_its_legend(bulletin):
    bulletin.lates_by_weekday = [12, 12, 3, 0, 1, 0, 0]  # the tallest bars where the legend is
    bulletin.early_by_weekday = [12, 5, 0, 0, 0, 0, 0]
    svg = str(chart_weekdays(bulletin))
    boxes = _boxes(svg)
    legend = [b for b in boxes if b[0] in ("迟到", "早退")]
    legend += [b for b in boxes if b[0] == "rect" and b[3] - b[1] == 10 and b[4] - b[2] == 10]
    assert len(legend) == 4
    values = [b for b in boxes if b[0].isdigit()]
    assert values
    for v in values:
        for g in legend:
            overlap = v[1] < g[3] and g[1] < v[3] and v[2] < g[4] and g[2] < v[4]
            assert not overlap, (v, g)
