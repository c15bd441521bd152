"""Text that a spreadsheet will show as text, never run as a formula.

A staff name, a note or a device name comes from a clerk's file or a
terminal; written to a CSV as ``=HYPERLINK(…)`` it would be a formula the
moment a leader opens the bulletin in Excel or WPS (OWASP's "CSV
injection"). Every CSV cell that holds text goes through
:func:`csv_text`, which follows OWASP's rule: a value beginning with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading
apostrophe, which spreadsheets show as text and do not display.

XLSX needs no such prefix: cells written with ``write_string`` are typed
as strings in the file and are never evaluated (a test checks this).
Numbers are never prefixed: ``-1.5`` written as a number stays a number.

A carriage return inside a cell must also be quoted, or the row splits in
two where a reader meets it: the csv module quotes only the characters of
its line terminator, so a writer ending lines in ``\n`` alone leaves a bare
``\r`` unquoted. :func:`csv_writer` quotes it whatever the terminator.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, TextIO

#: The first characters that make a spreadsheet read a cell as a formula (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value: str) -> str:
    """``value`` made safe to open in a spreadsheet (a leading ``'`` where it could be a formula)."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


class _Writer:
    """``csv.writer`` whose rows with a carriage return in a text cell are written fully quoted."""

    def __init__(self, out: TextIO, lineterminator: str) -> None:
        self._minimal = csv.writer(out, lineterminator=lineterminator)
        self._quoted = csv.writer(out, lineterminator=lineterminator, quoting=csv.QUOTE_ALL)

    def writerow(self, row: Iterable[Any]) -> None:
        cells = list(row)
        bare_cr = any(isinstance(c, str) and "\r" in c for c in cells)
        (self._quoted if bare_cr else self._minimal).writerow(cells)

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(out: TextIO, *, lineterminator: str = "\n") -> _Writer:
    """A CSV writer on ``out`` that keeps a cell holding ``\r`` in its row (see the module)."""
    return _Writer(out, lineterminator)
