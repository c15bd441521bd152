"""The DOCX bulletin (issue 17): the 考勤通报 as an official document (公文) the clerk edits in WPS
or Word before it is signed and sealed, in the national layout, GB/T 9704-2012 《党政机关公文格式》.

What it prints, top to bottom: the red 发文机关标志 and the 发文字号 above a red rule (版头); the
title in 2号小标宋; 主送; a body written from the data — 一、总体情况 (with the previous period
beside it), 二、存在问题 (the windows and people with most deductions, the disqualifications, the
terminals that failed the period), 三、下步要求 (``[bulletin] requirements``), 特此通报 —; the
附件 list, 落款 and 成文日期; then the 附件 themselves (ranking, a table per window, every
deduction) on landscape pages.

The layout's numbers (A4; 天头 37 mm, 订口 28 mm, 版心 156 × 225 mm; 3号 = 16 pt body in 22 lines
of 28 characters; page numbers "— 1 —" in 4号宋体, odd pages right, even pages left) are set in
the section (``w:pgSz``, ``w:pgMar``, ``w:docGrid``) and on each run; fonts are named by their
East-Asian names (``w:rFonts w:eastAsia``) with each font's fallbacks in the document's font table
(``w:altName``), see :data:`FALLBACKS`. Built in code with python-docx: no template to ship.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_LINE_SPACING
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor, Twips
from lxml import etree

from rules import Period

from . import labels, parts
from .labels import num
from .model import Bulletin, StaffLine
from .xlsx import display_width

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument
    from docx.section import Section
    from docx.text.paragraph import Paragraph

    from ..config import Config
    from ..store import Store

__all__ = ["FALLBACKS", "Letterhead", "build_docx", "letterhead", "prepare_docx", "write_docx"]

# --- GB/T 9704-2012 ----------------------------------------------------------------------------

PAGE_W, PAGE_H = Mm(210), Mm(297)  # A4
TOP, LEFT = Mm(37), Mm(28)  # 天头, 订口
TEXT_W, TEXT_H = Mm(156), Mm(225)  # 版心
RIGHT, BOTTOM = Mm(210 - 28 - 156), Mm(297 - 37 - 225)  # 26 mm, 35 mm
LINES, CHARS = 22, 28  # a page of body text
BODY_PT, TITLE_PT, PAGE_NO_PT, TABLE_PT = 16, 22, 14, 10.5  # 3号, 2号, 4号, 5号

#: The body's line pitch in twips: as many whole twips as 22 lines fit in the 版心's height
#: (225 mm = 12,756 twips → 579, i.e. 28.95 pt). Every body line is set to exactly this.
LINE_PITCH = (Twips(PAGE_H.twips - TOP.twips - BOTTOM.twips).twips) // LINES
#: 28 characters across the 版心 (8,845 twips): 15.79 pt a character, for a 16 pt font.
CHAR_PITCH_PT = (PAGE_W.twips - LEFT.twips - RIGHT.twips) / 20 / CHARS
#: So the body's characters are condensed (``w:spacing``, in twips) to at most that pitch: by 5
#: twips (0.25 pt), to 15.75 pt, 28 to a line in Word, WPS and LibreOffice alike. Not a character
#: grid (``w:docGrid w:type="linesAndChars" w:charSpace="-842"``): LibreOffice gives a character
#: wider than its grid cell two cells, 14 to a line (docs/decisions.md).
CONDENSE = math.ceil((BODY_PT - CHAR_PITCH_PT) * 20)

RED = RGBColor(0xFF, 0x00, 0x00)
RED_HEX = "FF0000"

FANGSONG = "仿宋_GB2312"  # body
XIAOBIAOSONG = "方正小标宋简体"  # title, 发文机关标志
HEITI = "黑体"  # first-level headings, 附件 marks
KAITI = "楷体_GB2312"  # second-level headings
SONGTI = "宋体"  # page numbers
LATIN = "Times New Roman"  # digits and Latin letters beside the Chinese

#: What a machine without the named font shows instead, in order: written into the document's
#: font table as ``w:altName`` (Word and WPS read the first), and documented in docs/decisions.md.
#: LibreOffice on Linux substitutes by its own table (WenQuanYi, Noto CJK) whatever is named here.
FALLBACKS: dict[str, tuple[str, ...]] = {
    FANGSONG: ("仿宋", "FangSong", "STFangsong"),
    XIAOBIAOSONG: ("小标宋", "华文中宋", "STZhongsong"),
    HEITI: ("SimHei", "STHeiti"),
    KAITI: ("楷体", "KaiTi", "STKaiti"),
    SONGTI: ("SimSun", "STSong"),
}

_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


#: ``w:pPr``'s children in the schema's order (Word refuses a file with them out of order).
_PPR_ORDER = (
    "w:pStyle", "w:keepNext", "w:keepLines", "w:pageBreakBefore", "w:framePr", "w:widowControl", "w:numPr",
    "w:suppressLineNumbers", "w:pBdr", "w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap",
    "w:overflowPunct", "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd",
    "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc",
    "w:textDirection", "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr",
    "w:sectPr", "w:pPrChange",
)  # fmt: skip


def _ppr_add(ppr: Any, tag: str, **attrs: str) -> Any:
    """A new ``tag`` child of ``ppr`` in its schema place, with ``w:``-attributes ``attrs``."""
    el = OxmlElement(tag)
    for name, value in attrs.items():
        el.set(qn(f"w:{name}"), value)
    ppr.insert_element_before(el, *_PPR_ORDER[_PPR_ORDER.index(tag) + 1 :])
    return el


def _clean(text: object) -> str:
    """Text XML can hold: a control character from a terminal or a clerk's file is dropped."""
    return _FORBIDDEN.sub("", str(text))


# --- what the 版头 and 落款 say ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Letterhead:
    """What the document says beyond the data: who issues it, its 发文字号, to whom, the requirements."""

    issuer: str  # the red 发文机关标志
    number: str  # 发文字号 as printed; "" prints no 字号 line
    recipients: str  # 主送
    requirements: str  # 三、下步要求
    signer: str  # 落款
    note: str = ""  # 附注 (``[bulletin] footer``)


def letterhead(config: Config, number: str = "") -> Letterhead:
    """The letterhead from ``[bulletin]`` (issuer default ``[site] name``, signer default the issuer)."""
    bc = config.bulletin
    issuer = bc.issuer or config.site.name
    return Letterhead(
        issuer=issuer,
        number=number,
        recipients=bc.recipients,
        requirements=bc.requirements,
        signer=bc.signer or issuer,
        note=bc.footer or "",
    )


def prepare_docx(store: Store, config: Config, b: Bulletin, *, now: datetime, by: str) -> Letterhead:
    """Ready ``b`` to be written as DOCX: its 发文字号 issued (or the one it already has) and the
    previous period's figures in ``b.previous``; returns the letterhead to write it with.

    The number is issued here, the first time a DOCX of the period is written, in the year of
    ``now`` (an aware datetime) at the site; see :mod:`daemon.store.bulletin_numbers`.
    """
    from ..store.bulletin_numbers import issue_number
    from .collect import previous_figures

    if b.previous is None:
        b.previous = previous_figures(store, config, b.period, now=now)
    fmt = config.bulletin.number_format
    number = ""
    if fmt:
        year = now.astimezone(config.site.tz).year
        number = issue_number(
            store, b.period.key, year=year, number_format=fmt, by=by, now_utc=now.astimezone(UTC)
        ).number
    return letterhead(config, number)


def _default_letterhead(b: Bulletin) -> Letterhead:
    """``[bulletin]``'s defaults for a bulletin written without a config (the centre issues it)."""
    from ..config import BulletinSection

    bc = BulletinSection()
    return Letterhead(b.centre, "", bc.recipients, bc.requirements, b.centre)


# --- the body's words -----------------------------------------------------------------------------


def cn_date(d: date) -> str:
    """``2026年4月3日`` (GB/T 9704: 成文日期 in Arabic numerals, no leading zeros)."""
    return f"{d.year}年{d.month}月{d.day}日"


def previous_word(p: Period) -> str:
    """How the body names the period before ``p``: 上月, 上季度, 上周 …"""
    return {"week": "上周", "month": "上月", "quarter": "上季度", "year": "上年"}.get(p.kind, "上期")


#: (key of :meth:`Bulletin.totals`, what, unit) compared with the previous period.
COMPARED = (
    ("staff", "参评人数", "人"),
    ("late", "迟到", "次"),
    ("early", "早退", "次"),
    ("missing", "缺卡", "次"),
    ("absent_days", "旷工", "天"),
    ("leave_days", "请假", "天"),
)


def comparison(b: Bulletin) -> str:
    """``与上月相比，参评人数持平（4人），迟到增加2次（上月1次），…。`` or ``上月无数据，…``."""
    word = previous_word(b.period)
    if b.previous is None:
        return f"{word}无数据，本期不作比较。"
    now = b.totals()
    bits = []
    for key, what, unit in COMPARED:
        before = float(b.previous.get(key, 0))
        d = round(float(now[key]) - before, 2)
        if d == 0:
            bits.append(f"{what}持平（{num(before)}{unit}）")
        else:
            bits.append(f"{what}{'增加' if d > 0 else '减少'}{num(abs(d))}{unit}（{word}{num(before)}{unit}）")
    return f"与{word}相比，" + "，".join(bits) + "。"


def overview(b: Bulletin) -> list[str]:
    """一、总体情况: the period's figures, the comparison, who leads the ranking."""
    t = b.totals()
    first = f"本期参评人员{t['staff']}人"
    if t["not_assessed"]:
        first += f"，未参评{t['not_assessed']}人（名单见附件2）"
    first += (
        f"。全中心共迟到{t['late']}次、早退{t['early']}次、缺卡{t['missing']}次，旷工{num(t['absent_days'])}天，"
        f"请假{num(t['leave_days'])}天；扣分{t['deductions']}项，合计{num(t['points'])}分"
    )
    if t["disqualified"]:
        first += f"；{t['disqualified']}人被取消评优资格"
    out = [first + "。", comparison(b)]
    leaders = []
    for w in b.ranking:
        if w.rank == 1 and w.max_points:
            where = f"（{b.group_title(w.ranking_group)}）" if b.grouped else ""
            leaders.append(f"{w.name}{where}（得分率{num(w.percent)}%）")
    if leaders:
        out.append("考勤得分率排名第一的窗口为" + "、".join(leaders) + "，各窗口排名见附件1。")
    return out


def _counts(s: StaffLine) -> str:
    bits = ((s.late, "迟到", "次"), (s.early, "早退", "次"), (s.missing, "缺卡", "次"), (s.absent_days, "旷工", "天"))
    return "、".join(f"{w}{num(n)}{u}" for n, w, u in (*bits, (s.off_post, "脱岗", "次")) if n)


def most_deducted(b: Bulletin, *, windows: int = 3, staff: int = 5) -> str:
    """（一）: the windows and the people with the most deduction points."""
    names = {w.code: w.name for w in b.windows}
    by_window = sorted(
        ((round(sum(s.deduction for s in w.staff), 4), w.name) for w in b.windows), key=lambda x: (-x[0], x[1])
    )
    top_w = [f"{name}（扣{num(p)}分）" for p, name in by_window if p > 0][:windows]
    people = sorted((s for s in b.staff if s.deduction > 0), key=lambda s: (-s.deduction, s.window, s.staff_no))
    top_s = []
    for s in people[:staff]:
        what = _counts(s)
        top_s.append(
            f"{s.name or s.staff_no}（{names.get(s.window, s.window)}，{what + '，' if what else ''}扣{num(s.deduction)}分）"
        )
    if not top_w and not top_s:
        return "本期未发生考勤扣分。"
    text = "扣分较多的窗口为" + "、".join(top_w) + "。" if top_w else ""
    if top_s:
        text += "扣分较多的人员为" + "、".join(top_s) + "。"
    return text + "具体扣分情况见附件3。"


def disqualifications(b: Bulletin) -> str:
    """（二）: who lost (or may not receive) 评优 this period, and why."""
    names = {w.code: w.name for w in b.windows}
    lines = [
        f"{s.name or s.staff_no}（{names.get(s.window, s.window)}）{s.flags}"
        + (f"，原因：{'；'.join(s.reasons)}" if s.reasons else "")
        for s in b.disqualified
    ]
    if not lines:
        return "本期无取消评优资格或不得评优人员。"
    return "；".join(lines) + "。"


def terminal_problems(b: Bulletin, *, days_shown: int = 5) -> str:
    """（三）: the terminals whose problems may have affected the period (silent workdays, failed
    syncs, clock drift of a minute or more, quarantined records, the last error)."""
    out = []
    for d in b.devices:
        if d.healthy and not d.last_error:
            continue
        bits = []
        if d.silent_workdays:
            shown = "、".join(f"{x.month}月{x.day}日" for x in d.silent_workdays[:days_shown])
            more = "等" if len(d.silent_workdays) > days_shown else ""
            bits.append(f"{len(d.silent_workdays)}个工作日无打卡记录（{shown}{more}）")
        if d.syncs_failed:
            bits.append(f"同步失败{d.syncs_failed}次")
        if d.max_drift_s is not None and abs(d.max_drift_s) >= 60:
            bits.append(f"时钟最大偏差{num(round(d.max_drift_s))}秒")
        if d.quarantined:
            why = "、".join(f"{r}{n}条" for r, n in d.quarantine_reasons.items())
            bits.append(f"隔离异常记录{d.quarantined}条（{why}）")
        if d.last_error:
            bits.append(f"最近一次故障：{d.last_error}")
        serial = f"（序列号{d.serial}）" if d.serial else ""
        out.append(f"考勤设备{d.name}{serial}" + "，".join(bits))
    if not out:
        return "本期各考勤设备运行正常，未发现影响考勤的设备问题。"
    return "；".join(out) + "。上述情况可能影响相关人员的考勤记录，相关窗口可凭情况说明申请核实。"


#: The 附件 in order: (number, title after the period).
ANNEXES = ((1, "各窗口考勤排名"), (2, "各窗口人员考勤情况"), (3, "考勤扣分明细"))


# --- the document's pieces ------------------------------------------------------------------------


def _fonts(rpr: Any, east_asia: str, latin: str) -> None:
    """Name the run's fonts: ``latin`` for ASCII, ``east_asia`` for Chinese, no theme fonts (a
    theme font wins over a name)."""
    fonts = rpr.get_or_add_rFonts()
    for attr in list(fonts.attrib):
        del fonts.attrib[attr]
    fonts.set(qn("w:ascii"), latin)
    fonts.set(qn("w:hAnsi"), latin)
    fonts.set(qn("w:eastAsia"), east_asia)
    fonts.set(qn("w:cs"), latin)
    fonts.set(qn("w:hint"), "eastAsia")


def _run(
    p: Paragraph,
    text: str,
    *,
    font: str = FANGSONG,
    size: float = BODY_PT,
    bold: bool = False,
    color: RGBColor | None = None,
    latin: str = LATIN,
) -> Any:
    r = p.add_run(_clean(text))
    r.font.size = Pt(size)
    if bold:
        r.font.bold = True
    if color is not None:
        r.font.color.rgb = color
    _fonts(r._r.get_or_add_rPr(), font, latin)
    return r


def _para(
    doc: DocxDocument,
    text: str = "",
    *,
    font: str = FANGSONG,
    size: float = BODY_PT,
    align: WD_ALIGN_PARAGRAPH = WD_ALIGN_PARAGRAPH.JUSTIFY,
    indent: int = 2,
    color: RGBColor | None = None,
    outline: int | None = None,
    grid: bool = True,
) -> Paragraph:
    """A paragraph of the body: exact line pitch (from the Normal style), ``indent`` characters in;
    ``grid=False`` for large type (title, mark), which the character grid would spread to two cells."""
    p = doc.add_paragraph()
    if not grid:
        _ppr_add(p._p.get_or_add_pPr(), "w:snapToGrid", val="0")
    pf = p.paragraph_format
    pf.alignment = align
    if indent:
        pf.first_line_indent = Pt(BODY_PT * indent)
        p._p.get_or_add_pPr().get_or_add_ind().set(qn("w:firstLineChars"), str(100 * indent))
    if outline is not None:  # the navigation pane of Word and WPS lists the headings
        _ppr_add(p._p.get_or_add_pPr(), "w:outlineLvl", val=str(outline))
    if text:
        _run(p, text, font=font, size=size, color=color)
    return p


def _lines(doc: DocxDocument, n: int) -> None:
    """``n`` empty body lines (GB/T 9704 counts the 版头's spacing in lines: 空二行 …)."""
    for _ in range(n):
        _para(doc, indent=0)


def _width_chars(text: str) -> float:
    """Width in body characters: a CJK character is one, a digit or Latin letter half."""
    return sum(1.0 if unicodedata.east_asian_width(c) in "WF" else 0.5 for c in text)


def _page_number(footer: Any, align: WD_ALIGN_PARAGRAPH) -> None:
    """ "— 1 —" in 4号宋体, a PAGE field between em dashes, one character in from the edge."""
    footer.is_linked_to_previous = False
    p = footer.paragraphs[0]
    pf = p.paragraph_format
    pf.alignment = align
    pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    pf.line_spacing = Pt(PAGE_NO_PT + 2)
    if align == WD_ALIGN_PARAGRAPH.RIGHT:
        pf.right_indent = Pt(PAGE_NO_PT)  # 单页码居右空一字
    else:
        pf.left_indent = Pt(PAGE_NO_PT)  # 双页码居左空一字
    pf.first_line_indent = Pt(0)

    def run(text: str = "") -> Any:
        return _run(p, text, font=SONGTI, size=PAGE_NO_PT, latin=SONGTI)

    run("— ")
    for kind, instr in (("begin", None), (None, " PAGE "), ("separate", None), (None, None), ("end", None)):
        r = run("1" if kind is None and instr is None else "")
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
            r._r.append(el)
        elif instr:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = instr
            r._r.append(el)
    run(" —")


def _layout(section: Section, *, landscape: bool = False) -> None:
    """A4 with the 版心 of GB/T 9704 (turned for a landscape 附件 page) and the line grid."""
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = PAGE_H, PAGE_W
        section.top_margin, section.bottom_margin = LEFT, RIGHT
        section.left_margin, section.right_margin = TOP, BOTTOM
    else:
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = PAGE_W, PAGE_H
        section.top_margin, section.bottom_margin = TOP, BOTTOM
        section.left_margin, section.right_margin = LEFT, RIGHT
    section.gutter = Twips(0)
    section.header_distance = Mm(15)
    # the page number's top 7 mm below the 版心 (GB/T 9704 7.5): the footer sits under that line
    section.footer_distance = Twips(section.bottom_margin.twips - Mm(7).twips - Pt(PAGE_NO_PT + 2).twips)
    sect = section._sectPr
    grid = sect.find(qn("w:docGrid"))
    if grid is None:
        grid = OxmlElement("w:docGrid")
        sect.append(grid)
    for attr in list(grid.attrib):
        del grid.attrib[attr]
    grid.set(qn("w:type"), "lines")  # 22 lines a page; the 28 characters come from CONDENSE
    grid.set(qn("w:linePitch"), str(312 if landscape else LINE_PITCH))


def _condensed(rpr: Any) -> None:
    """Condense ``rpr``'s characters by :data:`CONDENSE` (``w:spacing`` in the schema's place)."""
    el = OxmlElement("w:spacing")
    el.set(qn("w:val"), str(-CONDENSE))
    rpr.insert_element_before(
        el, "w:w", "w:kern", "w:position", "w:sz", "w:szCs", "w:highlight", "w:u", "w:effect", "w:bdr", "w:shd",
        "w:fitText", "w:vertAlign", "w:rtl", "w:cs", "w:em", "w:lang", "w:eastAsianLayout", "w:specVanish", "w:oMath",
    )  # fmt: skip


def _styles(doc: DocxDocument) -> None:
    """Defaults: 3号仿宋 in exact lines of the grid, no spacing; and the tables' two styles."""
    styles = doc.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _fonts(rpr, FANGSONG, LATIN)
    for tag in ("w:sz", "w:szCs"):
        rpr.find(qn(tag)).set(qn("w:val"), str(BODY_PT * 2))
    _condensed(rpr)
    lang = rpr.find(qn("w:lang"))
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    spacing = defaults.find(qn("w:pPrDefault")).find(qn("w:pPr")).find(qn("w:spacing"))
    for attr in list(spacing.attrib):
        del spacing.attrib[attr]
    spacing.set(qn("w:before"), "0")
    spacing.set(qn("w:after"), "0")
    spacing.set(qn("w:line"), str(LINE_PITCH))
    spacing.set(qn("w:lineRule"), "exact")
    normal = doc.styles["Normal"]
    normal.font.size = Pt(BODY_PT)
    _fonts(normal.element.get_or_add_rPr(), FANGSONG, LATIN)
    _condensed(normal.element.get_or_add_rPr())
    normal.paragraph_format.widow_control = False  # every page its 22 lines (GB/T 9704): no lines moved on
    for name, font, bold in (("Table Text", FANGSONG, False), ("Table Head", HEITI, True)):
        st = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        st.base_style = normal
        st.font.size = Pt(TABLE_PT)
        st.font.bold = bold or None
        _fonts(st.element.get_or_add_rPr(), font, LATIN)
        pf = st.paragraph_format
        pf.line_spacing_rule = WD_LINE_SPACING.SINGLE
        pf.first_line_indent = Pt(0)
        pf.alignment = WD_ALIGN_PARAGRAPH.CENTER if bold else WD_ALIGN_PARAGRAPH.LEFT
        _ppr_add(st.element.get_or_add_pPr(), "w:snapToGrid", val="0")  # table cells keep their own pitch


def _font_table(doc: DocxDocument) -> None:
    """Each font the document names, with its fallbacks as ``w:altName`` and the GB2312 charset."""
    part = doc.part.part_related_by(RELATIONSHIP_TYPE.FONT_TABLE)
    root = etree.fromstring(part.blob)
    for name, alternatives in FALLBACKS.items():
        font = etree.SubElement(root, qn("w:font"))
        font.set(qn("w:name"), name)
        for tag, value in (("w:altName", alternatives[0]), ("w:charset", "86"), ("w:family", "auto")):
            etree.SubElement(font, qn(tag)).set(qn("w:val"), value)
        etree.SubElement(font, qn("w:pitch")).set(qn("w:val"), "variable")
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _cell_text(v: Any) -> str:
    """A table cell as every format prints it (:func:`labels.text`), without control characters."""
    return _clean(labels.text(v))


def _table(doc: DocxDocument, header: Sequence[str], rows: Iterable[Sequence[Any]], width_twips: int) -> None:
    """A table across the 版心, header repeated on every page.

    Rows are built as XML directly: python-docx's cell API takes minutes for a year's annex
    (tens of thousands of rows). Column widths follow the widest text (2 to 30 characters).
    """
    texts = [[_cell_text(v) for v in row] for row in rows]
    want = [max([display_width(h)] + [display_width(r[i]) for r in texts[:500]]) for i, h in enumerate(header)]
    want = [min(max(w, 4), 60) + 2 for w in want]  # a two-digit number stays on one line
    widths = [max(1, width_twips * w // sum(want)) for w in want]
    t = doc.add_table(rows=0, cols=len(header))
    t.style = doc.styles["Table Grid"]
    tbl = t._tbl
    tbl_pr = tbl.tblPr
    tbl_w = tbl_pr.find(qn("w:tblW"))
    if tbl_w is None:
        tbl_w = etree.SubElement(tbl_pr, qn("w:tblW"))
    tbl_w.set(qn("w:w"), str(width_twips))
    tbl_w.set(qn("w:type"), "dxa")
    for col, w in zip(tbl.tblGrid.findall(qn("w:gridCol")), widths, strict=True):
        col.set(qn("w:w"), str(w))

    def row(cells: Sequence[str], style: str, head: bool = False) -> None:
        tr = etree.SubElement(tbl, qn("w:tr"))
        if head:
            etree.SubElement(etree.SubElement(tr, qn("w:trPr")), qn("w:tblHeader"))
        for text, w in zip(cells, widths, strict=True):
            tc = etree.SubElement(tr, qn("w:tc"))
            tcw = etree.SubElement(etree.SubElement(tc, qn("w:tcPr")), qn("w:tcW"))
            tcw.set(qn("w:w"), str(w))
            tcw.set(qn("w:type"), "dxa")
            p = etree.SubElement(tc, qn("w:p"))
            etree.SubElement(etree.SubElement(p, qn("w:pPr")), qn("w:pStyle")).set(qn("w:val"), style)
            if text:
                t_el = etree.SubElement(etree.SubElement(p, qn("w:r")), qn("w:t"))
                t_el.set(qn("xml:space"), "preserve")
                t_el.text = text

    row([_clean(h) for h in header], "TableHead", head=True)
    for cells in texts:
        row(cells, "TableText")


# --- the document ---------------------------------------------------------------------------------


def _head(doc: DocxDocument, b: Bulletin, lh: Letterhead) -> None:
    """版头 (the red mark, 发文字号, the red rule), title and 主送."""
    mark = _para(doc, indent=0, align=WD_ALIGN_PARAGRAPH.CENTER, grid=False)
    size = max(22, min(42, math.floor(TEXT_W.pt / max(_width_chars(lh.issuer), 1))))  # one line, at most 初号
    mf = mark.paragraph_format
    mf.space_before = Mm(35)  # GB/T 9704 7.2.3: the mark's top 35 mm below the 版心's
    mf.line_spacing = Pt(size * 1.25)
    _run(mark, lh.issuer, font=XIAOBIAOSONG, size=size, color=RED)
    _lines(doc, 2)  # 发文机关标志下空二行
    ruled = _para(doc, lh.number, indent=0, align=WD_ALIGN_PARAGRAPH.CENTER)
    # the red rule (版头中的分隔线): the width of the 版心, 4 mm under the 发文字号
    bottom = OxmlElement("w:bottom")
    for attr, value in (("w:val", "single"), ("w:sz", "16"), ("w:space", "11"), ("w:color", RED_HEX)):
        bottom.set(qn(attr), value)
    _ppr_add(ruled._p.get_or_add_pPr(), "w:pBdr").append(bottom)
    _lines(doc, 2)  # 分隔线下空二行
    title = _para(doc, indent=0, align=WD_ALIGN_PARAGRAPH.CENTER, grid=False)
    _run(title, f"关于{b.period_label}考勤情况的通报", font=XIAOBIAOSONG, size=TITLE_PT)
    if not b.final:
        _para(
            doc,
            "（未定稿：本期尚未结账，数据以结账后的定稿为准）",
            font=KAITI,
            indent=0,
            align=WD_ALIGN_PARAGRAPH.CENTER,
        )
    _lines(doc, 1)  # 标题下空一行
    recipients = lh.recipients.rstrip("：:")
    _para(doc, f"{recipients}：", indent=0, align=WD_ALIGN_PARAGRAPH.LEFT)  # 主送: 顶格, 全角冒号


def _body(doc: DocxDocument, b: Bulletin, lh: Letterhead) -> None:
    last = b.period.end - timedelta(days=1)
    _para(
        doc,
        f"根据考勤管理有关规定，中心对{cn_date(b.period.start)}至{cn_date(last)}各窗口单位工作人员的考勤情况"
        f"进行了统计。现将{b.period_label}考勤情况通报如下：",
    )
    _para(doc, "一、总体情况", font=HEITI, outline=0)
    for text in overview(b):
        _para(doc, text)
    _para(doc, "二、存在问题", font=HEITI, outline=0)
    for heading, text in (
        ("（一）扣分较多的窗口和人员", most_deducted(b)),
        ("（二）取消评优资格情况", disqualifications(b)),
        ("（三）考勤设备运行情况", terminal_problems(b)),
    ):
        _para(doc, heading, font=KAITI, outline=1)
        _para(doc, text)
    _para(doc, "三、下步要求", font=HEITI, outline=0)
    for text in filter(None, (line.strip() for line in lh.requirements.splitlines())):
        _para(doc, text)
    _para(doc, "特此通报。")


def _close(doc: DocxDocument, b: Bulletin, lh: Letterhead) -> None:
    """附件说明, 落款 and 成文日期 (under a seal: the date 右空四字, the issuer centred above it), 附注."""
    _lines(doc, 1)
    for i, (n, title) in enumerate(ANNEXES):
        p = _para(doc, ("附件：" if i == 0 else "") + f"{n}.{b.period_label}{title}", indent=0)
        pf = p.paragraph_format
        pf.left_indent = Pt(BODY_PT * (2 if i == 0 else 5))  # 左空二字；回行与附件名称对齐
    _lines(doc, 2)
    issued = cn_date(b.issued)
    date_right = 4  # characters
    offset = max(0.0, (_width_chars(issued) - _width_chars(lh.signer)) / 2)
    sign = _para(doc, lh.signer, indent=0, align=WD_ALIGN_PARAGRAPH.RIGHT)
    sign.paragraph_format.right_indent = Pt(BODY_PT * (date_right + offset))
    day = _para(doc, issued, indent=0, align=WD_ALIGN_PARAGRAPH.RIGHT)
    day.paragraph_format.right_indent = Pt(BODY_PT * date_right)
    if lh.note:
        _para(doc, f"（{lh.note}）")  # 附注: 居左空二字加圆括号


def _annexes(doc: DocxDocument, b: Bulletin) -> None:
    """The 附件 on landscape pages: the ranking, a table per window, every deduction."""
    section = doc.add_section(WD_SECTION.NEW_PAGE)
    _layout(section, landscape=True)
    width = section.page_width.twips - section.left_margin.twips - section.right_margin.twips
    for i, (n, title) in enumerate(ANNEXES):
        if i:
            doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        _para(doc, f"附件{n}", font=HEITI, indent=0, align=WD_ALIGN_PARAGRAPH.LEFT)
        head = _para(doc, indent=0, align=WD_ALIGN_PARAGRAPH.CENTER, outline=0, grid=False)
        _run(head, f"{b.period_label}{title}", font=XIAOBIAOSONG, size=TITLE_PT)
        if n == 1:
            _table(doc, *parts.ranking(b), width)
            for note in parts.ranking_notes(b):
                _para(doc, note, size=TABLE_PT + 1.5, indent=0, align=WD_ALIGN_PARAGRAPH.LEFT)
            whole = [t for t in (parts.assessed(b), parts.assessed_staff(b)) if t is not None]
            if whole:  # the whole assessment (issue 18): categories, totals, 红旗, grades
                _para(doc, "综合考核", font=KAITI, indent=0, outline=1)
                for table in whole:
                    _table(doc, *table, width)
                for x in b.notices:
                    text = f"{x.name}（{x.subject}）：{x.kind}（{x.notice_period}）— {x.reason}"
                    _para(doc, text, size=TABLE_PT + 1.5, indent=0, align=WD_ALIGN_PARAGRAPH.LEFT)
        elif n == 2:
            for k, w in enumerate(b.windows, start=1):
                rank = f"，第{w.rank}名" if w.rank else ""
                _para(
                    doc,
                    f"（{k}）{w.name}（参评{len(w.staff)}人，得分{num(w.score)}，满分{num(w.max_points)}{rank}）",
                    font=KAITI,
                    indent=0,
                    outline=1,
                )
                header, rows = parts.staff(b, w)
                keep = [j for j, h in enumerate(header) if h != "窗口"]
                _table(doc, [header[j] for j in keep], [[r[j] for j in keep] for r in rows], width)
            if b.not_assessed:
                _para(doc, "未参评人员", font=KAITI, indent=0, outline=1)
                _table(doc, *parts.not_assessed(b), width)
        else:
            _para(
                doc,
                f"共{len(b.annex)}项，合计{num(b.annex_points)}分。人员得分按各政策的封顶、折算规则计算，可能小于明细合计。",
                size=TABLE_PT + 1.5,
                indent=0,
                align=WD_ALIGN_PARAGRAPH.LEFT,
            )
            _table(doc, *parts.annex(b), width)


def build_docx(b: Bulletin, lh: Letterhead | None = None) -> DocxDocument:
    """The bulletin as a python-docx document (``lh``: default, the centre with no 字号)."""
    lh = lh or _default_letterhead(b)
    doc = Document()
    _styles(doc)
    _font_table(doc)
    doc.settings.odd_and_even_pages_header_footer = True  # w:evenAndOddHeaders
    section = doc.sections[0]
    _layout(section)
    _page_number(section.footer, WD_ALIGN_PARAGRAPH.RIGHT)  # odd pages (and the first)
    _page_number(section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)
    body = doc.element.body
    for p in list(body.iterchildren(qn("w:p"))):  # the template's empty paragraph
        body.remove(p)
    _head(doc, b, lh)
    _body(doc, b, lh)
    _close(doc, b, lh)
    _annexes(doc, b)
    props = doc.core_properties
    props.title = f"关于{b.period_label}考勤情况的通报"
    props.subject = b.period.key
    props.author = lh.signer
    props.keywords = lh.number
    props.comments = f"attendd {b.rules_version}".strip()
    return doc


def write_docx(b: Bulletin, path: Path, *, letterhead: Letterhead | None = None) -> None:
    """Write ``b`` to ``path`` as an editable DOCX in the GB/T 9704 layout."""
    build_docx(b, letterhead).save(str(path))
