"""The CSV bulletin, for other tools: the staff table, plus one file per other part.

``-o result.csv`` writes ``result.csv`` (one row per officer) and beside it
``result-windows.csv``, ``result-deductions.csv`` and ``result-devices.csv``.
UTF-8 with a byte-order mark, which is what makes Excel on a Chinese
Windows open the file as UTF-8 rather than GBK.
"""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path

from ..spreadsheet import csv_text
from . import parts
from .model import Bulletin

SIBLINGS = (("windows", parts.ranking), ("deductions", parts.annex), ("devices", parts.devices))


def _cell(v: object) -> object:
    if isinstance(v, datetime):
        return v.isoformat(sep=" ", timespec="minutes")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, float):
        return f"{v:.4f}".rstrip("0").rstrip(".")
    if isinstance(v, str):
        return csv_text(v)  # a name like "=HYPERLINK(…)" stays text in Excel (daemon.spreadsheet)
    return "" if v is None else v


def csv_paths(path: Path) -> list[Path]:
    """Every file :func:`write_csv` writes for ``path``."""
    return [path] + [path.with_name(f"{path.stem}-{name}{path.suffix or '.csv'}") for name, _ in SIBLINGS]


def _write(path: Path, table: parts.Table) -> None:
    header, rows = table
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows([_cell(v) for v in row] for row in rows)


def write_csv(b: Bulletin, path: Path) -> None:
    main, *others = csv_paths(path)
    _write(main, parts.staff(b))
    for p, (_, build) in zip(others, SIBLINGS, strict=True):
        _write(p, build(b))
