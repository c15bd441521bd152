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
"""

from __future__ import annotations

#: The first characters that make a spreadsheet read a cell as a formula (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value: str) -> str:
    """``value`` made safe to open in a spreadsheet (a leading ``'`` where it could be a formula)."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value
