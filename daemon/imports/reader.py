"""Reading the clerk's tables (SPEC §4.3): CSV (UTF-8, UTF-8 with BOM or GBK) or XLSX.

:func:`read_table` returns the normalised column names and the data rows as
``(line_no, {column: cell})``; a cell is text, or a number / date / datetime
straight from an XLSX workbook. Headers are stripped, lower-cased and mapped
through :data:`HEADER_ALIASES` (工号 → ``staff_no`` …), so the record parsers
see only the English column names.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..files import read_user_file

#: Chinese (and a few English) header aliases → the column names of SPEC §4.3.
HEADER_ALIASES: dict[str, str] = {
    "工号": "staff_no",
    "员工编号": "staff_no",
    "人员编号": "staff_no",
    "考勤号": "staff_no",
    "姓名": "name",
    "窗口": "window_code",
    "窗口编码": "window_code",
    "窗口代码": "window_code",
    "window": "window_code",
    "角色": "role",
    "岗位": "role",
    "窗口名称": "window_code",
    "所属窗口": "window_code",
    "身份": "role",
    "职务": "role",
    "起始日期": "active_from",
    "入驻日期": "active_from",
    "入职日期": "active_from",
    "到岗日期": "active_from",
    "离开日期": "active_to",
    "离岗日期": "active_to",
    "离职日期": "active_to",
    "调离日期": "active_to",
    "免考勤": "exempt",
    "是否免考勤": "exempt",
    "请假类型": "kind",
    "假别": "kind",
    "请假类别": "kind",
    "类型": "kind",
    "类别": "kind",
    "问题类型": "kind",
    "开始时间": "start",
    "请假开始时间": "start",
    "起始时间": "start",
    "结束时间": "end",
    "请假结束时间": "end",
    "截止时间": "end",
    "备注": "note",
    "说明": "note",
    "日期": "date",
    "day": "date",
    "时段": "slot",
    "打卡时段": "slot",
    "原因": "reason",
    "事由": "reason",
    "时间": "at",
    "巡查时间": "at",
    "检查时间": "at",
    "分钟": "minutes",
    "时长": "minutes",
    "顶岗人工号": "substitute_no",
    "顶岗人": "substitute_no",
    "被顶岗人工号": "covered_no",
    "被顶岗人": "covered_no",
    "开始日期": "start_date",
    "结束日期": "end_date",
    "作息": "timetable",
    "作息时间": "timetable",
    "作息表": "timetable",
    "班次": "timetable",
    "值班作息": "timetable",
    "值班日期": "date",
    "轮值人员": "staff",
    "值班人员": "staff",
    "星期": "weekdays",
    "每周": "weekdays",
    "适用日": "day_kinds",
    "适用日期": "day_kinds",
    "考核类别": "category",
    "考核大类": "category",
    "考核项目类别": "category",
    "category": "category",
    "考核项目": "item",
    "扣分事项": "item",
    "事项": "item",
    "分值": "points",
    "加减分": "points",
    "扣分分值": "points",
    "依据": "evidence",
    "证据": "evidence",
    "记录人": "recorded_by",
    "登记人": "recorded_by",
    "检查人": "recorded_by",
    "考核期": "period",
    "考核期间": "period",
    "期间": "period",
    "得分": "score",
    "编号": "ref",
    "单号": "ref",
    "id": "ref",
    "序号": "row_no",
}

_PAREN = re.compile(r"\s*[(（][^)）]*[)）]\s*$")  # "开始时间(YYYY-MM-DD HH:MM)" → "开始时间"


def clean_header(text: Any) -> str:
    """The header as the clerk wrote it, without marks: ``" *工号（必填）"`` → ``"工号"``."""
    s = "" if text is None else str(text)
    s = s.replace("\ufeff", "").strip().lstrip("*＊").strip()
    return " ".join(_PAREN.sub("", s).split())


def normalise_header(text: Any) -> str:
    """``" *工号（必填）"`` → ``"staff_no"``; unknown names are kept, stripped and lower-cased."""
    s = re.sub(r"\s+", "_", clean_header(text).lower())
    return HEADER_ALIASES.get(s, s)


def aliases_of(column: str) -> list[str]:
    """The accepted header names for ``column`` (for error messages)."""
    return [column] + [k for k, v in HEADER_ALIASES.items() if v == column and k != column]


@dataclass
class Table:
    """A clerk's table: its columns (normalised names), the header each came from, and the rows."""

    path: str
    columns: list[str]
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    #: column → the header as the file writes it (``"start"`` → ``"开始时间"``), for messages.
    headers: dict[str, str] = field(default_factory=dict)


def decode(data: bytes, path: str) -> str:
    """UTF-8 with BOM, UTF-8, else GBK (read as GB18030, its superset)."""
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UserError(
                f"{path}: has a UTF-8 byte-order mark but is not valid UTF-8 ({exc.reason} at byte {exc.start + 3})"
            ) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise UserError(f"{path}: cannot read the text: neither UTF-8 nor GBK (save it as UTF-8 CSV or XLSX)") from None


def _delimiter(text: str) -> str:
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    return "\t" if first.count("\t") > first.count(",") else ","


def _build(path: str, header: list[Any], body) -> Table:
    columns = [normalise_header(h) for h in header]
    seen: dict[str, int] = {}
    for i, c in enumerate(columns):
        if not c:
            continue
        if c in seen:
            a, b = header[seen[c]], header[i]
            raise UserError(f"{path}: columns {str(a).strip()!r} and {str(b).strip()!r} both mean {c!r}; keep one")
        seen[c] = i
    table = Table(path, [c for c in columns if c], headers={c: clean_header(header[i]) for c, i in seen.items()})
    for line_no, cells in body:
        if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
            continue  # a blank line is not a record
        row = {c: (cells[i] if i < len(cells) else None) for c, i in seen.items()}
        # cells beyond the header, or under a column without a header, belong to no column
        extra = [x for x in cells[len(columns) :] if x not in (None, "")]
        extra += [x for i, x in enumerate(cells[: len(columns)]) if not columns[i] and x not in (None, "")]
        if extra:
            row["__extra__"] = len(extra)
        table.rows.append((line_no, row))
    return table


def table_of(path: str, header: list[Any], body: list[tuple[int, list[Any]]]) -> Table:
    """A table from rows already split into cells (a form's one record): the same header rules."""
    return _build(path, header, body)


def read_csv_text(text: str, path: str) -> Table:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    body = []
    header: list[str] | None = None
    prev = 0
    try:
        for cells in reader:
            start, prev = prev + 1, reader.line_num
            if header is None:
                if not any(c.strip() for c in cells):
                    continue
                header = cells
                continue
            body.append((start, cells))
    except csv.Error as exc:
        raise UserError(f"{path}:{reader.line_num}: not valid CSV: {exc}") from None
    if header is None:
        raise UserError(f"{path}: empty file: no header row")
    return _build(path, header, body)


def read_xlsx(data: bytes, path: str) -> Table:
    try:
        from openpyxl import load_workbook
    except ImportError:  # pragma: no cover - a declared dependency
        raise UserError(f"{path}: reading XLSX needs openpyxl (pip install openpyxl)") from None
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise UserError(f"{path}: not a readable XLSX workbook: {type(exc).__name__}: {exc}".splitlines()[0]) from None
    try:
        if not wb.worksheets:
            raise UserError(f"{path}: the workbook has no sheets")
        ws = wb.worksheets[0]
        header = None
        body = []
        for line_no, cells in enumerate(ws.iter_rows(values_only=True), start=1):
            cells = list(cells)
            if header is None:
                if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                    continue
                header = cells
                continue
            body.append((line_no, cells))
    except UserError:
        raise
    except Exception as exc:  # a read-only workbook parses its sheet lazily: damage shows up here
        raise UserError(f"{path}: not a readable XLSX workbook: {type(exc).__name__}: {exc}".splitlines()[0]) from None
    finally:
        try:
            wb.close()
        except Exception:  # closing a damaged archive must not hide the message above
            pass
    if header is None:
        raise UserError(f"{path}: empty sheet: no header row")
    # Trailing empty header cells (a formatted but unused column) are not columns.
    while header and (header[-1] is None or str(header[-1]).strip() == ""):
        header.pop()
    return _build(path, header, body)


def read_table(path: str | Path, *, display: str | None = None) -> Table:
    """Read a CSV or XLSX file (detected by content, not by name)."""
    shown = display or str(path)
    return read_table_bytes(read_user_file(path, shown=shown), shown)


def read_table_bytes(data: bytes, shown: str) -> Table:
    """:func:`read_table` for bytes already read (an upload); ``shown`` names it in messages."""
    if data.startswith(b"PK\x03\x04"):
        return read_xlsx(data, shown)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise UserError(f"{shown}: an old Excel .xls workbook; save it as .xlsx or CSV")
    return read_csv_text(decode(data, shown), shown)
