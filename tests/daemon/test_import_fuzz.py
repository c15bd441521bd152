"""Issue 13: the clerk file readers never raise anything but a UserError, whatever the bytes.

Any bytes read as a CSV, and a real XLSX workbook with bytes overwritten (a damaged download),
give rows (each parsed or reported per line) or one :class:`UserError`, never another exception.
"""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daemon.errors import UserError
from daemon.imports.parsers import KINDS, check_columns, parse_rows
from daemon.imports.reader import read_table

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _read_and_parse(path, kind: str) -> None:
    try:
        table = read_table(path)
        check_columns(kind, table)
    except UserError as exc:
        assert str(exc).startswith(str(path)) and "\n" not in str(exc)
        return
    parsed = parse_rows(kind, table.rows, table.path, labels=table.headers, slots={"am_in"})
    assert len(parsed.rows) + len(parsed.problems) == parsed.read == len(table.rows)
    assert not any("cannot read this row" in p for p in parsed.problems)


_HEADERS = st.sampled_from(
    ["工号", "姓名", "窗口", "请假类型", "开始时间", "结束时间", "日期", "时段", "巡查时间", "类别"]
)


@FUZZ
@given(
    kind=st.sampled_from(KINDS),
    head=st.lists(_HEADERS, max_size=6, unique=True),
    body=st.binary(max_size=300),
)
def test_any_bytes_as_csv(tmp_path, kind, head, body):
    path = tmp_path / "f.csv"
    path.write_bytes(",".join(head).encode("utf-8") + b"\n" + body)
    _read_and_parse(path, kind)


def _workbook() -> bytes:
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["工号", "姓名", "窗口", "请假类型", "开始时间", "结束时间"])
    for i in range(5):
        ws.append([1000 + i, f"人{i}", "gongan", "事假", "2026-03-02 09:00", "2026-03-02 12:00"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


WORKBOOK = _workbook()


@FUZZ
@given(
    kind=st.sampled_from(("roster", "leaves")),
    damage=st.lists(st.tuples(st.integers(0, len(WORKBOOK) - 1), st.binary(min_size=1, max_size=8)), max_size=4),
    cut=st.integers(30, len(WORKBOOK)),
)
def test_a_damaged_xlsx(tmp_path, kind, damage, cut):
    data = bytearray(WORKBOOK)
    for at, junk in damage:
        data[at : at + len(junk)] = junk
    path = tmp_path / "f.xlsx"
    path.write_bytes(bytes(data[:cut]))
    _read_and_parse(path, kind)
