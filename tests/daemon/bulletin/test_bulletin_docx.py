"""Issue 17, item 1: the bulletin as an editable official document (``--format docx``, GB/T 9704).

The document is written through the command line from a real store (two months of punches, a
late, a leave) and then read as what it is: its XML (page, margins, fonts, the red mark and rule,
the page-number footers, the 发文字号), and — once in the suite, it is slow — converted to PDF by
LibreOffice headless, read back with pypdf and page 1 rendered to PNG. Without LibreOffice the
conversion test skips (under ``CI=true`` it fails). The 发文字号 counter is checked through the
command line and ``attendd status``, and against a second writer on the same database.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import threading
import unicodedata
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from helpers import CI, TZ, config_problems, fill, run_cli, write_centre
from lxml import etree
from sqlalchemy import event

from daemon.bulletin import DeviceHealth
from daemon.bulletin.docx import terminal_problems
from daemon.store import open_store
from daemon.store.bulletin_numbers import issue_number, number_of
from rules import parse_period

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS = {"w": W, "r": R}
YEAR = datetime.now(TZ).year  # the CLI issues numbers in the real clock's year at the site
NUMBER = "测政服〔{year}〕{n}号"
#: A paragraph of Chinese only, three lines long: its full lines show the 28 characters a line.
REQUIRED = (
    "窗口负责人要加强日常管理，督促工作人员按时到岗、规范打卡，确需离岗的须按规定办理请假手续，"
    "杜绝迟到早退和脱岗串岗现象，对屡次违反考勤纪律的人员要严肃处理并向中心报告整改情况。"
)
ISSUER = "测试县政务服务中心文件"
EXTRA = f"""
[bulletin]
number_format = "{NUMBER}"
issuer = "{ISSUER}"
recipients = "各进驻窗口单位"
requirements = "各窗口要对照通报逐项整改。\\n{REQUIRED}"
"""


def w(name: str) -> str:
    return f"{{{W}}}{name}"


def _centre(folder: Path) -> Path:
    """The standard centre (two windows, four people) with February and March in its store."""
    cfg = write_centre(folder, extra=EXTRA)
    store = open_store(f"sqlite:///{folder / 'store.db'}", timezone="Asia/Shanghai")
    fill(store, "2026-02")
    fill(store, "2026-03", late_on=date(2026, 3, 10))  # 乙 late once: a deduction to report
    store.close()
    return cfg


def _docx(cfg: Path, period: str, out: Path) -> str:
    proc = run_cli("--config", str(cfg), "bulletin", "--period", period, "--format", "docx", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def march(tmp_path_factory) -> tuple[Path, str]:
    """(the March DOCX, what the command printed)."""
    folder = tmp_path_factory.mktemp("docx")
    cfg = _centre(folder)
    out = folder / "考勤通报-2026-03.docx"
    return out, _docx(cfg, "2026-03", out)


def _xml(docx: Path, name: str) -> etree._Element:
    with zipfile.ZipFile(docx) as z:
        return etree.fromstring(z.read(name))


def _text(p: etree._Element) -> str:
    return "".join(p.itertext())


def _paragraph(doc: etree._Element, starts: str) -> etree._Element:
    found = [p for p in doc.iter(w("p")) if _text(p).startswith(starts)]
    assert found, f"no paragraph starting {starts!r}"
    return found[0]


def _run_fonts(p: etree._Element) -> set[tuple[str | None, str | None]]:
    """(eastAsia font, size in half-points) of every run with text in ``p``."""
    out = set()
    for r in p.iter(w("r")):
        if r.find(w("t")) is not None and r.find(w("t")).text:
            fonts, size = r.find("w:rPr/w:rFonts", NS), r.find("w:rPr/w:sz", NS)
            out.add((fonts.get(w("eastAsia")), size.get(w("val"))))
    return out


# --- the document's XML ---------------------------------------------------------------------------


def test_the_page_is_a4_with_the_gbt9704_margins_lines_and_characters(march):
    docx, _ = march
    doc = _xml(docx, "word/document.xml")
    first = doc.find(".//w:sectPr", NS)  # the body's section (the 附件 follow in a landscape one)
    size, margins, grid = first.find("w:pgSz", NS), first.find("w:pgMar", NS), first.find("w:docGrid", NS)
    assert (size.get(w("w")), size.get(w("h"))) == ("11906", "16838")  # 210 × 297 mm in twips
    twips = {k: int(margins.get(w(k))) for k in ("top", "bottom", "left", "right")}
    assert twips == {"top": 2098, "bottom": 1984, "left": 1587, "right": 1474}  # 37, 35, 28, 26 mm
    assert round((11906 - twips["left"] - twips["right"]) / 1440 * 25.4) == 156  # 版心 156 × 225 mm
    assert round((16838 - twips["top"] - twips["bottom"]) / 1440 * 25.4) == 225
    # 22 lines: the line grid and the body's exact line spacing, both 579 twips (28.95 pt)
    height = 16838 - twips["top"] - twips["bottom"]
    assert grid.get(w("type")) == "lines" and grid.get(w("linePitch")) == "579"
    assert 22 * 579 <= height < 23 * 579
    styles = _xml(docx, "word/styles.xml")
    spacing = styles.find("w:docDefaults/w:pPrDefault/w:pPr/w:spacing", NS)
    assert (spacing.get(w("line")), spacing.get(w("lineRule"))) == ("579", "exact")
    # 28 characters: 3号 (16 pt = 32 half-points) condensed by 5 twips, so 28 fit the 版心's width
    normal = styles.find("w:style[@w:styleId='Normal']/w:rPr", NS)
    assert normal.find("w:sz", NS).get(w("val")) == "32"
    condensed = int(normal.find("w:spacing", NS).get(w("val")))
    width = 11906 - twips["left"] - twips["right"]
    assert 28 * (320 + condensed) <= width < 29 * (320 + condensed)
    assert normal.find("w:rFonts", NS).get(w("eastAsia")) == "仿宋_GB2312"
    annex = doc.findall(".//w:sectPr", NS)[-1]  # the 附件: landscape A4
    assert annex.find("w:pgSz", NS).get(w("orient")) == "landscape"


def test_fonts_colours_and_the_letterhead(march):
    docx, printed = march
    doc = _xml(docx, "word/document.xml")
    number = NUMBER.format(year=YEAR, n=1)
    assert f"(发文字号 {number})" in printed
    mark = _paragraph(doc, ISSUER)
    (run,) = [r for r in mark.iter(w("r")) if _text(r)]
    assert run.find("w:rPr/w:color", NS).get(w("val")) == "FF0000"  # the red 发文机关标志
    assert run.find("w:rPr/w:rFonts", NS).get(w("eastAsia")) == "方正小标宋简体"
    ruled = _paragraph(doc, number)  # 发文字号, centred, over the red rule
    assert ruled.find("w:pPr/w:jc", NS).get(w("val")) == "center"
    rule = ruled.find("w:pPr/w:pBdr/w:bottom", NS)
    assert (rule.get(w("val")), rule.get(w("color"))) == ("single", "FF0000")
    assert _run_fonts(_paragraph(doc, "关于2026年3月考勤情况的通报")) == {("方正小标宋简体", "44")}  # 2号
    assert _text(_paragraph(doc, "各进驻窗口单位")) == "各进驻窗口单位："  # 主送, full-width colon
    opening = _paragraph(doc, "根据考勤管理有关规定")
    assert "现将2026年3月考勤情况通报如下：" in _text(opening)
    assert _run_fonts(opening) == {("仿宋_GB2312", "32")}  # 3号仿宋
    assert _run_fonts(_paragraph(doc, "一、总体情况")) == {("黑体", "32")}
    assert _run_fonts(_paragraph(doc, "（一）扣分较多的窗口和人员")) == {("楷体_GB2312", "32")}
    # the body speaks from the data: 乙's late, February beside March, the configured requirements
    body = "\n".join(_text(p) for p in doc.iter(w("p")))
    assert "迟到增加1次（上月0次）" in body
    assert "扣分较多的人员为乙（公安窗口，迟到1次" in body
    assert f"各窗口要对照通报逐项整改。\n{REQUIRED}\n特此通报。" in body
    assert "附件：1.2026年3月各窗口考勤排名" in body
    assert f"测试县政务服务中心文件\n{YEAR}年" in body  # 落款 over 成文日期
    fonts = _xml(docx, "word/fontTable.xml")  # the fallbacks, for a machine without the font
    alt = {
        f.get(w("name")): f.find("w:altName", NS).get(w("val"))
        for f in fonts.iter(w("font"))
        if f.find("w:altName", NS) is not None
    }
    assert alt["仿宋_GB2312"] == "仿宋" and alt["方正小标宋简体"] == "小标宋" and alt["楷体_GB2312"] == "楷体"


def test_page_numbers_odd_right_even_left_in_4hao_songti(march):
    docx, _ = march
    settings = _xml(docx, "word/settings.xml")
    assert settings.find("w:evenAndOddHeaders", NS) is not None
    doc = _xml(docx, "word/document.xml")
    rels = _xml(docx, "word/_rels/document.xml.rels")
    target = {r.get("Id"): r.get("Target") for r in rels}
    refs = {f.get(w("type")): f.get(f"{{{R}}}id") for f in doc.find(".//w:sectPr", NS).iter(w("footerReference"))}
    assert set(refs) == {"default", "even"}
    for kind, side, indent in (("default", "right", "right"), ("even", "left", "left")):
        footer = _xml(docx, f"word/{target[refs[kind]]}")
        (p,) = footer.iter(w("p"))
        assert p.find("w:pPr/w:jc", NS).get(w("val")) == side
        assert p.find("w:pPr/w:ind", NS).get(w(indent)) == "280"  # 空一字: one 14 pt character
        assert [x.text for x in p.iter(w("instrText"))] == [" PAGE "]
        assert "".join(t.text for t in p.iter(w("t"))) == "— 1 —"  # the field's placeholder between em dashes
        sizes = {r.find("w:rPr/w:sz", NS).get(w("val")) for r in p.iter(w("r"))}
        fonts = {r.find("w:rPr/w:rFonts", NS).get(w("eastAsia")) for r in p.iter(w("r"))}
        assert sizes == {"28"} and fonts == {"宋体"}  # 4号宋体


def test_terminal_problems_name_the_silent_days_and_the_drift(march):
    from daemon.bulletin.docx import build_docx

    b_ok = terminal_problems(_bulletin_of(march))
    assert b_ok == "本期各考勤设备运行正常，未发现影响考勤的设备问题。"
    sick = DeviceHealth(
        "hall-east", "zk", "S9", 10, 3, 2, None, 95.0, [date(2026, 3, 30), date(2026, 3, 31)], 1, {"时钟复位": 1}, None
    )
    b = dataclasses.replace(_bulletin_of(march), devices=[sick])
    said = terminal_problems(b)
    assert said.startswith("考勤设备hall-east（序列号S9）2个工作日无打卡记录（3月30日、3月31日），同步失败2次，")
    assert "时钟最大偏差95秒" in said and "隔离异常记录1条（时钟复位1条）" in said
    assert build_docx(b) is not None  # and a document is built from it without a config


def _bulletin_of(march):
    """The bulletin the March document was written from (rebuilt from the document's store)."""
    from daemon.bulletin import collect
    from daemon.config import load_config

    folder = march[0].parent
    cfg = load_config(folder / "attendd.toml")
    store = open_store(cfg.store_url(), timezone="Asia/Shanghai")
    try:
        return collect(store, cfg, parse_period("2026-03"), now=datetime.now(UTC), queue=False)
    finally:
        store.close()


# --- LibreOffice: the document opens, converts, and reads back --------------------------------------


def _tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path:
        return path
    reason = f"{name} is not installed (Debian: apt install {package}; deploy/system-packages.sh --test)"
    if CI:
        pytest.fail(f"CI=true: {reason}")
    pytest.skip(reason)


def _cjk_width(line: str) -> float:
    return sum(1.0 if unicodedata.east_asian_width(c) in "WF" else 0.5 for c in line if not c.isspace())


def test_libreoffice_converts_it_and_the_chinese_reads_back(march, tmp_path):
    from PIL import Image
    from pypdf import PdfReader

    soffice = _tool("soffice", "libreoffice-writer-nogui")
    pdftoppm = _tool("pdftoppm", "poppler-utils")
    docx, _ = march
    profile = tmp_path / "lo-profile"  # a private profile: parallel runs do not share one
    proc = subprocess.run(
        [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", "pdf"]
        + ["--outdir", str(tmp_path), str(docx)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    pdf = tmp_path / (docx.stem + ".pdf")
    assert proc.returncode == 0 and pdf.is_file(), proc.stdout + proc.stderr
    reader = PdfReader(pdf)
    pages = [p.extract_text() for p in reader.pages]
    text = "".join("".join(p.split()) for p in pages)  # pypdf puts spaces between digits and CJK
    for said in ("现将2026年3月考勤情况通报如下", "一、总体情况", "二、存在问题", "三、下步要求", "特此通报"):
        assert said in text
    assert "乙（公安窗口，迟到1次" in text and NUMBER.format(year=YEAR, n=1) in text
    assert "附件1" in text and "考勤扣分明细" in text
    first = reader.pages[0].mediabox
    assert (round(float(first.width)), round(float(first.height))) == (595, 842)  # A4 portrait
    last = reader.pages[-1].mediabox
    assert float(last.width) > float(last.height)  # the 附件: landscape
    # 22 lines a page (page 2 is body text throughout), 28 characters a line
    body_lines = [ln for ln in pages[1].splitlines() if ln.strip() and "—" not in ln]
    assert len(body_lines) == 22, body_lines
    portrait = [t for t, p in zip(pages, reader.pages, strict=True) if p.mediabox.height > p.mediabox.width]
    lines = [ln for p in portrait for ln in p.splitlines() if "—" not in ln]
    assert max(_cjk_width(ln) for ln in lines) <= 28
    required = [ln for ln in lines if ln.strip() and ln.strip() in REQUIRED]
    assert [_cjk_width(ln) for ln in required][:2] == [26, 28], required  # indented 2, then a full line
    # page numbers: odd pages on the right, even pages on the left
    xs: dict[int, float] = {}
    for i in (0, 1):
        reader.pages[i].extract_text(
            visitor_text=lambda t, cm, tm, *_, i=i: xs.setdefault(i, tm[4]) if t.startswith("—") else None
        )
    assert xs[0] > float(first.width) / 2 > xs[1]
    # page 1 as an image: A4's proportions, not blank, the mark and the rule in red
    subprocess.run(
        [pdftoppm, "-png", "-r", "30", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")], check=True, timeout=60
    )
    (png,) = tmp_path.glob("p*.png")
    img = Image.open(png).convert("RGB")
    assert abs(img.width / img.height - 210 / 297) < 0.01
    data = img.tobytes()
    pixels = list(zip(data[0::3], data[1::3], data[2::3], strict=True))
    assert sum(1 for p in pixels if sum(p) < 600) > len(pixels) // 200  # ink
    assert sum(1 for r, g, b in pixels if r > 200 and g < 80 and b < 80) > 20  # red


# --- the 发文字号 counter ---------------------------------------------------------------------------


def test_each_period_keeps_its_number_and_status_shows_the_counter(tmp_path):
    cfg = _centre(tmp_path)
    said = run_cli("--config", str(cfg), "status")
    assert f"发文字号 (DOCX bulletins): none issued in {YEAR} yet" in said.stdout
    one, two = NUMBER.format(year=YEAR, n=1), NUMBER.format(year=YEAR, n=2)
    assert f"(发文字号 {one})" in _docx(cfg, "2026-03", tmp_path / "a.docx")
    assert f"(发文字号 {two})" in _docx(cfg, "2026-02", tmp_path / "b.docx")
    assert f"(发文字号 {one})" in _docx(cfg, "2026-03", tmp_path / "c.docx")  # written again: the same number
    html = run_cli("--config", str(cfg), "bulletin", "--period", "2026-01", "-o", str(tmp_path / "x.html"))
    assert html.returncode == 0 and "发文字号" not in html.stdout  # only the DOCX is numbered
    said = run_cli("--config", str(cfg), "status")
    assert said.returncode == 0, said.stderr
    assert f"发文字号 (DOCX bulletins): last issued in {YEAR}: {two} (n = 2, 2026-02," in said.stdout
    assert "by cli:" in said.stdout


def test_a_second_writer_taking_the_same_n_makes_the_first_take_the_next(tmp_path):
    """Two stores on one database (the daemon and a clerk's command): the other commits n=1 just
    before this one inserts it; the insert fails on the key and the retry takes n=2."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    mine, other = open_store(url, timezone="Asia/Shanghai"), open_store(url, timezone="Asia/Shanghai")
    now = datetime(2026, 4, 3, 2, 0, tzinfo=UTC)
    inserts: list[str] = []

    def interleave(conn, cursor, statement, *_):
        if statement.lstrip().upper().startswith("INSERT INTO BULLETIN_NUMBER"):
            inserts.append(statement)
            if len(inserts) == 1:  # the other writer wins the race, on its own connection
                t = threading.Thread(
                    target=issue_number,
                    args=(other, "2026-02"),
                    kwargs=dict(year=2026, number_format="{n}", by="b", now_utc=now),
                )
                t.start()
                t.join()

    event.listen(mine._engine, "before_cursor_execute", interleave)
    try:
        got = issue_number(mine, "2026-03", year=2026, number_format="第{n}号", by="a", now_utc=now)
    finally:
        event.remove(mine._engine, "before_cursor_execute", interleave)
    assert len(inserts) == 2  # the race was lost once, then won
    assert (got.n, got.number) == (2, "第2号")
    assert number_of(mine, "2026-02").n == 1 and number_of(mine, "2026-03").n == 2
    assert issue_number(mine, "2026-03", year=2027, number_format="x{n}", by="a", now_utc=now) == got  # kept
    mine.close()
    other.close()


def test_number_format_is_checked_in_the_config(tmp_path):
    got = config_problems(tmp_path, '[site]\nname = "中心"\n[bulletin]\nnumber_format = "罗政服〔{year}〕号"\n')
    assert any("bulletin.number_format" in p and "has no {n}" in p for p in got), got
    got = config_problems(tmp_path, '[site]\nname = "中心"\n[bulletin]\nnumber_format = "〔{yr}〕{n}号"\n')
    assert any("bulletin.number_format" in p and "only {year} and {n}" in p for p in got), got
