"""Importing the clerk's files (SPEC §4.3): roster, leave, exemptions, inspections, substitutions."""

from .parsers import KINDS, Parsed, parse_file, parse_rows
from .reader import HEADER_ALIASES, Table, read_table, read_table_bytes
from .service import ImportRefused, ImportReport, import_table

__all__ = [
    "HEADER_ALIASES",
    "KINDS",
    "ImportRefused",
    "ImportReport",
    "Parsed",
    "Table",
    "import_table",
    "parse_file",
    "parse_rows",
    "read_table",
    "read_table_bytes",
]
