"""Importing the clerk's files (SPEC §4.3): roster, leave, exemptions, inspections, substitutions."""

from .parsers import KINDS, Parsed, parse_file, parse_rows
from .reader import HEADER_ALIASES, Table, read_table

__all__ = ["HEADER_ALIASES", "KINDS", "Parsed", "Table", "parse_file", "parse_rows", "read_table"]
