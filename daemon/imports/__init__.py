"""Importing the clerk's files (SPEC §4.3): roster, leave, exemptions, inspections, substitutions."""

from .reader import HEADER_ALIASES, Table, read_table
from .records import KINDS, Parsed, parse_file, parse_rows

__all__ = ["HEADER_ALIASES", "KINDS", "Parsed", "Table", "parse_file", "parse_rows", "read_table"]
