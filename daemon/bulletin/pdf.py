"""The PDF bulletin (reportlab), with a CJK TrueType font embedded as a subset.

Same parts as the HTML, in the same order, on A4 with the table headers repeated on every
page; a window starts a new page only when it does not fit the rest of the current one. Long cells
(reasons, evidence) wrap with CJK line breaking.
"""

from __future__ import annotations

from collections.abc import Set
from datetime import timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from . import labels, parts
from .fonts import find_cjk_font, register
from .labels import num
from .model import Bulletin


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=font, fontSize=9, leading=12, wordWrap="CJK")
    return {
        "title": ParagraphStyle(
            "title",
            base,
            fontSize=18,
            leading=24,
            alignment=TA_CENTER,
            textColor=colors.HexColor("#bb0000"),
            spaceAfter=4,
        ),
        "meta": ParagraphStyle("meta", base, alignment=TA_CENTER, textColor=colors.HexColor("#444444")),
        "h2": ParagraphStyle("h2", base, fontSize=13, leading=18, spaceBefore=10, spaceAfter=4),
        "h3": ParagraphStyle("h3", base, fontSize=11, leading=15, spaceBefore=6, spaceAfter=3),
        "body": base,
        "cell": ParagraphStyle("cell", base, fontSize=7.5, leading=9.5),
    }


def _esc(text: object) -> str:
    """reportlab paragraphs read a little markup: escape it like XML."""
    return escape(str(text))


#: Columns of the staff table a window's page leaves out (the window is its heading; the rest
#: are in the XLSX and the disqualification list) so that it fits A4 portrait.
_NOT_IN_WINDOW_PAGES = {"窗口", "满分", "原因", "等次说明"}


_fmt = labels.text  # one formatting of each value, shared with the HTML (issue 17)


def _columns(table: parts.Table, leave_out: Set[str]) -> parts.Table:
    """The table without the columns named in ``leave_out``."""
    header, rows = table
    keep = [i for i, h in enumerate(header) if h not in leave_out]
    return [header[i] for i in keep], [[r[i] for i in keep] for r in rows]


#: Rows per reportlab Table: splitting one long table across pages costs time quadratic in its
#: length (a year's annex of 37,000 lines took 98 s as one table); chunks keep it linear.
CHUNK = 120


def _table(
    header: list[str], rows: list[list[Any]], st: dict, widths: list[float] | None = None, wrap: Set[int] = frozenset()
) -> list[Table]:
    """The table as consecutive chunks, each with the header row (repeated on every page)."""
    cell = st["cell"]
    head = [Paragraph(_esc(h), cell) for h in header]
    body = [[Paragraph(_esc(_fmt(v)), cell) if i in wrap else _fmt(v) for i, v in enumerate(row)] for row in rows]
    return [
        _styled(Table([head] + body[i : i + CHUNK], colWidths=widths, repeatRows=1), cell.fontName)
        for i in range(0, max(len(body), 1), CHUNK)
    ]


def _styled(t: Table, font: str) -> Table:
    t.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), font, 7.5),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#888888")),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 2),
                ("RIGHTPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return t


def _chart(b: Bulletin, font: str) -> Drawing:
    ranked = b.ranking
    row = min(18.0, 160 * mm / max(len(ranked), 1))  # a big centre's chart still fits one page
    height = 30 + row * max(len(ranked), 1)
    d = Drawing(170 * mm, height)
    c = HorizontalBarChart()
    c.x, c.y, c.width, c.height = 90, 10, 160 * mm - 110, height - 20
    c.data = [[round(w.percent, 1) for w in reversed(ranked)] or [0]]
    c.categoryAxis.categoryNames = [w.name for w in reversed(ranked)] or [""]
    c.categoryAxis.labels.fontName = font
    c.categoryAxis.labels.fontSize = min(8.0, row * 0.8)
    c.barLabels.fontSize = min(7.0, row * 0.8)
    c.valueAxis.labels.fontName = font
    c.valueAxis.valueMin = 0
    c.valueAxis.valueMax = 100  # the share of each window's maximum: what the ranking compares
    c.bars[0].fillColor = colors.HexColor("#2e6da4")
    c.barLabelFormat = "%.1f%%"
    c.barLabels.fontName = font
    c.barLabels.nudge = 12
    d.add(c)
    return d


def write_pdf(b: Bulletin, path: Path, *, font_path: str | None = None, footer: str = "") -> None:
    font = register(find_cjk_font(font_path))
    st = _styles(font)
    last = b.period.end - timedelta(days=1)
    story: list[Any] = [
        Paragraph(_esc(b.title), st["title"]),
        Paragraph(
            _esc(
                f"统计期间：{b.period.start.isoformat()} 至 {last.isoformat()}　　发布日期：{b.issued.isoformat()}　　"
                + ("定稿" if b.final else "未定稿（数据可能变化）")
            ),
            st["meta"],
        ),
        Spacer(1, 4 * mm),
        Paragraph("概况", st["h2"]),
    ]
    t = b.totals()
    story.append(
        Paragraph(
            _esc(
                f"参评 {t['staff']} 人" + (f"（未参评 {t['not_assessed']} 人）" if t["not_assessed"] else "") + "；"
                f"迟到 {t['late']} 次，早退 {t['early']} 次，缺卡 {t['missing']} 次，旷工 {num(t['absent_days'])} 天；"
                f"扣分 {t['deductions']} 项，共 {num(t['points'])} 分；取消评优资格 {t['disqualified']} 人。"
            ),
            st["body"],
        )
    )
    story.append(_chart(b, font))
    story.append(Paragraph("一、考勤排名", st["h2"]))
    story += _table(*_columns(parts.ranking(b), {"窗口代码"}), st)  # a reader knows windows by name
    story += [Paragraph(_esc(n), st["cell"]) for n in parts.ranking_notes(b)]
    whole = [t for t in (parts.assessed(b), parts.assessed_staff(b)) if t is not None]
    if whole:  # the whole assessment (issue 18)
        story.append(Paragraph("综合考核", st["h2"]))
        # the categories (up to ten) do not fit a portrait page: they are in the XLSX and the HTML
        for table in whole:
            cols, rows = _columns(table, set(b.assessed_categories) | set(b.assessed_staff_categories))
            story += _table(cols, rows, st, wrap={1, len(cols) - 1})
        story.append(Paragraph(_esc("各类别得分见 XLSX 的“综合考核”表与 HTML 版。"), st["cell"]))
        for n in b.notices:
            story.append(
                Paragraph(_esc(f"{n.name}（{n.subject}）：{n.kind}（{n.notice_period}）— {n.reason}"), st["cell"])
            )
    story.append(Paragraph("二、各窗口考勤情况", st["h2"]))
    for i, w in enumerate(b.windows, start=1):
        rank = f"（考勤第 {w.rank} 名，{num(w.score)} 分{'，流动红旗' if w.red_flag else ''}）" if w.rank else ""
        section: list[Any] = [Paragraph(_esc(f"{i}. {w.name}{rank}"), st["h3"])]
        cols, rows = _columns(parts.staff(b, w), _NOT_IN_WINDOW_PAGES)
        section += (
            _table(cols, rows, st, wrap={1, len(cols) - 1}) if rows else [Paragraph("本期无参评人员。", st["body"])]
        )
        # a new page only when the window does not fit the rest of this one (a longer one splits)
        story.append(KeepTogether(section))
    story.append(PageBreak())
    story.append(Paragraph("三、取消评优资格及不得评优人员", st["h2"]))
    dq = parts.disqualified(b)
    story += (
        _table(*dq, st, widths=[28 * mm, 16 * mm, 20 * mm, 22 * mm, 96 * mm], wrap={0, 2, 4})
        if dq[1]
        else [Paragraph("本期无。", st["body"])]
    )
    story.append(Paragraph("四、未参评人员", st["h2"]))
    na = parts.not_assessed(b)
    story += (
        _table(*na, st, widths=[40 * mm, 20 * mm, 24 * mm, 98 * mm], wrap={0, 2, 3})
        if na[1]
        else [Paragraph("本期无。", st["body"])]
    )
    story.append(Paragraph("五、考勤设备同步情况", st["h2"]))
    dh, drows = _columns(parts.devices(b), {"方式"})
    story += _table(
        dh, drows, st, wrap={dh.index(h) for h in ("设备", "序列号", "无记录工作日", "隔离记录", "各方式同步")}
    )
    story.append(PageBreak())
    story.append(Paragraph("附件：扣分明细", st["h2"]))
    story.append(Paragraph(_esc(f"共 {len(b.annex)} 项，合计 {num(b.annex_points)} 分。"), st["body"]))
    if b.annex:
        ah, arows = parts.annex(b)
        keep = [0, 1, 2, 3, 4, 5, 7, 8]
        story += _table(
            [ah[i] for i in keep],
            [[r[i] for i in keep] for r in arows],
            st,
            widths=[24 * mm, 14 * mm, 16 * mm, 18 * mm, 16 * mm, 16 * mm, 11 * mm, 71 * mm],
            wrap={0, 2, 7},
        )
    if b.appeals:
        story.append(Paragraph("申诉处理情况", st["h2"]))
        story.append(
            Paragraph(
                _esc(f"共 {len(b.appeals)} 件。申诉成立的扣分已更正，不再列入上表；申诉中、已驳回的在上表中注明。"),
                st["body"],
            )
        )
        ph, prows = parts.appeals(b)
        keep = [0, 1, 2, 3, 4, 5, 6, 7, 9]
        story += _table(
            [ph[i] for i in keep],
            [[r[i] for i in keep] for r in prows],
            st,
            widths=[10 * mm, 22 * mm, 14 * mm, 16 * mm, 24 * mm, 36 * mm, 22 * mm, 16 * mm, 26 * mm],
            wrap={1, 4, 5, 6, 8},
        )
    story.append(Spacer(1, 6 * mm))
    story.append(Paragraph(_esc(f"由 attendd 生成；规则版本 {b.rules_version}。{footer}"), st["cell"]))

    def page(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.drawCentredString(A4[0] / 2, 8 * mm, f"{b.title}　第 {doc.page} 页")
        canvas.restoreState()

    doc = SimpleDocTemplate(
        str(path),
        pagesize=A4,
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=14 * mm,
        bottomMargin=14 * mm,
        title=b.title,
        author="attendd",
        subject=labels.period(b.period),
    )
    doc.build(story, onFirstPage=page, onLaterPages=page)
