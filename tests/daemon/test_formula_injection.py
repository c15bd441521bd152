"""Issue 13, point 7: a name that a spreadsheet would run as a formula stays text in every output.

Staff named ``=HYPERLINK("http://x","y")``, ``@SUM(A1)``, ``-1+2`` and ``+86 1<2&3`` come in through
``attendd import roster``; two more, beginning with a tab and a carriage return (the importer trims
those, an older store may hold them), are put into the store directly. A terminal named ``-hall``
with the serial ``=cmd|' /C calc'!A0`` brings their punches in through ``attendd import attlog``.
Then, through the command line:

* every CSV (the bulletin's four files, ``list staff``, ``punches``) starts those cells with an
  apostrophe (OWASP's CSV-injection rule), and no text cell starts with a formula character;
* every XLSX cell holding them is a typed string with the value unchanged, and no cell is a formula;
* the HTML escapes ``<`` and ``&``; the PDF is written.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from helpers import put_roster, run_cli, write_centre

from daemon.spreadsheet import FORMULA_STARTS, csv_text

IMPORTED = ('=HYPERLINK("http://x","y")', "@SUM(A1)", "-1+2", "+86 1<2&3")
STORED = ("\tTAB 名", "\rCR 名")  # what the roster importer would trim, but a store can hold
NAMES = IMPORTED + STORED
DEVICE, SERIAL = "-hall", "=cmd|' /C calc'!A0"
STAMP = datetime(2026, 4, 1, tzinfo=UTC)


def test_csv_text_prefixes_exactly_the_formula_starts():
    for name in NAMES:
        assert csv_text(name) == "'" + name
    for safe in ("张伟", "a=b", "1-2", " =1", "'=1", ""):
        assert csv_text(safe) == safe
    assert set(FORMULA_STARTS) == {"=", "+", "-", "@", "\t", "\r"}


@pytest.fixture
def centre(tmp_path, store):
    cfg = write_centre(
        tmp_path,
        extra=f'[[devices]]\nname = "{DEVICE}"\ndriver = "zk"\nhost = "127.0.0.1"\nserial = "{SERIAL}"\n',
    )
    roster = tmp_path / "花名册.csv"
    with roster.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["工号", "姓名", "窗口"])
        for no, name in enumerate(IMPORTED, start=1):
            w.writerow([no, name, "gongan" if no % 2 else "shuiwu"])
    ok(run_cli("--config", str(cfg), "import", "roster", str(roster)))
    put_roster(store, [("5", STORED[0], "gongan", "staff"), ("6", STORED[1], "shuiwu", "staff")], now_utc=STAMP)
    attlog = tmp_path / "1_attlog.dat"
    lines = [
        f"{no:>9}\t2026-03-{day:02d} {t}\t1\t0\t1\t0"
        for day in (2, 3, 4)
        for no in range(1, 7)
        for t in ("08:50:00", "12:01:00", "12:55:00", "17:05:00")
    ]
    attlog.write_text("\r\n".join(lines) + "\r\n", encoding="ascii")
    ok(run_cli("--config", str(cfg), "import", "attlog", str(attlog), f"--device={DEVICE}"))
    return cfg


def ooxml_text(value: str) -> str:
    """A cell's text with OOXML's ``_xHHHH_`` escapes decoded: XlsxWriter writes a carriage return
    as ``_x000D_`` (XML would turn a raw one into a line feed), Excel reads it back as ``\\r``,
    openpyxl leaves the escape as it is."""
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), value)


def ok(proc):
    assert proc.returncode == 0, proc.stderr
    return proc


def csv_cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def csv_file(path: str) -> list[list[str]]:
    """A bulletin CSV as a spreadsheet reads it: UTF-8 with BOM, a carriage return inside a cell kept."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def assert_no_formula_cell(rows: list[list[str]], where: str) -> None:
    """No cell a spreadsheet would read as a formula: each starts otherwise, or is a number."""
    for row in rows:
        for cell in row:
            if cell.startswith(FORMULA_STARTS):
                try:
                    float(cell)
                except ValueError:
                    pytest.fail(f"{where}: {cell!r} would be a formula")


def listed_names(cfg: Path) -> dict[str, str]:
    staff = csv_cells(ok(run_cli("--config", str(cfg), "list", "staff", "--format", "csv")).stdout)
    assert_no_formula_cell(staff, "list staff")
    head = staff[0]
    return {r[head.index("staff_no")]: r[head.index("name")] for r in staff[1:] if len(r) == len(head)}


def test_list_and_punches_csv_keep_names_and_devices_text(centre):
    got = listed_names(centre)
    for no, name in enumerate(NAMES[:-1], start=1):  # the carriage return: the next test
        assert got[str(no)] == "'" + name
    assert set(got) <= {str(no) for no in range(1, len(NAMES) + 1)}

    punches = csv_cells(ok(run_cli("--config", str(centre), "punches", "--format", "csv")).stdout)
    head = punches[0]
    assert len(punches) == 1 + 3 * 6 * 4
    assert {(r[head.index("device_name")], r[head.index("device_serial")]) for r in punches[1:]} == {
        ("'" + DEVICE, "'" + SERIAL)
    }
    assert_no_formula_cell(punches, "punches")


def test_a_carriage_return_in_a_name_stays_in_its_row_of_list_staff(centre):
    assert listed_names(centre)["6"] == "'" + STORED[1]


def test_every_bulletin_format_keeps_the_names_text(centre, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "out"
    out.mkdir()
    proc = run_cli("--config", str(centre), "bulletin", "--period", "2026-03", "--format", "all", "-o", f"{out}/")
    if proc.returncode == 1 and "font" in proc.stderr:
        pytest.skip(f"no CJK TrueType font for the PDF: {proc.stderr.strip()}")
    ok(proc)
    stem = out / "考勤通报-2026-03"

    # CSV: the staff table, the deductions and the devices, apostrophe first; nothing a formula
    for part in ("", "-windows", "-deductions", "-devices"):
        rows = csv_file(f"{stem}{part}.csv")
        assert_no_formula_cell(rows, f"bulletin{part}.csv")
    staff = csv_file(f"{stem}.csv")
    names = [r[staff[0].index("姓名")] for r in staff[1:]]
    assert sorted(names) == sorted("'" + n for n in NAMES)
    devices = csv_file(f"{stem}-devices.csv")
    assert devices[1][:2] == ["'" + DEVICE, "'" + SERIAL]
    deductions = csv_file(f"{stem}-deductions.csv")
    assert {r[deductions[0].index("姓名")] for r in deductions[1:]} <= {"'" + n for n in NAMES}

    # XLSX: typed strings, unchanged (no apostrophe); not one formula in the workbook
    wb = load_workbook(f"{stem}.xlsx")
    seen: dict[str, set[str]] = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{ws.title}!{cell.coordinate} is a formula: {cell.value!r}"
                value = ooxml_text(cell.value) if isinstance(cell.value, str) else cell.value
                if value in (*NAMES, DEVICE, SERIAL):
                    assert cell.data_type == "s", (ws.title, cell.coordinate, cell.data_type)
                    seen.setdefault(value, set()).add(ws.title)
    assert set(seen) == {*NAMES, DEVICE, SERIAL}, seen

    # HTML: escaped, never raw markup
    html = Path(f"{stem}.html").read_text(encoding="utf-8")
    assert "+86 1&lt;2&amp;3" in html and "1<2&3" not in html
    assert "@SUM(A1)" in html and "=HYPERLINK(&#34;http://x&#34;,&#34;y&#34;)" in html

    # PDF: written, and its text has the names as they are
    from pypdf import PdfReader

    text = "".join(page.extract_text() or "" for page in PdfReader(f"{stem}.pdf").pages)
    assert "@SUM(A1)" in text and "-1+2" in text


def test_csv_writer_keeps_a_carriage_return_in_its_cell():
    from daemon.spreadsheet import csv_writer

    out = io.StringIO()
    csv_writer(out).writerows([["6", csv_text(STORED[1]), 1.5], ["7", "张伟", -2]])
    assert out.getvalue() == '"6","\'\rCR 名","1.5"\n7,张伟,-2\n'
    assert csv_cells(out.getvalue()) == [["6", "'" + STORED[1], "1.5"], ["7", "张伟", "-2"]]
