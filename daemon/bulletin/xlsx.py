"""The XLSX bulletin (XlsxWriter): a sheet per part, frozen headers, real numbers and dates.

Column widths count CJK characters as two: Excel measures widths in
Latin digits, and a Chinese name in a column sized by character count is
cut in half.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from pathlib import Path

import xlsxwriter

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
        header, rows = build(b)
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
    wb.close()
