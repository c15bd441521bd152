"""The XLSX bulletin (XlsxWriter): a sheet per part, frozen headers, real numbers and dates; for
a month, a daily sheet (每日考勤) per window after the staff table.

Column widths count CJK characters as two: Excel measures widths in
Latin digits, and a Chinese name in a column sized by character count is
cut in half.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from pathlib import Path

import xlsxwriter

from . import daily, labels
from .daily import DailyGrid
from .model import Bulletin
from .parts import PARTS


def display_width(value: object) -> int:
    """Width in Latin-digit units: East Asian wide and full-width characters count two."""
    text = (
        value.isoformat(sep=" ", timespec="minutes")
        if isinstance(value, datetime)
        else (value.isoformat() if isinstance(value, date) else ("" if value is None else str(value)))
    )
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def write_xlsx(b: Bulletin, path: Path) -> None:
    wb = xlsxwriter.Workbook(
        str(path),
        {
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "default_date_format": "yyyy-mm-dd",
        },
    )
    wb.set_properties({"title": b.title, "subject": b.period.key, "author": "attendd", "company": b.centre})
    head = wb.add_format({"bold": True, "bg_color": "#F1F1F1", "border": 1, "text_wrap": True, "valign": "top"})
    cell = wb.add_format({"border": 1, "valign": "top"})
    number = wb.add_format({"border": 1, "num_format": "0.##", "valign": "top"})
    day = wb.add_format({"border": 1, "num_format": "yyyy-mm-dd", "valign": "top"})
    stamp = wb.add_format({"border": 1, "num_format": "yyyy-mm-dd hh:mm", "valign": "top"})
    for name, build in PARTS:
        table = build(b)
        if table is None:  # a part the centre does not have (the whole assessment)
            continue
        header, rows = table
        ws = wb.add_worksheet(name)
        widths = [display_width(h) for h in header]
        for c, h in enumerate(header):
            ws.write_string(0, c, h, head)
        for r, row in enumerate(rows, start=1):
            for c, v in enumerate(row):
                if v is None:
                    ws.write_blank(r, c, None, cell)
                elif isinstance(v, bool):
                    ws.write_boolean(r, c, v, cell)
                elif isinstance(v, (int, float)):
                    ws.write_number(r, c, v, number)
                elif isinstance(v, datetime):
                    ws.write_datetime(r, c, v, stamp)
                elif isinstance(v, date):
                    ws.write_datetime(r, c, datetime.combine(v, datetime.min.time()), day)
                else:
                    ws.write_string(r, c, str(v), cell)
                widths[c] = max(widths[c], display_width(v))
        for c, w in enumerate(widths):
            ws.set_column(c, c, min(w + 2, 80))
        ws.freeze_panes(1, 0)
        if rows and name != "概况":
            ws.autofilter(0, 0, len(rows), len(header) - 1)
        ws.set_paper(9)  # A4
        ws.repeat_rows(0)
        ws.fit_to_pages(1, 0)
        if len(header) > 8:
            ws.set_landscape()
        if name == DAILY_AFTER:
            for section in b.windows:
                if section.daily is not None and section.daily.rows:
                    _daily_sheet(wb, b, section.name, section.daily, head, number)
    wb.close()


#: the daily sheets (每日考勤, one per window) come right after this part
DAILY_AFTER = "人员考勤"


def daily_sheet_name(wb: xlsxwriter.Workbook, window_name: str) -> str:
    """``每日-公安窗口``: at most 31 characters, none Excel refuses, unique in the workbook."""
    base = re.sub(r"[\[\]:*?/\\']", "", f"每日-{window_name}")[:31]
    name, n = base, 1
    taken = {ws.get_name() for ws in wb.worksheets()}
    while name in taken:
        n += 1
        name = f"{base[: 31 - len(str(n)) - 1]}-{n}"
    return name


def _daily_sheet(wb: xlsxwriter.Workbook, b: Bulletin, window_name: str, grid: DailyGrid, head, number) -> None:
    """A window's month, staff × day: a title, the colour legend, two header rows (day, weekday),
    a row per officer with a code a day (its detail as a cell comment) and the totals."""
    ws = wb.add_worksheet(daily_sheet_name(wb, window_name))
    base = {"border": 1, "align": "center", "valign": "vcenter"}
    by_kind = {k: wb.add_format({**base, **({"bg_color": c} if c else {})}) for k, c in daily.COLOURS.items()}
    centre_head = wb.add_format({"bold": True, "bg_color": "#F1F1F1", "border": 1, "align": "center"})
    ws.write_string(0, 0, f"{window_name} 每日考勤（{b.period_label}）", wb.add_format({"bold": True, "font_size": 13}))
    ws.write_string(1, 0, "图例", wb.add_format({"bold": True}))
    for k, (code, word, kind) in enumerate(daily.legend()):
        ws.write_string(1, 2 + 3 * k, code, by_kind[kind])
        ws.write_string(1, 3 + 3 * k, word)
    top, first = 3, 2
    last = first + len(grid.days)
    for c, h in enumerate(("工号", "姓名")):
        ws.merge_range(top, c, top + 1, c, h, head)
    for i, d in enumerate(grid.days):
        ws.write_number(top, first + i, d.day, centre_head)
        ws.write_string(top + 1, first + i, labels.WEEKDAYS[d.weekday()][-1], centre_head)
    for j, t in enumerate(daily.TOTALS):
        ws.merge_range(top, last + j, top + 1, last + j, t, head)
    name_w = 6
    for r, row in enumerate(grid.rows, start=top + 2):
        ws.write_string(r, 0, row.staff_no, by_kind["none"])
        ws.write_string(r, 1, row.name, by_kind["none"])
        name_w = max(name_w, display_width(row.name))
        for i, cell in enumerate(row.cells):
            ws.write_string(r, first + i, cell.code, by_kind[cell.kind])
            if cell.detail:
                ws.write_comment(r, first + i, f"{row.name} {grid.days[i].isoformat()}：{cell.detail}")
        for j, t in enumerate(daily.TOTALS):
            ws.write_number(r, last + j, row.totals[t], number)
    ws.set_column(0, 0, 8)
    ws.set_column(1, 1, name_w + 2)
    ws.set_column(first, last - 1, 3.6)
    ws.set_column(last, last + len(daily.TOTALS) - 1, 9)
    ws.freeze_panes(top + 2, first)
    ws.set_paper(9)
    ws.set_landscape()
    ws.repeat_rows(top, top + 1)
    ws.fit_to_pages(1, 0)
