"""Rendering rows for people (rich tables) and for other tools (CSV, JSON); the lines a command says."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import date, datetime, tzinfo
from typing import Any, TextIO

from rich.table import Table

from ..clock import site_time
from ..console import console_for
from ..spreadsheet import csv_text, csv_writer


def say(text: str = "", *, err: bool = False, flush: bool = False) -> None:
    """One line for the user: on stdout, or on stderr with ``err`` (what ``print`` did)."""
    out = sys.stderr if err else sys.stdout
    out.write(f"{text}\n")
    if flush:
        out.flush()


def local_time(t: datetime | None, tz: tzinfo) -> str:
    """A stored instant as the site's local ``YYYY-MM-DD HH:MM``; empty for None."""
    if t is None:
        return ""
    return site_time(t, tz).strftime("%Y-%m-%d %H:%M")


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def _csv_cell(v: Any) -> str:
    # Text from clerks and terminals could be a formula in Excel (see daemon.spreadsheet).
    return csv_text(v) if isinstance(v, str) else _cell(v)


def _jsonable(v: Any) -> Any:
    if isinstance(v, (datetime, date)):
        return v.isoformat(sep=" ") if isinstance(v, datetime) else v.isoformat()
    return v


def render(
    rows: Sequence[dict],
    columns: Sequence[tuple[str, str]],
    fmt: str = "table",
    *,
    title: str | None = None,
    out: TextIO | None = None,
) -> None:
    """Write ``rows`` as a table, CSV or JSON; ``columns`` are (key, heading)."""
    out = out or sys.stdout
    if fmt == "csv":
        w = csv_writer(out)  # a "\r" inside a cell stays in its row
        w.writerow([k for k, _ in columns])
        for r in rows:
            w.writerow([_csv_cell(r.get(k)) for k, _ in columns])
        return
    if fmt == "json":
        json.dump(
            [{k: _jsonable(r.get(k)) for k, _ in columns} for r in rows],
            out,
            ensure_ascii=False,
            indent=1,
        )
        out.write("\n")
        return
    table = Table(title=title, show_lines=False, header_style="bold")
    for _, heading in columns:
        table.add_column(heading)
    for r in rows:
        table.add_row(*[_cell(r.get(k)) for k, _ in columns])
    console_for(out).print(table)
